"""Torch builders for convolutions (nn.ConvNd / nn.ConvTransposeNd), with padding resolved per axis.

Asymmetric or input-dependent ("same" with stride > 1) padding is applied with F.pad before an unpadded
convolution, in a subclass so that parameters keep their usual names (`weight`, `bias`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncalc.base.geometry import Geometry
from cnncalc.bridge.registry import BuildContext, builds
from cnncalc.kinds.conv import ConvSpec, ConvTransposeSpec, DepthwiseSpec, PointwiseSpec

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


def conv_module(geometry: Geometry, padding_mode: str = "zeros") -> nn.Module:
    """An nn.ConvNd for a resolved convolution; a pre-padding subclass when left and right padding differ."""
    rank = len(geometry.axes)
    common = dict(stride=geometry.stride, dilation=geometry.dilation, groups=geometry.groups, bias=geometry.bias)
    channels = (geometry.in_channels, geometry.out_channels, geometry.kernel)
    if geometry.symmetric:
        lefts = tuple(left for left, _ in geometry.padding)
        return _CONV[rank](*channels, padding=lefts, padding_mode=padding_mode, **common)
    pads = tuple(amount for left, right in reversed(geometry.padding) for amount in (left, right))
    return _PRE_PADDED[rank](*channels, padding=0, pads=pads, pad_mode=padding_mode, **common)


@builds("conv", "conv1d", "conv2d", "conv3d", "depthwise", "pointwise")
def build_conv(spec: ConvSpec | DepthwiseSpec | PointwiseSpec, context: BuildContext) -> nn.Module:
    # the engine resolved groups (a depthwise layer's are its input channels), padding and the 1x1 kernel
    return conv_module(context.window, getattr(spec, "padding_mode", "zeros"))


@builds("conv_transpose", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
def build_transposed(spec: ConvTransposeSpec, context: BuildContext) -> nn.Module:
    geometry = context.window
    return _TRANSPOSED[len(geometry.axes)](
        geometry.in_channels,
        geometry.out_channels,
        geometry.kernel,
        stride=geometry.stride,
        padding=tuple(left for left, _ in geometry.padding),
        output_padding=tuple(axis.output_padding for axis in geometry.axes),
        groups=geometry.groups,
        bias=geometry.bias,
        dilation=geometry.dilation,
    )
