"""Shape-preserving layers: normalization, activations, dropout, identity, layer scale.

None of these has MACs in the cnncalc convention (only convolutions, linear layers and matmuls count).
BatchNorm's running mean and variance are buffers, reported apart from parameters
(num_batches_tracked, a bookkeeping counter, is not counted).
"""

import math
from typing import Literal

from cnncalc.base.tensor import Tensor
from cnncalc.kinds.base import LayerError, LayerResult, LayerSchema, RuleContext, layer_kind, ranked_kinds
from cnncalc.kinds.fields import Epsilon, Positive, Probability
from cnncalc.kinds.shapes import format_shape, normalize_axis

# ---------------------------------------------------------------------------------------------- norms


class BatchNormSpec(LayerSchema):
    affine: bool = True
    track_running_stats: bool = True
    eps: Epsilon = 1e-5
    momentum: float | None = 0.1


class LayerNormSpec(LayerSchema):
    dims: Positive = 1  # how many trailing axes are normalized together
    channels_first: bool = False  # normalize over the channel axis of (B, C, *spatial), as ConvNeXt's LayerNorm2d
    elementwise_affine: bool = True
    bias: bool = True
    eps: Epsilon = 1e-5


class GroupNormSpec(LayerSchema):
    groups: Positive
    affine: bool = True
    eps: Epsilon = 1e-5


class InstanceNormSpec(LayerSchema):
    affine: bool = False
    track_running_stats: bool = False
    eps: Epsilon = 1e-5


def _channels_first(tensor: Tensor, kind: str) -> int:
    """The size of axis 1, which PyTorch's channel norms normalize whatever it held before (BatchNorm1d on
    a (B, N, D) token sequence normalizes the N axis)."""
    if tensor.rank < 2:
        raise LayerError(
            f"{kind} normalizes axis 1 as channels, but its input {format_shape(tensor.shape)} has no axis 1",
            "normalize a (batch, channels, ...) tensor",
        )
    return tensor.shape[1]


def _values_per_channel(tensor: Tensor) -> int:
    """Values a batch statistic averages per channel: batch x spatial sizes."""
    return tensor.numel // tensor.shape[1]


def _check_rank(tensor: Tensor, kind: str, ranks: tuple[int, ...], hint: str) -> None:
    if tensor.rank not in ranks:
        expected = " or ".join(f"{rank}-d" for rank in ranks)
        raise LayerError(f"{kind} expects a {expected} input (batch included), got {format_shape(tensor.shape)}", hint)


def _shape_with_channels_as_c(tensor: Tensor) -> str:
    """(1, C, 1, 1): a shape with the channel axis written as C."""
    sizes = ["C" if axis == 1 else str(size) for axis, size in enumerate(tensor.shape)]
    return "(" + ", ".join(sizes) + ")"


# Input ranks (batch included) each BatchNorm spelling takes: BatchNorm1d takes (B, C) and (B, C, L).
_BATCHNORM_RANKS = {None: (2, 3, 4, 5), 1: (2, 3), 2: (4,), 3: (5,)}


