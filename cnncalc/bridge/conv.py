"""Torch builders for convolutions (nn.ConvNd / nn.ConvTransposeNd), with padding resolved per axis.

Asymmetric or input-dependent ("same" with stride > 1) padding is applied with F.pad before an unpadded
convolution, in a subclass so that parameters keep their usual names (`weight`, `bias`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncalc.bridge.registry import BuildContext, builds
from cnncalc.kinds.base import per_axis
from cnncalc.kinds.conv import ConvSpec, ConvTransposeSpec, DepthwiseSpec, PointwiseSpec, resolve_padding

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_TRANSPOSED = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}


def _pre_padded(base: type[nn.Module]) -> type[nn.Module]:
    class PrePadded(base):  # type: ignore[misc, valid-type]
        """A convolution that pads its input explicitly first (left/right amounts may differ)."""

        def __init__(self, *args, pads: tuple[int, ...], pad_mode: str, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.pads = pads  # F.pad order: last axis first, (left, right) each
            self.pad_mode = "constant" if pad_mode == "zeros" else pad_mode

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(F.pad(x, self.pads, mode=self.pad_mode))

    PrePadded.__name__ = f"PrePadded{base.__name__}"
    return PrePadded


_PRE_PADDED = {rank: _pre_padded(cls) for rank, cls in _CONV.items()}


def conv_module(
    context: BuildContext,
    out_channels: int,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[tuple[int, int], ...],
    dilation: tuple[int, ...],
    groups: int,
    bias: bool,
    padding_mode: str = "zeros",
) -> nn.Module:
    rank = len(kernel)
    in_channels = context.input_shape[1]
    common = dict(stride=stride, dilation=dilation, groups=groups, bias=bias)
    if all(left == right for left, right in padding):
        return _CONV[rank](
            in_channels,
            out_channels,
            kernel,
            padding=tuple(left for left, _ in padding),
            padding_mode=padding_mode,
            **common,
        )
    pads = tuple(amount for left, right in reversed(padding) for amount in (left, right))
    return _PRE_PADDED[rank](in_channels, out_channels, kernel, padding=0, pads=pads, pad_mode=padding_mode, **common)


@builds("conv", "conv1d", "conv2d", "conv3d")
def build_conv(spec: ConvSpec, context: BuildContext) -> nn.Module:
    rank = len(context.spatial)
    kernel = per_axis(spec.kernel, rank, "kernel")
    stride = per_axis(spec.stride, rank, "stride")
    dilation = per_axis(spec.dilation, rank, "dilation")
    padding = resolve_padding(spec.padding, context.spatial, kernel, stride, dilation)
    return conv_module(context, spec.out, kernel, stride, padding, dilation, spec.groups, spec.bias, spec.padding_mode)


@builds("depthwise")
def build_depthwise(spec: DepthwiseSpec, context: BuildContext) -> nn.Module:
    rank = len(context.spatial)
    channels = context.input_shape[1]
    kernel = per_axis(spec.kernel, rank, "kernel")
    stride = per_axis(spec.stride, rank, "stride")
    dilation = per_axis(spec.dilation, rank, "dilation")
    padding = resolve_padding(spec.padding, context.spatial, kernel, stride, dilation)
    out = channels * spec.multiplier
    return conv_module(context, out, kernel, stride, padding, dilation, channels, spec.bias, spec.padding_mode)


@builds("pointwise")
def build_pointwise(spec: PointwiseSpec, context: BuildContext) -> nn.Module:
    rank = len(context.spatial)
    ones = (1,) * rank
    stride = per_axis(spec.stride, rank, "stride")
    return conv_module(context, spec.out, ones, stride, ((0, 0),) * rank, ones, spec.groups, spec.bias)


@builds("conv_transpose", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
def build_transposed(spec: ConvTransposeSpec, context: BuildContext) -> nn.Module:
    rank = len(context.spatial)
    return _TRANSPOSED[rank](
        context.input_shape[1],
        spec.out,
        per_axis(spec.kernel, rank, "kernel"),
        stride=per_axis(spec.stride, rank, "stride"),
        padding=per_axis(spec.padding, rank, "padding"),
        output_padding=per_axis(spec.output_padding, rank, "output_padding"),
        groups=spec.groups,
        bias=spec.bias,
        dilation=per_axis(spec.dilation, rank, "dilation"),
    )
