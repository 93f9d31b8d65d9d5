"""What a layer does along each spatial axis, read back from the engine's row: kernel, stride, padding.

The explanations need the resolved numbers (a `padding: same` turned into left/right pairs, a depthwise
layer's groups); they are resolved here with the engine's own helpers, never re-derived.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnncalc.base.arithmetic import effective_kernel
from cnncalc.base.tensor import IDENTITY_FIELD, AxisField
from cnncalc.engine.result import AnalysisResult, LayerRow
from cnncalc.kinds.base import per_axis
from cnncalc.kinds.conv import resolve_padding

CONV_KINDS = frozenset({"conv", "conv1d", "conv2d", "conv3d", "depthwise", "pointwise"})
TRANSPOSED_KINDS = frozenset({"conv_transpose", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"})
POOL_KINDS = frozenset(f"{mode}pool{suffix}" for mode in ("max", "avg") for suffix in ("", "1d", "2d", "3d"))
BATCHNORM_KINDS = frozenset({"batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d"})


@dataclass(frozen=True)
class AxisWindow:
    """A sliding window along one axis: input size n, kernel k, stride s, padding left/right, dilation d."""

    size: int
    kernel: int
    stride: int
    pad_left: int
    pad_right: int
    dilation: int = 1

    @property
    def effective_kernel(self) -> int:
        return effective_kernel(self.kernel, self.dilation)


@dataclass(frozen=True)
class ConvGeometry:
    in_channels: int
    out_channels: int
    groups: int
    bias: bool
    axes: tuple[AxisWindow, ...]


def input_shape_of(result: AnalysisResult, row: LayerRow) -> tuple[int, ...]:
    """The shape a row reads (its first input)."""
    source = row.input_indices[0]
    return result.input_shape if source < 0 else result.layers[source].output_shape


def input_field_of(result: AnalysisResult, row: LayerRow) -> tuple[AxisField, ...] | None:
    """The receptive field of the units a row reads, or None where the engine tracks none."""
    source = row.input_indices[0]
    if source < 0:
        return tuple(IDENTITY_FIELD for _ in result.input_shape[2:])
    previous = result.layers[source]
    return None if previous.global_field else previous.field


def conv_geometry(row: LayerRow, in_shape: tuple[int, ...]) -> ConvGeometry:
    """Channels, groups, bias and per-axis windows of a conv, depthwise or pointwise row."""
    spec = row.spec
    spatial = in_shape[2:]
    rank = len(spatial)
    in_channels = in_shape[1]
    if row.kind == "pointwise":
        kernels = dilations = (1,) * rank
        strides = per_axis(spec.stride, rank, "stride")
        padding = ((0, 0),) * rank
        out_channels, groups = spec.out, spec.groups
    else:
        kernels = per_axis(spec.kernel, rank, "kernel")
        strides = per_axis(spec.stride, rank, "stride")
        dilations = per_axis(spec.dilation, rank, "dilation")
        padding = resolve_padding(spec.padding, spatial, kernels, strides, dilations)
        if row.kind == "depthwise":
            out_channels, groups = in_channels * spec.multiplier, in_channels
        else:
            out_channels, groups = spec.out, spec.groups
    axes = tuple(
        AxisWindow(size, kernel, stride, left, right, dilation)
        for size, kernel, stride, (left, right), dilation in zip(
            spatial, kernels, strides, padding, dilations, strict=True
        )
    )
    return ConvGeometry(in_channels, out_channels, groups, spec.bias, axes)


def pool_windows(row: LayerRow, in_shape: tuple[int, ...]) -> tuple[AxisWindow, ...]:
    spec = row.spec
    rank = len(in_shape) - 2
    kernels = per_axis(spec.kernel, rank, "kernel")
    strides = per_axis(spec.stride if spec.stride is not None else spec.kernel, rank, "stride")
    paddings = per_axis(spec.padding, rank, "padding")
    dilations = per_axis(getattr(spec, "dilation", 1), rank, "dilation")
    return tuple(
        AxisWindow(size, kernel, stride, pad, pad, dilation)
        for size, kernel, stride, pad, dilation in zip(in_shape[2:], kernels, strides, paddings, dilations, strict=True)
    )


def transposed_windows(row: LayerRow, in_shape: tuple[int, ...]) -> tuple[tuple[AxisWindow, int], ...]:
    """Per axis: the window (padding as given, applied on both sides) and the output_padding."""
    spec = row.spec
    rank = len(in_shape) - 2
    kernels = per_axis(spec.kernel, rank, "kernel")
    strides = per_axis(spec.stride, rank, "stride")
    paddings = per_axis(spec.padding, rank, "padding")
    output_paddings = per_axis(spec.output_padding, rank, "output_padding")
    dilations = per_axis(spec.dilation, rank, "dilation")
    return tuple(
        (AxisWindow(size, kernel, stride, pad, pad, dilation), extra)
        for size, kernel, stride, pad, extra, dilation in zip(
            in_shape[2:], kernels, strides, paddings, output_paddings, dilations, strict=True
        )
    )


def patch_windows(row: LayerRow, in_shape: tuple[int, ...]) -> tuple[AxisWindow, ...]:
    rank = len(in_shape) - 2
    patches = per_axis(row.spec.patch, rank, "patch")
    return tuple(AxisWindow(size, patch, patch, 0, 0) for size, patch in zip(in_shape[2:], patches, strict=True))


def windows_of(row: LayerRow, in_shape: tuple[int, ...]) -> tuple[AxisWindow, ...] | None:
    """The sliding windows of a row that moves along its spatial axes, or None for other rows."""
    if row.kind in CONV_KINDS:
        return conv_geometry(row, in_shape).axes
    if row.kind in POOL_KINDS:
        return pool_windows(row, in_shape)
    if row.kind == "patch_embed":
        return patch_windows(row, in_shape)
    return None