def _batchnorm_rule(kind: str, spatial_rank: int | None):
    ranks = _BATCHNORM_RANKS[spatial_rank]

    def rule(spec: BatchNormSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
        tensor = inputs[0]
        _check_rank(tensor, kind, ranks, "BatchNorm1d/2d/3d take (B, C), (B, C, L), (B, C, H, W), (B, C, D, H, W)")
        channels = _channels_first(tensor, kind)
        if _values_per_channel(tensor) == 1:
            # PyTorch refuses batch statistics over a single value (division by zero in the variance).
            if not spec.track_running_stats:
                raise LayerError(
                    f"{kind} without running statistics needs more than one value per channel; "
                    f"{format_shape(tensor.shape)} has one",
                    "use a batch > 1 or a larger feature map, or keep track_running_stats",
                )
            # The channel count is left out ("C") so that the same warning of many layers reads the same.
            ctx.warning(
                f"{kind}: one value per channel at {_shape_with_channels_as_c(tensor)}: fine at inference, but "
                "PyTorch refuses to train it (batch statistics need more than one value)",
                "train with a batch > 1",
            )
        return LayerResult(
            output=tensor,
            params=2 * channels if spec.affine else 0,
            buffers=2 * channels if spec.track_running_stats else 0,
        )

    return rule


ranked_kinds(
    "batchnorm",
    BatchNormSpec,
    _batchnorm_rule,
    family="normalization",
    summary="Batch normalization over axis 1 (1d/2d/3d from the input).",
    torch_name="BatchNorm",
    aliases=("bn",),
)


@layer_kind("layernorm", LayerNormSpec, family="normalization")
def layernorm(spec: LayerNormSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Layer normalization over the last `dims` axes, or over channels with channels_first (LayerNorm2d)."""
    tensor = inputs[0]
    if spec.channels_first:
        normalized = _channels_first(tensor, "layernorm (channels_first)")
    else:
        if spec.dims >= tensor.rank:
            raise LayerError(f"layernorm over {spec.dims} axes needs a tensor of rank > {spec.dims}")
        normalized = math.prod(tensor.shape[-spec.dims :])
    params = 0
    if spec.elementwise_affine:
        params = normalized * (2 if spec.bias else 1)
    return LayerResult(output=tensor, params=params)


@layer_kind("groupnorm", GroupNormSpec, family="normalization")
def groupnorm(spec: GroupNormSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Group normalization over channel groups."""
    tensor = inputs[0]
    channels = _channels_first(tensor, "groupnorm")
    if channels % spec.groups:
        ctx.error(f"groups={spec.groups} does not divide the {channels} channels", "pick a divisor of the channels")
    elif _values_per_channel(tensor) * channels // spec.groups == 1:
        raise LayerError(
            f"each group of {format_shape(tensor.shape)} holds a single value; PyTorch refuses that",
            "use fewer groups, a larger feature map or a larger batch",
        )
    return LayerResult(output=tensor, params=2 * channels if spec.affine else 0)


@layer_kind("instancenorm", InstanceNormSpec, family="normalization")
def instancenorm(spec: InstanceNormSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Instance normalization (per sample and channel)."""
    tensor = inputs[0]
    _check_rank(tensor, "instancenorm", (3, 4, 5), "InstanceNorm1d/2d/3d take (B, C, L), (B, C, H, W), (B, C, D, H, W)")
    channels = _channels_first(tensor, "instancenorm")
    if tensor.numel // (tensor.shape[0] * channels) == 1 and not spec.track_running_stats:
        raise LayerError(
            f"instancenorm needs more than one spatial element per channel; {format_shape(tensor.shape)} has one",
            "normalize a larger feature map, or use track_running_stats",
        )
    return LayerResult(
        output=tensor,
        params=2 * channels if spec.affine else 0,
        buffers=2 * channels if spec.track_running_stats else 0,
    )


# ----------------------------------------------------------------------------------------- activations


class ActivationSpec(LayerSchema):
    inplace: bool = False


class LeakyReluSpec(LayerSchema):
    negative_slope: float = 0.01
    inplace: bool = False


class EluSpec(LayerSchema):
    alpha: float = 1.0
    inplace: bool = False


class GeluSpec(LayerSchema):
    approximate: Literal["none", "tanh"] = "none"


class SoftmaxSpec(LayerSchema):
    dim: int = 1


class PreluSpec(LayerSchema):
    per_channel: bool = False  # one slope per channel instead of one shared slope
    init: float = 0.25


class HardtanhSpec(LayerSchema):
    min_val: float = -1.0
    max_val: float = 1.0
    inplace: bool = False


def _passthrough(spec: LayerSchema, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    return LayerResult(output=inputs[0])


def _hardtanh(spec: HardtanhSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    if spec.max_val <= spec.min_val:
        raise LayerError(
            f"hardtanh clamps to [min_val, max_val], but max_val {spec.max_val} is not greater than min_val "
            f"{spec.min_val}",
            "PyTorch's Hardtanh refuses this; swap the two, or make max_val larger",
        )
    return _passthrough(spec, inputs, ctx)


# The activations that only pass their input's shape on, with their formulas (the summary `cnncalc kinds` shows);
# those with options have a schema of their own, the others take `inplace` like ReLU (or nothing, as Tanh).
_ACTIVATION_FORMULAS = """
relu          max(0, x)
relu6         min(max(0, x), 6)
leaky_relu    x if x > 0 else negative_slope * x
elu           x if x > 0 else alpha * (exp(x) - 1)
gelu          x * Phi(x); approximate: none or tanh
silu          x * sigmoid(x) (swish)
mish          x * tanh(softplus(x))
sigmoid       1 / (1 + exp(-x))
hardsigmoid   relu6(x + 3) / 6
hardswish     x * relu6(x + 3) / 6
hardtanh      clamp(x, min_val, max_val)
tanh          tanh(x)
"""
_ACTIVATION_SCHEMAS: dict[str, type[LayerSchema]] = {
    "leaky_relu": LeakyReluSpec,
    "elu": EluSpec,
    "gelu": GeluSpec,
    "hardtanh": HardtanhSpec,
    "sigmoid": LayerSchema,
    "tanh": LayerSchema,
}
for _line in _ACTIVATION_FORMULAS.strip().splitlines():
    _name, _formula = _line.split(maxsplit=1)
    layer_kind(
        _name,
        _ACTIVATION_SCHEMAS.get(_name, ActivationSpec),
        family="activation",
        summary=f"Activation: {_formula}.",
        aliases=("swish",) if _name == "silu" else (),
    )(_hardtanh if _name == "hardtanh" else _passthrough)


@layer_kind("softmax", SoftmaxSpec, family="activation")
def softmax(spec: SoftmaxSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Activation: exp(x) / sum(exp(x)) along dim (default 1)."""
    normalize_axis(spec.dim, inputs[0].rank)
    return LayerResult(output=inputs[0])


@layer_kind("prelu", PreluSpec, family="activation")
def prelu(spec: PreluSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Parametric ReLU: one learned slope, or one per channel."""
    tensor = inputs[0]
    if not spec.per_channel:
        return LayerResult(output=tensor, params=1)
    if tensor.rank < 2:
        raise LayerError("prelu with per_channel needs a channel axis at position 1")
    return LayerResult(output=tensor, params=tensor.shape[1])


# ----------------------------------------------------------------------------------------------- other


class DropoutSpec(LayerSchema):
    p: Probability = 0.5
    inplace: bool = False


class StochasticDepthSpec(LayerSchema):
    p: Probability
    mode: Literal["row", "batch"] = "row"


class LayerScaleSpec(LayerSchema):
    init: float = 1e-6
    # The axis scaled; default: the input's channel axis (axis 1 of a feature map, D of a token sequence).
    dim: int | None = None


layer_kind(
    "dropout", DropoutSpec, family="regularization", summary="Dropout (identity at inference).", does_work=False
)(_passthrough)
layer_kind(
    "stochastic_depth",
    StochasticDepthSpec,
    family="regularization",
    summary="Stochastic depth: drops a residual branch per sample during training (identity at inference).",
    does_work=False,
)(_passthrough)
layer_kind("identity", LayerSchema, family="structure", summary="Passes its input through unchanged.", does_work=False)(
    _passthrough
)


@layer_kind("layer_scale", LayerScaleSpec, family="structure", pytorch_module=False)
def layer_scale(spec: LayerScaleSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Learned per-channel scale (ConvNeXt): C parameters multiplying the channel axis (or axis `dim`)."""
    tensor = inputs[0]
    return LayerResult(output=tensor, params=tensor.shape[scaled_axis(spec, tensor)])


def scaled_axis(spec: LayerScaleSpec, tensor: Tensor) -> int:
    """The axis a layer_scale multiplies: `dim` when given, else the channel axis the engine tracked."""
    if spec.dim is not None:
        axis = normalize_axis(spec.dim, tensor.rank)
        if axis == 0:
            raise LayerError("layer_scale cannot scale the batch axis", "give the channel axis, e.g. dim: 1 or -1")
        return axis
    if tensor.channel_axis is None:
        raise LayerError(
            f"layer_scale: which axis of {format_shape(tensor.shape)} holds the channels is not known here "
            "(a reshape or merge left it open)",
            "say which axis it scales, e.g. `dim: -1` for a (batch, tokens, dim) sequence or `dim: 1` for a "
            "feature map, or name the axes with the reshape's `roles:`",
        )
    return tensor.channel_axis
