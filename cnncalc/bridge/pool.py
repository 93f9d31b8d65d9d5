"""Torch builders for pooling."""

from __future__ import annotations

import torch
from torch import nn

from cnncalc.base.geometry import Geometry
from cnncalc.bridge.registry import BuildContext, builds
from cnncalc.kinds.pool import AdaptivePoolSpec, AvgPoolSpec, GlobalPoolSpec, MaxPoolSpec
from cnncalc.kinds.shapes import per_axis

_MAX = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
_AVG = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}
_ADAPTIVE_AVG = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d}
_ADAPTIVE_MAX = {1: nn.AdaptiveMaxPool1d, 2: nn.AdaptiveMaxPool2d, 3: nn.AdaptiveMaxPool3d}


def _window(geometry: Geometry) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Kernel, stride (the engine applied PyTorch's default, the kernel) and padding per axis."""
    return geometry.kernel, geometry.stride, tuple(left for left, _ in geometry.padding)


@builds("maxpool", "maxpool1d", "maxpool2d", "maxpool3d")
def build_maxpool(spec: MaxPoolSpec, context: BuildContext) -> nn.Module:
    geometry = context.window
    kernel, stride, padding = _window(geometry)
    return _MAX[len(kernel)](kernel, stride, padding, geometry.dilation, ceil_mode=geometry.ceil_mode)


@builds("avgpool", "avgpool1d", "avgpool2d", "avgpool3d")
def build_avgpool(spec: AvgPoolSpec, context: BuildContext) -> nn.Module:
    kernel, stride, padding = _window(context.window)
    options = dict(ceil_mode=spec.ceil_mode, count_include_pad=spec.count_include_pad)
    if len(kernel) > 1:  # AvgPool1d has no divisor_override
        options["divisor_override"] = spec.divisor_override
    return _AVG[len(kernel)](kernel, stride, padding, **options)


def _adaptive_size(spec: AdaptivePoolSpec, context: BuildContext) -> tuple[int, ...]:
    """Output size per axis, `null` (keep the axis) replaced by the input size: the 1-d modules refuse None."""
    wanted = per_axis(spec.output_size, len(context.spatial), "output_size")  # type: ignore[arg-type]
    return tuple(size if want is None else want for size, want in zip(context.spatial, wanted, strict=True))


@builds("adaptive_avgpool", "adaptive_avgpool1d", "adaptive_avgpool2d", "adaptive_avgpool3d")
def build_adaptive_avg(spec: AdaptivePoolSpec, context: BuildContext) -> nn.Module:
    return _ADAPTIVE_AVG[len(context.spatial)](_adaptive_size(spec, context))


@builds("adaptive_maxpool", "adaptive_maxpool1d", "adaptive_maxpool2d", "adaptive_maxpool3d")
def build_adaptive_max(spec: AdaptivePoolSpec, context: BuildContext) -> nn.Module:
    return _ADAPTIVE_MAX[len(context.spatial)](_adaptive_size(spec, context))


class GlobalPool(nn.Module):
    """Mean or max over every spatial axis."""

    def __init__(self, mode: str, keepdim: bool) -> None:
        super().__init__()
        self.mode = mode
        self.keepdim = keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        axes = tuple(range(2, x.dim()))
        if self.mode == "avg":
            return x.mean(dim=axes, keepdim=self.keepdim)
        return x.amax(dim=axes, keepdim=self.keepdim)


@builds("global_avgpool")
def build_global_avg(spec: GlobalPoolSpec, context: BuildContext) -> nn.Module:
    return GlobalPool("avg", spec.keepdim)


@builds("global_maxpool")
def build_global_max(spec: GlobalPoolSpec, context: BuildContext) -> nn.Module:
    return GlobalPool("max", spec.keepdim)
