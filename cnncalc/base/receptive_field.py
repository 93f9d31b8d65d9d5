"""Receptive-field arithmetic (Araujo, Norris & Sim, "Computing Receptive Fields of CNNs", Distill 2019).

Every layer that moves along a spatial axis is described by an affine map from its output index y to the
centre of what it reads in its input, `center(y) = step * y + offset`, plus `span`, how many input units one
output unit reads. For a convolution or pooling window that is step = s, offset = (k_eff - 1)/2 - pad_left and
span = k_eff, which gives back the Distill recurrences:

    r_out = r_in + (k_eff - 1) * j_in,   j_out = j_in * s,   P_out = P_in + pad_left * j_in

with k_eff = d * (k - 1) + 1. Upsampling layers (transposed conv, interpolation, pixel shuffle) have a
fractional step, so jump and effective padding become exact fractions.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from math import ceil, gcd

from cnncalc.base.geometry import AxisWindow
from cnncalc.base.tensor import AxisField, Scalar


def _normal(value: Fraction | int) -> Scalar:
    """Keep integers as int so that ordinary networks report plain integers."""
    value = Fraction(value)
    return int(value) if value.denominator == 1 else value


def through_affine(field: AxisField, step: Fraction | int, offset: Fraction | int, span: Fraction | int) -> AxisField:
    size = field.size + (Fraction(span) - 1) * field.jump
    center = field.center + Fraction(offset) * field.jump
    # With an integer jump, neighbouring units' fields tile the input and the union of `span` of them is
    # exactly r + (span - 1) j. After upsampling (fractional jump) units read different pixel counts, and
    # this formula gives their average: still a fine figure, but no longer exact.
    exact = field.exact and (Fraction(field.jump).denominator == 1 or span == 1)
    return AxisField(
        size=_normal(size),
        jump=_normal(Fraction(field.jump) * Fraction(step)),
        start=_normal((size - 1) / 2 - center),
        exact=exact,
    )


def through_window(field: AxisField, kernel: int, stride: int, pad_left: int, dilation: int = 1) -> AxisField:
    """A sliding window: convolution, pooling, patch embedding."""
    effective_kernel = dilation * (kernel - 1) + 1
    if type(field.jump) is int and type(field.start) is int:
        # The common case, on plain integers (the general form below needs fractions for the centre).
        return AxisField(
            size=field.size + (effective_kernel - 1) * field.jump,
            jump=field.jump * stride,
            start=field.start + pad_left * field.jump,
            exact=field.exact,
        )
    return through_affine(field, stride, Fraction(effective_kernel - 1, 2) - pad_left, effective_kernel)


def through_windows(fields: tuple[AxisField, ...] | None, axes: tuple[AxisWindow, ...]) -> tuple[AxisField, ...] | None:
    """Each axis's field through its window (convolution, pooling, patches); None where none is tracked."""
    if fields is None:
        return None
    return tuple(
        through_window(field, axis.kernel, axis.stride, axis.pad_left, axis.dilation)
        for field, axis in zip(fields, axes, strict=True)
    )


def through_transposed_windows(
    fields: tuple[AxisField, ...] | None, axes: tuple[AxisWindow, ...]
) -> tuple[AxisField, ...] | None:
    """Each axis's field through a transposed convolution's window; None where none is tracked."""
    if fields is None:
        return None
    return tuple(
        through_transposed(field, axis.kernel, axis.stride, axis.pad_left, axis.dilation)
        for field, axis in zip(fields, axes, strict=True)
    )


def through_transposed(field: AxisField, kernel: int, stride: int, pad_left: int, dilation: int = 1) -> AxisField:
    """A transposed convolution: output y reads inputs x with x * s - p + i * d = y for kernel taps i.

    Which taps hit a real input depends on y mod s; the span is the largest set any output reads.
    """
    common = gcd(dilation, stride)
    taps_per_output = ceil(kernel / (stride // common))
    span = (taps_per_output - 1) * Fraction(dilation, common) + 1
    effective_kernel = dilation * (kernel - 1) + 1
    offset = (pad_left - Fraction(effective_kernel - 1, 2)) / stride
    return through_affine(field, Fraction(1, stride), offset, span)


def through_resize(field: AxisField, in_size: int, out_size: int, span: int, align_corners: bool) -> AxisField:
    """Interpolation or pixel shuffle from in_size to out_size samples; span 1 = nearest, 2 = linear, 4 = cubic."""
    if align_corners and out_size > 1:
        return through_affine(field, Fraction(in_size - 1, out_size - 1), 0, span)
    step = Fraction(in_size, out_size)
    return through_affine(field, step, step / 2 - Fraction(1, 2), span)


def through_adaptive(field: AxisField, in_size: int, out_size: int) -> AxisField:
    """Adaptive pooling: window i covers [floor(i*in/out), ceil((i+1)*in/out)), so windows can differ by one."""
    if in_size % out_size == 0:
        window = in_size // out_size
        return through_window(field, window, window, 0)
    # The widest window, in closed form: ceil((n + m - gcd(n, m)) / m) for n inputs and m outputs.
    widest = -(-(out_size - gcd(in_size, out_size) + in_size) // out_size)
    first_window = -((-in_size) // out_size)
    return through_affine(field, Fraction(in_size, out_size), Fraction(first_window - 1, 2), widest)


def whole_axis(field: AxisField, in_size: int) -> AxisField:
    """A reduction over the whole axis (global pooling, attention over all positions)."""
    return through_window(field, in_size, in_size, 0)


def merge(fields: list[AxisField]) -> tuple[AxisField, bool]:
    """Fields of several paths meeting at one layer: the largest one, and whether the paths are aligned.

    Paths are aligned when they share the jump and the centre of unit 0, i.e. their units sit on the same
    input pixels; otherwise the merged feature map mixes units that look at different places.
    """
    widest = max(fields, key=lambda field: Fraction(field.size))
    aligned = all(field.jump == widest.jump and field.center == widest.center for field in fields)
    if not all(field.exact for field in fields):
        widest = replace(widest, exact=False)
    return widest, aligned
