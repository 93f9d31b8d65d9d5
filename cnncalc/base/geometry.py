"""What a windowed layer does along each spatial axis, resolved once by its rule and carried in the result.

A convolution's `padding: same`, a depthwise layer's groups, a pooling layer's default stride, a patch
embedding's stride equal to its patch: each rule resolves them into numbers per axis, and everyone who needs
them (the torch builders, the peer conventions, the calculators' explanations, the table's columns) reads
them here instead of working them out again from the fields.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from cnncalc.base.arithmetic import effective_kernel


class Window(enum.Enum):
    """The kinds of sliding window, each with its own output-size formula."""

    CONVOLUTION = "convolution"  # floor((n + p_left + p_right - k_eff) / s) + 1
    TRANSPOSED = "transposed"  # (n - 1) s - 2p + k_eff + output_padding
    POOLING = "pooling"  # the convolution's formula, with ceil_mode, padding on both sides
    PATCH = "patch"  # non-overlapping patches: floor(n / p)


# Named tuples rather than frozen dataclasses: as immutable, and defined in a fifth of the time, which every
# command pays at start-up.
class AxisWindow(NamedTuple):
    """A window sliding along one axis: input size n, kernel k, stride s, padding left/right, dilation d."""

    size: int
    kernel: int
    stride: int
    pad_left: int
    pad_right: int
    dilation: int = 1
    output_padding: int = 0  # transposed convolutions: extra size on the right of the output

    @property
    def effective_kernel(self) -> int:
        return effective_kernel(self.kernel, self.dilation)


class Geometry(NamedTuple):
    """A windowed layer's resolved geometry: its windows per spatial axis and its channels."""

    window: Window
    axes: tuple[AxisWindow, ...]
    in_channels: int
    out_channels: int
    groups: int = 1
    bias: bool = False
    ceil_mode: bool = False

    @property
    def kernel(self) -> tuple[int, ...]:
        return tuple(axis.kernel for axis in self.axes)

    @property
    def stride(self) -> tuple[int, ...]:
        return tuple(axis.stride for axis in self.axes)

    @property
    def padding(self) -> tuple[tuple[int, int], ...]:
        """(left, right) per axis."""
        return tuple((axis.pad_left, axis.pad_right) for axis in self.axes)

    @property
    def dilation(self) -> tuple[int, ...]:
        return tuple(axis.dilation for axis in self.axes)

    @property
    def symmetric(self) -> bool:
        """The same padding on both sides of every axis (what a plain nn.ConvNd can do by itself)."""
        return all(axis.pad_left == axis.pad_right for axis in self.axes)


def windows(
    sizes: tuple[int, ...],
    kernels: tuple[int, ...],
    strides: tuple[int, ...],
    padding: tuple[tuple[int, int], ...],
    dilations: tuple[int, ...],
    output_paddings: tuple[int, ...] | None = None,
) -> tuple[AxisWindow, ...]:
    """One AxisWindow per axis from per-axis tuples."""
    extras = output_paddings or (0,) * len(sizes)
    return tuple(
        AxisWindow(size, kernel, stride, left, right, dilation, extra)
        for size, kernel, stride, (left, right), dilation, extra in zip(
            sizes, kernels, strides, padding, dilations, extras, strict=True
        )
    )
