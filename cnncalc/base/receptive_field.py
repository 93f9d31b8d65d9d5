"""Receptive-field arithmetic (Araujo, Norris & Sim, "Computing Receptive Fields of CNNs", Distill 2019).

A unit's receptive field along an axis is the run of input pixels from the first it depends on to the last,
on an unbounded input (padding pixels count, as in the Distill tables). For a convolution or pooling window
every unit sees as many pixels, and the Distill recurrences give them:

    r_out = r_in + (k_eff - 1) * j_in,   j_out = j_in * s,   P_out = P_in + pad_left * j_in

with k_eff = d * (k - 1) + 1.

Upsampling (transposed convolution, interpolation, pixel shuffle) and adaptive pooling of a size it does not
divide have a fractional stride: neighbouring units then read different numbers of input units, and after
one more window units see different numbers of pixels. What unit y reads is still periodic: unit y + q reads
what unit y reads, moved by p input units (q/p = the stride's denominator/numerator). So the field is kept
exactly as the first and last input pixel of each unit of one period (`AxisField.reach`), and composing a
layer is a table lookup: the first pixel of unit y is the first pixel of the first input unit it reads, its
last pixel the last pixel of the last (both are non-decreasing in the unit's position). `size` is the
largest field over a period, `size_min` the smallest.

Which input units an output unit reads, per layer (output index y, input index x, all on an unbounded axis,
so PyTorch's clamping at the borders is left out like padding is):

- window k, s, pad, d:          x = s*y - pad + i*d for i in [0, k)
- transposed k, s, pad, d:      x with x*s - pad + i*d = y for some i in [0, k) (possibly none)
- interpolation with ratio t = in/out, or 1/scale_factor when a scale is given (as PyTorch computes it),
  or (in - 1)/(out - 1) with align_corners (0 for a single output):
    nearest                      x = floor(y * t)
    nearest-exact                x = floor((y + 1/2) * t)
    (bi/tri)linear               x0, x0 + 1 with x0 = floor(src), src = (y + 1/2) * t - 1/2 (y * t with
                                 align_corners); both taps count, even where src is a whole number and
                                 the second one's weight is 0
    bicubic                      x0 - 1 .. x0 + 2
- pixel shuffle by f:            x = floor(y / f)
- adaptive pooling n -> m:       floor(y*n/m) <= x < ceil((y + 1)*n/m)

The ratios are exact fractions (a scale of 1.5 is 3/2); PyTorch evaluates them in floating point, which
can only differ where a position lands within rounding error of a whole number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import pairwise
from math import gcd, lcm

from cnncalc.base.geometry import AxisWindow
from cnncalc.base.tensor import AxisField, Scalar

# The longest period of unit fields tracked exactly. Beyond it (a chain of upsamplings by unrelated
# fractional ratios) the field falls back to an average over units and is marked `exact: False`.
MAX_PERIOD = 4096

Pixels = tuple[int, int] | None  # first and last input pixel of one unit's field; None: it reads no pixel
Taps = tuple[int, int, int] | None  # the input units one output unit reads: first, last, spacing


@dataclass(frozen=True, slots=True)
class UnitReads:
    """Which input units each output unit of a layer reads: unit y + period reads taps(y) moved by shift."""

    period: int
    shift: int
    taps: Callable[[int], Taps]


def _normal(value: Fraction | int) -> Scalar:
    """Keep integers as int so that ordinary networks report plain integers."""
    value = Fraction(value)
    return int(value) if value.denominator == 1 else value


# ------------------------------------------------------------------------------------ exact composition


class _Table:
    """A field as a periodic table: `pixels(x)` of any unit x."""

    __slots__ = ("monotone", "period", "reach", "shift")

    def __init__(self, field: AxisField) -> None:
        if field.reach is None:
            first = -int(field.start)
            self.period, self.shift = 1, int(field.jump)
            self.reach: tuple[Pixels, ...] = ((first, first + int(field.size) - 1),)
        else:
            self.period = len(field.reach)
            self.shift = int(field.jump * self.period)
            self.reach = field.reach
        # Usually a later unit's field starts and ends no earlier; a transposed convolution dilated past its
        # stride, or a unit that reads nothing, breaks that, and then every unit read must be looked at.
        ends = [self.pixels(unit) for unit in range(self.period + 1)]
        self.monotone = None not in ends and all(
            a[0] <= b[0] and a[1] <= b[1]  # type: ignore[index]
            for a, b in pairwise(ends)
        )

    def pixels(self, unit: int) -> Pixels:
        turns, residue = divmod(unit, self.period)
        pixels = self.reach[residue]
        if pixels is None:
            return None
        return pixels[0] + turns * self.shift, pixels[1] + turns * self.shift

    def span(self, taps: Taps) -> Pixels:
        """From the first pixel any unit read sees to the last."""
        if taps is None:
            return None
        first, last, spacing = taps
        if self.monotone:
            return self.pixels(first)[0], self.pixels(last)[1]  # type: ignore[index]
        # Unit x + period sees what unit x sees moved right (the shift is never negative), so the first pixel
        # lies among the first period/gcd taps (after them the residues repeat), the last among the last ones.
        count = min(self.period // gcd(spacing, self.period), (last - first) // spacing + 1)
        starts = [pixels[0] for t in range(count) if (pixels := self.pixels(first + t * spacing)) is not None]
        ends = [pixels[1] for t in range(count) if (pixels := self.pixels(last - t * spacing)) is not None]
        return (min(starts), max(ends)) if starts else None


def _field_of(period: int, shift: int, reach: list[Pixels]) -> AxisField:
    """An exact field from one period of unit fields, in its shortest period."""
    if all(pixels is None for pixels in reach):
        return AxisField(size=0, jump=0, start=0, reach=(None,))  # no unit reads any pixel (only biases)
    for shorter in range(1, period):
        if period % shorter or (shift * shorter) % period:
            continue
        moved = shift * shorter // period
        if all(
            (a is None and b is None) or (a is not None and b is not None and b == (a[0] + moved, a[1] + moved))
            for a, b in zip(reach, reach[shorter:], strict=False)
        ):
            shift, period, reach = moved, shorter, reach[:shorter]
            break
    if period == 1 and reach[0] is not None:
        first, last = reach[0]
        return AxisField(size=last - first + 1, jump=shift, start=-first)
    sizes = [0 if pixels is None else pixels[1] - pixels[0] + 1 for pixels in reach]
    jump = _normal(Fraction(shift, period))
    field = AxisField(size=max(sizes), jump=jump, start=0, reach=tuple(reach))
    # Unit 0's first pixel is -start; where unit 0 reads nothing, start is placed from the average centre.
    start = -reach[0][0] if reach[0] is not None else _normal(Fraction(field.size - 1, 2) - field.center)
    return replace(field, start=start)


def through_reads(field: AxisField, reads: UnitReads) -> AxisField | None:
    """The field after a layer, exactly; None where the period would exceed MAX_PERIOD or `field` is an average."""
    if not field.exact:
        return None
    table = _Table(field)
    # Unit y + q*m reads units moved by p*m, which repeat the table when p*m is a multiple of its period.
    turns = table.period // gcd(reads.shift, table.period)
    period = reads.period * turns
    if period > MAX_PERIOD:
        return None
    shift = table.shift * (reads.shift * turns // table.period)
    return _field_of(period, shift, [table.span(reads.taps(unit)) for unit in range(period)])


# ------------------------------------------------------------------- average fields (beyond MAX_PERIOD)


def through_affine(field: AxisField, step: Fraction | int, offset: Fraction | int, span: Fraction | int) -> AxisField:
    """The field averaged over units: a layer whose output y reads `span` units centred at step*y + offset.

    Used only where exact tracking stops (see MAX_PERIOD); the result is marked `exact: False` unless every
    unit provably sees the same count (an integer jump, or a layer reading one unit).
    """
    size = field.size + (Fraction(span) - 1) * field.jump
    center = field.center + Fraction(offset) * field.jump
    exact = field.exact and field.reach is None and (Fraction(field.jump).denominator == 1 or span == 1)
    return AxisField(
        size=_normal(size),
        jump=_normal(Fraction(field.jump) * Fraction(step)),
        start=_normal((size - 1) / 2 - center),
        exact=exact,
    )


def _averaged(field: AxisField) -> AxisField:
    """A field as an average over units (no table), keeping its largest size and its average centre."""
    if field.reach is None:
        return replace(field, exact=False)
    return AxisField(field.size, field.jump, _normal(Fraction(field.size - 1, 2) - field.center), exact=False)


def _average(field: AxisField, reads: UnitReads) -> AxisField:
    """The average-over-units fallback for a layer described by its reads (sampled over MAX_PERIOD units)."""
    offsets: list[Fraction] = []
    spans: list[int] = []
    for unit in range(min(reads.period, MAX_PERIOD)):
        taps = reads.taps(unit)
        if taps is not None:
            offsets.append(Fraction(taps[0] + taps[1], 2) - Fraction(reads.shift * unit, reads.period))
            spans.append(taps[1] - taps[0] + 1)
    offset = sum(offsets, Fraction(0)) / len(offsets) if offsets else Fraction(0)
    result = through_affine(_averaged(field), Fraction(reads.shift, reads.period), offset, max(spans, default=1))
    return replace(result, exact=False)


def through(field: AxisField, reads: UnitReads) -> AxisField:
    exact = through_reads(field, reads)
    return exact if exact is not None else _average(field, reads)


# ------------------------------------------------------------------------------------------- layers


def window_reads(kernel: int, stride: int, pad_left: int, dilation: int = 1) -> UnitReads:
    reach = dilation * (kernel - 1)
    return UnitReads(1, stride, lambda unit: (stride * unit - pad_left, stride * unit - pad_left + reach, dilation))


def through_window(field: AxisField, kernel: int, stride: int, pad_left: int, dilation: int = 1) -> AxisField:
    """A sliding window: convolution, pooling, patch embedding."""
    effective_kernel = dilation * (kernel - 1) + 1
    if field.reach is None and field.exact and type(field.jump) is int and type(field.start) is int:
        # The common case, on plain integers: every unit sees as many pixels.
        return AxisField(
            size=field.size + (effective_kernel - 1) * field.jump,
            jump=field.jump * stride,
            start=field.start + pad_left * field.jump,
        )
    return through(field, window_reads(kernel, stride, pad_left, dilation))


def through_windows(fields: tuple[AxisField, ...] | None, axes: tuple[AxisWindow, ...]) -> tuple[AxisField, ...] | None:
    """Each axis's field through its window (convolution, pooling, patches); None where none is tracked."""
    if fields is None:
        return None
    return tuple(
        through_window(field, axis.kernel, axis.stride, axis.pad_left, axis.dilation)
        for field, axis in zip(fields, axes, strict=True)
    )


