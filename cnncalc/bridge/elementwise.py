"""Torch builders for normalization, activations, dropout, identity and layer scale."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncalc.bridge.registry import BuildContext, Run, builds, functional_form
from cnncalc.kinds.base import LayerSchema
from cnncalc.kinds.elementwise import (
    BatchNormSpec,
    DropoutSpec,
    EluSpec,
    GeluSpec,
    GroupNormSpec,
    HardtanhSpec,
    InstanceNormSpec,
    LayerNormSpec,
    LayerScaleSpec,
    LeakyReluSpec,
    PreluSpec,
    SoftmaxSpec,
    StochasticDepthSpec,
)
from cnncalc.kinds.uncounted import UncountedSpec

_BATCHNORM = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}
_INSTANCENORM = {3: nn.InstanceNorm1d, 4: nn.InstanceNorm2d, 5: nn.InstanceNorm3d}


@builds("batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d")
def build_batchnorm(spec: BatchNormSpec, context: BuildContext) -> nn.Module:
    shape = context.input_shape
    return _BATCHNORM[len(shape)](
        shape[1],
        eps=spec.eps,
        momentum=spec.momentum,
        affine=spec.affine,
        track_running_stats=spec.track_running_stats,
    )


class ChannelsFirstLayerNorm(nn.LayerNorm):
    """LayerNorm over the channel axis of (B, C, *spatial), as ConvNeXt's LayerNorm2d."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        moved = x.movedim(1, -1)
        return super().forward(moved).movedim(-1, 1)


@builds("layernorm")
def build_layernorm(spec: LayerNormSpec, context: BuildContext) -> nn.Module:
    shape = context.input_shape
    options = dict(eps=spec.eps, elementwise_affine=spec.elementwise_affine, bias=spec.bias)
    if spec.channels_first:
        return ChannelsFirstLayerNorm(shape[1], **options)
    return nn.LayerNorm(shape[-spec.dims :], **options)


@builds("groupnorm")
def build_groupnorm(spec: GroupNormSpec, context: BuildContext) -> nn.Module:
    return nn.GroupNorm(spec.groups, context.input_shape[1], eps=spec.eps, affine=spec.affine)


@builds("instancenorm")
def build_instancenorm(spec: InstanceNormSpec, context: BuildContext) -> nn.Module:
    shape = context.input_shape
    return _INSTANCENORM[len(shape)](
        shape[1], eps=spec.eps, affine=spec.affine, track_running_stats=spec.track_running_stats
    )


_SIMPLE_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "silu": nn.SiLU,
    "mish": nn.Mish,
    "hardsigmoid": nn.Hardsigmoid,
    "hardswish": nn.Hardswish,
}


def _simple(kind: str):
    def build(spec: LayerSchema, context: BuildContext) -> nn.Module:
        return _SIMPLE_ACTIVATIONS[kind](inplace=getattr(spec, "inplace", False))

    return build


for _kind in _SIMPLE_ACTIVATIONS:
    builds(_kind)(_simple(_kind))


@functional_form("relu6")
def relu6_function(module: nn.Module, spec: LayerSchema, context: BuildContext) -> Run:
    """PyTorch code writes F.relu6(x); the module nn.ReLU6 calls F.hardtanh(x, 0, 6) instead."""
    inplace = bool(getattr(spec, "inplace", False))
    return lambda x: F.relu6(x, inplace=inplace)


@builds("sigmoid")
def build_sigmoid(spec: LayerSchema, context: BuildContext) -> nn.Module:
    return nn.Sigmoid()


@builds("tanh")
def build_tanh(spec: LayerSchema, context: BuildContext) -> nn.Module:
    return nn.Tanh()


@builds("leaky_relu")
def build_leaky_relu(spec: LeakyReluSpec, context: BuildContext) -> nn.Module:
    return nn.LeakyReLU(spec.negative_slope, inplace=spec.inplace)


@builds("elu")
def build_elu(spec: EluSpec, context: BuildContext) -> nn.Module:
    return nn.ELU(spec.alpha, inplace=spec.inplace)


@builds("gelu")
def build_gelu(spec: GeluSpec, context: BuildContext) -> nn.Module:
    return nn.GELU(approximate=spec.approximate)


@builds("hardtanh")
def build_hardtanh(spec: HardtanhSpec, context: BuildContext) -> nn.Module:
    return nn.Hardtanh(spec.min_val, spec.max_val, inplace=spec.inplace)


@builds("softmax")
def build_softmax(spec: SoftmaxSpec, context: BuildContext) -> nn.Module:
    return nn.Softmax(dim=spec.dim)


@builds("prelu")
def build_prelu(spec: PreluSpec, context: BuildContext) -> nn.Module:
    count = context.input_shape[1] if spec.per_channel else 1
    return nn.PReLU(num_parameters=count, init=spec.init)


@builds("dropout")
def build_dropout(spec: DropoutSpec, context: BuildContext) -> nn.Module:
    return nn.Dropout(spec.p, inplace=spec.inplace)


class StochasticDepth(nn.Module):
    """Drops the whole input per sample ("row") or per batch during training; identity at inference."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        shape = [x.shape[0]] + [1] * (x.dim() - 1) if self.mode == "row" else [1] * x.dim()
        noise = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x * noise / keep


@builds("stochastic_depth")
def build_stochastic_depth(spec: StochasticDepthSpec, context: BuildContext) -> nn.Module:
    return StochasticDepth(spec.p, spec.mode)


@builds("identity")
def build_identity(spec: LayerSchema, context: BuildContext) -> nn.Module:
    return nn.Identity()


class LayerScale(nn.Module):
    """A learned scale per channel, shaped to broadcast along the channel axis."""

    def __init__(self, shape: tuple[int, ...], init: float) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.full(shape, init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


@builds("layer_scale")
def build_layer_scale(spec: LayerScaleSpec, context: BuildContext) -> nn.Module:
    shape = context.input_shape
    # An explicit `dim` is PyTorch's axis; without it, the channel axis the engine tracked (and refuses
    # layer_scale where it does not know one).
    axis = spec.dim % len(shape) if spec.dim is not None else context.channel_axes[0]
    assert axis is not None
    trailing = len(shape) - axis - 1
    return LayerScale((shape[axis], *([1] * trailing)), spec.init)


class Uncounted(nn.Module):
    """Stands for an operation cnncalc has no kind for: zeros of the traced shape, no parameters, no work."""

    def __init__(self, shape: tuple[int, ...], params: int, buffers: int) -> None:
        super().__init__()
        self.shape = shape
        # the parameters and buffers the operation reads, held so that the module's counts are the model's
        self.weight = nn.Parameter(torch.zeros(params)) if params else None
        self.register_buffer("table", torch.zeros(buffers, dtype=torch.long) if buffers else None)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        first = inputs[0]
        return first.new_zeros((first.shape[0], *self.shape))


@builds("uncounted")
def build_uncounted(spec: UncountedSpec, context: BuildContext) -> nn.Module:
    return Uncounted(tuple(context.output_shape[1:]), spec.params, spec.buffers)