def transposed_reads(kernel: int, stride: int, pad_left: int, dilation: int = 1) -> UnitReads:
    """Output y reads inputs x with x*s - p + i*d = y for kernel taps i: which ones depends on y mod s."""
    common = gcd(dilation, stride)
    tap_step = stride // common  # taps i that hit whole inputs for one y are this far apart
    inverse = pow(dilation // common, -1, tap_step) if tap_step > 1 else 0

    def taps(unit: int) -> Taps:
        target = unit + pad_left  # = x*s + i*d
        if target % common:
            return None
        first_tap = (target // common * inverse) % tap_step if tap_step > 1 else 0
        if first_tap >= kernel:
            return None
        last_tap = first_tap + (kernel - 1 - first_tap) // tap_step * tap_step
        # The first kernel tap reads the last input, and the other way round.
        return (target - last_tap * dilation) // stride, (target - first_tap * dilation) // stride, dilation // common

    return UnitReads(stride, 1, taps)


def through_transposed(field: AxisField, kernel: int, stride: int, pad_left: int, dilation: int = 1) -> AxisField:
    """A transposed convolution (a stride of 1/s)."""
    if stride == 1:
        # Stride 1 is an ordinary convolution read backwards: output y reads y + p - (k_eff - 1) .. y + p.
        effective_kernel = dilation * (kernel - 1) + 1
        return through_window(field, kernel, 1, effective_kernel - 1 - pad_left, dilation)
    return through(field, transposed_reads(kernel, stride, pad_left, dilation))


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


# Interpolation modes: how many taps around x0 one output reads (nearest reads one, at its own formula).
_TAPS_AROUND = {"linear": (0, 1), "bilinear": (0, 1), "trilinear": (0, 1), "bicubic": (-1, 2)}


def resize_ratio(
    in_size: int, out_size: int, mode: str, align_corners: bool, scale: Fraction | None = None
) -> Fraction:
    """Input units per output unit as PyTorch's interpolation uses it (see the module docstring)."""
    if align_corners and mode in _TAPS_AROUND:
        return Fraction(in_size - 1, out_size - 1) if out_size > 1 else Fraction(0)
    if scale is not None and scale > 0:
        return 1 / Fraction(scale)
    return Fraction(in_size, out_size)


def resize_reads(ratio: Fraction, mode: str, align_corners: bool) -> UnitReads:
    numerator, denominator = ratio.numerator, ratio.denominator
    if mode == "nearest":
        return UnitReads(denominator, numerator, lambda y: (y * numerator // denominator,) * 2 + (1,))
    if mode == "nearest-exact":
        return UnitReads(denominator, numerator, lambda y: ((2 * y + 1) * numerator // (2 * denominator),) * 2 + (1,))
    before, after = _TAPS_AROUND[mode]
    if align_corners:

        def sample(y: int) -> int:
            return y * numerator // denominator
    else:

        def sample(y: int) -> int:  # floor((y + 1/2) * t - 1/2)
            return ((2 * y + 1) * numerator - denominator) // (2 * denominator)

    return UnitReads(denominator, numerator, lambda y: (sample(y) + before, sample(y) + after, 1))


def through_resize(
    field: AxisField,
    in_size: int,
    out_size: int,
    mode: str = "nearest",
    align_corners: bool = False,
    scale: Fraction | None = None,
) -> AxisField:
    """Interpolation from in_size to out_size samples (by `scale` where one was given), in PyTorch's mapping."""
    ratio = resize_ratio(in_size, out_size, mode, align_corners, scale)
    return through(field, resize_reads(ratio, mode, align_corners))


def through_pixel_shuffle(field: AxisField, factor: int) -> AxisField:
    """Pixel shuffle by f: output y comes from input y // f (its channel says which of the f)."""
    return through(field, resize_reads(Fraction(1, factor), "nearest", False))


def adaptive_reads(in_size: int, out_size: int) -> UnitReads:
    common = gcd(in_size, out_size)

    def taps(unit: int) -> Taps:
        return unit * in_size // out_size, -(-(unit + 1) * in_size // out_size) - 1, 1

    return UnitReads(out_size // common, in_size // common, taps)


def through_adaptive(field: AxisField, in_size: int, out_size: int) -> AxisField:
    """Adaptive pooling: window i covers [floor(i*in/out), ceil((i+1)*in/out)), so windows can differ by one."""
    if in_size % out_size == 0:
        window = in_size // out_size
        return through_window(field, window, window, 0)
    exact = through_reads(field, adaptive_reads(in_size, out_size))
    if exact is not None:
        return exact
    # Past MAX_PERIOD: on a field with an integer jump the widest window still gives the largest field,
    # ceil((n + m - gcd(n, m)) / m) units for n inputs and m outputs.
    widest = -(-(out_size - gcd(in_size, out_size) + in_size) // out_size)
    first_window = -((-in_size) // out_size)
    averaged = through_affine(_averaged(field), Fraction(in_size, out_size), Fraction(first_window - 1, 2), widest)
    return replace(averaged, exact=False)


def whole_axis(field: AxisField, in_size: int) -> AxisField:
    """A reduction over the whole axis (global pooling, attention over all positions)."""
    return through_window(field, in_size, in_size, 0)


# ------------------------------------------------------------------------------------------- merges


def _union(fields: Sequence[AxisField]) -> AxisField | None:
    """Units of paths with one jump, added or concatenated: each sees the union of what the paths' units see."""
    if all(field.reach is None for field in fields):
        # Every path's units see one count each (the usual residual add): the union of intervals.
        first = min(-field.start for field in fields)
        last = max(-field.start + field.size - 1 for field in fields)
        return AxisField(size=last - first + 1, jump=fields[0].jump, start=-first)
    tables = [_Table(field) for field in fields]
    period = lcm(*(table.period for table in tables))
    if period > MAX_PERIOD:
        return None
    shift = int(fields[0].jump * period)
    reach: list[Pixels] = []
    for unit in range(period):
        seen = [pixels for table in tables if (pixels := table.pixels(unit)) is not None]
        reach.append((min(p[0] for p in seen), max(p[1] for p in seen)) if seen else None)
    return _field_of(period, shift, reach)


def merge(fields: list[AxisField]) -> tuple[AxisField, bool]:
    """Fields of several paths meeting at one layer, and whether the paths are aligned.

    Paths are aligned when they share the jump and the centre of unit 0, i.e. their units sit on the same
    input pixels; otherwise the merged feature map mixes units that look at different places. Paths with one
    jump give each merged unit the union of its paths' fields (for aligned paths with an integer jump, the
    widest path's field); paths with different jumps give the widest path's field.
    """
    jump = fields[0].jump
    if type(jump) is int and all(field.reach is None and field.exact and field.jump == jump for field in fields):
        # The usual residual add, on plain integers: twice each centre is size - 1 - 2 * start.
        doubled = {field.size - 1 - 2 * field.start for field in fields}
        return _union(fields), len(doubled) == 1  # type: ignore[return-value]
    widest = max(fields, key=lambda field: Fraction(field.size))
    aligned = all(field.jump == widest.jump and field.center == widest.center for field in fields)
    if not all(field.exact for field in fields):
        return _averaged(widest), aligned
    if all(field.jump == widest.jump for field in fields):
        union = _union(fields)
        return (union if union is not None else _averaged(widest)), aligned
    return widest, aligned
