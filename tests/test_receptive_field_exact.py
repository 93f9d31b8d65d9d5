"""Exact receptive fields after fractional strides, checked against a brute-force reference.

The reference enumerates, for every output unit of a chain of 1-d layers, the set of input pixels it depends
on (on an unbounded axis, as the engine counts padding pixels), straight from each layer's definition; the
engine's largest and smallest field, its period, its jump and unit 0's first pixel must match it on many
random chains. Then the same against PyTorch itself: the input pixels each output of a random chain of
convolutions, transposed convolutions, pixel shuffles and nearest upsamplings depends on (its Jacobian).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnncalc.base import receptive_field as rf
from cnncalc.base.tensor import IDENTITY_FIELD, AxisField

# --------------------------------------------------------------------------------- the reference


@dataclass(frozen=True)
class Op:
    """One 1-d layer: its name and parameters, what it reads (a set of input units per output unit) and
    after how many output units that pattern repeats (a bound for the chain's period)."""

    text: str
    reads: Callable[[int], frozenset[int]]
    repeat: int
    engine: Callable[[AxisField], AxisField]


def window(kernel: int, stride: int, pad: int, dilation: int) -> Op:
    return Op(
        f"window k{kernel} s{stride} p{pad} d{dilation}",
        lambda y: frozenset(stride * y - pad + i * dilation for i in range(kernel)),
        1,
        lambda field: rf.through_window(field, kernel, stride, pad, dilation),
    )


def transposed(kernel: int, stride: int, pad: int, dilation: int) -> Op:
    def reads(y: int) -> frozenset[int]:
        # output y = x*s - p + i*d: try every input near y/s
        near = range((y + pad - (kernel - 1) * dilation) // stride - 1, (y + pad) // stride + 2)
        return frozenset(x for x in near if any(x * stride - pad + i * dilation == y for i in range(kernel)))

    return Op(
        f"transposed k{kernel} s{stride} p{pad} d{dilation}",
        reads,
        stride,
        lambda field: rf.through_transposed(field, kernel, stride, pad, dilation),
    )


def resize(mode: str, in_size: int, out_size: int, align_corners: bool, scale: Fraction | None) -> Op:
    # PyTorch's source coordinate: ratio (in-1)/(out-1) with align_corners, else 1/scale or in/out.
    if align_corners:
        ratio = Fraction(in_size - 1, out_size - 1) if out_size > 1 else Fraction(0)
    else:
        ratio = 1 / scale if scale is not None else Fraction(in_size, out_size)

    def reads(y: int) -> frozenset[int]:
        if mode == "nearest":
            return frozenset({math.floor(y * ratio)})
        if mode == "nearest-exact":
            return frozenset({math.floor((y + Fraction(1, 2)) * ratio)})
        source = y * ratio if align_corners else (y + Fraction(1, 2)) * ratio - Fraction(1, 2)
        below = math.floor(source)
        return frozenset(range(below, below + 2) if mode == "linear" else range(below - 1, below + 3))

    return Op(
        f"{mode} {in_size}->{out_size} align={align_corners} scale={scale}",
        reads,
        ratio.denominator,
        lambda field: rf.through_resize(field, in_size, out_size, mode, align_corners, scale),
    )


def pixel_shuffle(factor: int) -> Op:
    return Op(
        f"pixel_shuffle {factor}",
        lambda y: frozenset({y // factor}),
        factor,
        lambda field: rf.through_pixel_shuffle(field, factor),
    )


def adaptive(in_size: int, out_size: int) -> Op:
    return Op(
        f"adaptive {in_size}->{out_size}",
        lambda y: frozenset(range(y * in_size // out_size, math.ceil((y + 1) * in_size / Fraction(out_size)))),
        out_size // math.gcd(in_size, out_size),
        lambda field: rf.through_adaptive(field, in_size, out_size),
    )


def brute_force(ops: list[Op]) -> Callable[[int], frozenset[int]]:
    """The input pixels each unit of the chain's last layer depends on."""

    @cache
    def pixels(level: int, unit: int) -> frozenset[int]:
        if level == 0:
            return frozenset({unit})
        return frozenset().union(*(pixels(level - 1, x) for x in ops[level - 1].reads(unit)))

    return lambda unit: pixels(len(ops), unit)


def observed(pixels_of: Callable[[int], frozenset[int]], bound: int) -> dict[str, object]:
    """Largest and smallest field, the shortest period and its shift, read off units 0 .. 2*bound - 1."""
    ends = [(min(p), max(p)) if (p := pixels_of(unit)) else None for unit in range(2 * bound)]
    sizes = [0 if end is None else end[1] - end[0] + 1 for end in ends]
    for period in range(1, bound + 1):
        if bound % period == 0 and (moved := _shift(ends, period)) is not None:
            break
    else:
        raise AssertionError("the fields do not repeat within the bound")
    return {
        "size": max(sizes),
        "size_min": min(sizes),
        "period": period,
        "jump": Fraction(moved, period),
        "first": None if ends[0] is None else ends[0][0],
    }


def _shift(ends: list[tuple[int, int] | None], period: int) -> int | None:
    """How far unit y + period's field lies from unit y's, if that is the same for every unit; else None."""
    shifts = set()
    for a, b in zip(ends, ends[period:], strict=False):
        if (a is None) != (b is None):
            return None
        if a is not None and b is not None:
            shifts.add((b[0] - a[0], b[1] - a[1]))
    if not shifts:
        return 0  # no unit reads anything
    if len(shifts) == 1 and (shift := shifts.pop())[0] == shift[1]:
        return shift[0]
    return None


def engine_view(field: AxisField) -> dict[str, object]:
    first = -field.start if field.reach is None or field.reach[0] is not None else None
    return {
        "size": field.size,
        "size_min": field.size_min,
        "period": field.period,
        "jump": Fraction(field.jump),
        "first": first,
    }


def run_engine(ops: list[Op], start: AxisField = IDENTITY_FIELD) -> AxisField:
    field = start
    for op in ops:
        field = op.engine(field)
    return field


# --------------------------------------------------------------------------------- strategies

windows = st.builds(window, st.integers(1, 4), st.integers(1, 3), st.integers(0, 3), st.integers(1, 2))
transposes = st.builds(transposed, st.integers(1, 4), st.integers(2, 3), st.integers(0, 2), st.integers(1, 3))
scales = st.sampled_from([None, Fraction(2), Fraction(3, 2), Fraction(5, 2), Fraction(1, 2), Fraction(4, 3)])


@st.composite
def resizes(draw: st.DrawFn) -> Op:
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bicubic"]))
    align = mode in ("linear", "bicubic") and draw(st.booleans())
    in_size, out_size = draw(st.integers(1, 7)), draw(st.integers(1, 9))
    return resize(mode, in_size, out_size, align, None if align else draw(scales))


ops_strategy = st.one_of(
    windows,
    transposes,
    resizes(),
    st.builds(pixel_shuffle, st.integers(2, 3)),
    st.builds(adaptive, st.integers(2, 9), st.integers(2, 7)),
)


def period_bound(ops: list[Op]) -> int:
    return math.prod(op.repeat for op in ops)


# --------------------------------------------------------------------------------- the checks


@settings(max_examples=400, deadline=None)
@given(st.lists(ops_strategy, min_size=1, max_size=5))
def test_exact_fields_match_brute_force(ops: list[Op]) -> None:
    bound = period_bound(ops)
    assume(bound <= 360)
    field = run_engine(ops)
    assert field.exact, [op.text for op in ops]
    assert engine_view(field) == observed(brute_force(ops), bound), [op.text for op in ops]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(ops_strategy, min_size=1, max_size=3),
    st.lists(st.builds(window, st.integers(1, 4), st.just(1), st.integers(0, 3), st.integers(1, 2)), max_size=2),
    st.lists(st.builds(window, st.integers(1, 4), st.just(1), st.integers(0, 3), st.integers(1, 2)), max_size=2),
    st.lists(ops_strategy, max_size=2),
)
def test_merged_paths_see_the_union(prefix: list[Op], left: list[Op], right: list[Op], suffix: list[Op]) -> None:
    """Two stride-1 branches of one map, added: each unit sees the union of its two branches' fields."""
    bound = period_bound(prefix + suffix)
    assume(bound <= 360)
    merged, _ = rf.merge([run_engine(left, run_engine(prefix)), run_engine(right, run_engine(prefix))])
    field = run_engine(suffix, merged)
    left_pixels, right_pixels = brute_force(prefix + left), brute_force(prefix + right)

    @cache
    def union(unit: int) -> frozenset[int]:
        return left_pixels(unit) | right_pixels(unit)

    @cache
    def pixels(level: int, unit: int) -> frozenset[int]:
        if level == 0:
            return union(unit)
        return frozenset().union(*(pixels(level - 1, x) for x in suffix[level - 1].reads(unit)))

    assert engine_view(field) == observed(lambda unit: pixels(len(suffix), unit), bound)


# --------------------------------------------------------------------------------- worked cases


def test_nearest_2x_then_3_tap_conv_sees_1_or_2_pixels():
    # nearest 2x: unit y reads floor(y/2); a 3-tap window then reads floor((y-1)/2) .. floor((y+1)/2):
    # 2 pixels for every y (even y: y/2 - 1 .. y/2, odd y: (y-1)/2 .. (y+1)/2)
    up = rf.through_resize(IDENTITY_FIELD, 4, 8, "nearest")
    assert (up.size, up.size_min, up.period, up.jump) == (1, 1, 2, Fraction(1, 2))
    conv = rf.through_window(up, 3, 1, 1)
    assert (conv.size, conv.size_min, conv.period) == (2, 2, 2)
    # a 2-tap window reads floor(y/2) .. floor((y+1)/2): 1 pixel for even y, 2 for odd y
    two = rf.through_window(up, 2, 1, 0)
    assert (two.size, two.size_min, two.period) == (2, 1, 2)
    assert two.reach == ((0, 0), (0, 1))


def test_transposed_k3_s2_reads_one_or_two_inputs():
    # k3 s2 p1: output y reads x with 2x - 1 + i = y: even y one input (x = y/2), odd y two
    field = rf.through_transposed(IDENTITY_FIELD, 3, 2, 1)
    assert field.reach == ((0, 0), (0, 1))
    assert (field.size, field.size_min, field.period, field.jump, field.start) == (2, 1, 2, Fraction(1, 2), 0)


def test_transposed_k1_s2_leaves_odd_outputs_without_input():
    # a 1x1 stride-2 transposed conv: odd outputs are the bias alone
    field = rf.through_transposed(IDENTITY_FIELD, 1, 2, 0)
    assert field.reach == ((0, 0), None)
    assert (field.size, field.size_min) == (1, 0)


def test_upsample_then_stride_back_is_uniform_again():
    # 2x nearest then a 2x2 stride-2 window: every unit reads exactly one input pixel again
    field = rf.through_window(rf.through_resize(IDENTITY_FIELD, 4, 8, "nearest"), 2, 2, 0)
    assert field == AxisField(1, 1, 0)


def test_fractional_nearest_ratio_uses_the_scale_as_pytorch_does():
    # scale 2.5 on 5 pixels gives 12 outputs; PyTorch reads floor(y / 2.5), not floor(y * 5 / 12)
    field = rf.through_resize(IDENTITY_FIELD, 5, 12, "nearest", scale=Fraction(5, 2))
    assert (field.period, field.jump) == (5, Fraction(2, 5))
    assert field.reach == ((0, 0), (0, 0), (0, 0), (1, 1), (1, 1))


def test_too_long_a_period_falls_back_to_an_average():
    # each upsampling by 1.5 (read at y * 2/3) triples the period: 3**8 = 6561 > MAX_PERIOD
    field = IDENTITY_FIELD
    for _ in range(7):
        field = rf.through_window(rf.through_resize(field, 4, 6, "linear", scale=Fraction(3, 2)), 3, 1, 1)
    assert (field.exact, field.period, field.jump) == (True, 3**7, Fraction(2, 3) ** 7)
    field = rf.through_window(rf.through_resize(field, 4, 6, "linear", scale=Fraction(3, 2)), 3, 1, 1)
    assert not field.exact
    assert field.jump == Fraction(2, 3) ** 8
    assert field.period is None and field.size_min is None


def test_merge_of_aligned_integer_paths_is_the_widest():
    widest, aligned = rf.merge([AxisField(3, 1, 1), AxisField(5, 1, 2), IDENTITY_FIELD])
    assert widest == AxisField(5, 1, 2)
    assert aligned


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear", "bicubic"])
@pytest.mark.parametrize(("size", "out", "scale"), [(5, 10, None), (5, 7, None), (6, 4, None), (5, 12, Fraction(5, 2))])
def test_mapping_matches_pytorch_interpolate(mode, size, out, scale):
    """Which input pixels PyTorch's interpolate makes each output depend on (its Jacobian), away from borders."""
    torch = pytest.importorskip("torch", reason="the torch extra is not installed: pip install 'cnncalc[torch]'")
    functional = torch.nn.functional
    align_options = [False, True] if mode in ("linear", "bicubic") else [False]
    for align in align_options:
        arguments = {"mode": mode, "align_corners": align} if mode in ("linear", "bicubic") else {"mode": mode}
        # bicubic works on 2-d maps only: interpolate a 1-pixel-high image, keeping its height
        leading = (1,) if mode == "bicubic" else ()
        if scale is not None and not align:
            arguments["scale_factor"] = (1.0,) * len(leading) + (float(scale),)
        else:
            arguments["size"] = (*leading, out)

        def run(x, arguments=arguments, leading=leading):
            return functional.interpolate(x.view(1, 1, *leading, -1), **arguments).view(-1)

        jacobian = torch.autograd.functional.jacobian(run, torch.zeros(size, dtype=torch.float64))
        field = rf.through_resize(IDENTITY_FIELD, size, out, mode, align, None if align else scale)
        table = rf.resize_reads(rf.resize_ratio(size, out, mode, align, None if align else scale), mode, align)
        assert jacobian.shape[0] == out
        for unit in range(out):
            first, last, _ = table.taps(unit)
            if first < 0 or last >= size:
                continue  # PyTorch clamps at the borders; the engine's axis is unbounded
            depends = [x for x in range(size) if jacobian[unit, x] != 0]
            # every pixel PyTorch uses is a tap; where the sample lands on a pixel the other taps weigh 0
            assert depends and first <= depends[0] and depends[-1] <= last, (mode, align, unit)
            used = depends[-1] - depends[0] + 1
            assert used == last - first + 1 or (mode in ("linear", "bicubic") and used == 1)
        assert field.exact


# --------------------------------------------------------------------------------- against PyTorch itself

torch_layers = st.one_of(
    st.tuples(st.just("conv"), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2)),
    st.tuples(st.just("tconv"), st.integers(1, 4), st.integers(2, 3), st.integers(0, 1), st.integers(1, 2)),
    st.tuples(st.just("shuffle"), st.integers(2, 3)),
    st.tuples(st.sampled_from(["nearest", "nearest-exact"]), st.sampled_from([2, 3, 1.5, 2.5, 0.5, None])),
)


def _torch_chain(torch, layers, size):
    """Each layer as PyTorch runs it (all-ones weights, so no contribution cancels), and the engine's field."""
    functional = torch.nn.functional
    field, steps = IDENTITY_FIELD, []
    for layer in layers:
        if layer[0] == "conv":
            _, kernel, stride, pad, dilation = layer
            pad = min(pad, dilation * (kernel - 1))
            steps.append(
                lambda h, k=kernel, s=stride, p=pad, d=dilation: functional.conv1d(
                    h, h.new_ones(1, 1, k), stride=s, padding=p, dilation=d
                )
            )
            field = rf.through_window(field, kernel, stride, pad, dilation)
            size = (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1
        elif layer[0] == "tconv":
            _, kernel, stride, pad, dilation = layer
            steps.append(
                lambda h, k=kernel, s=stride, p=pad, d=dilation: functional.conv_transpose1d(
                    h, h.new_ones(1, 1, k), stride=s, padding=p, dilation=d
                )
            )
            field = rf.through_transposed(field, kernel, stride, pad, dilation)
            size = (size - 1) * stride - 2 * pad + dilation * (kernel - 1) + 1
        elif layer[0] == "shuffle":
            factor = layer[1]

            def shuffle(h, f=factor):  # a 1-d pixel shuffle: row 0 of the 2-d one on f*f copies
                copies = h.repeat(1, f * f, 1).view(h.shape[0], f * f, 1, -1)
                return functional.pixel_shuffle(copies, f)[:, :, 0, :]

            steps.append(shuffle)
            field = rf.through_pixel_shuffle(field, factor)
            size *= factor
        else:
            mode, scale = layer
            out = size + 3 if scale is None else math.floor(size * scale)
            options = {"size": out} if scale is None else {"scale_factor": scale}
            steps.append(lambda h, m=mode, o=options: functional.interpolate(h, mode=m, **o))
            field = rf.through_resize(field, size, out, mode, scale=None if scale is None else Fraction(str(scale)))
            size = out
        if size < 1:
            return None
    return steps, field, size


@settings(max_examples=60, deadline=None)
@given(st.lists(torch_layers, min_size=1, max_size=4))
def test_exact_fields_match_pytorch_dependencies(layers):
    """Which input pixels each output unit of a PyTorch chain depends on (its Jacobian's non-zero columns,
    all weights positive) are the engine's field, for every unit away from the borders PyTorch clamps."""
    torch = pytest.importorskip("torch", reason="the torch extra is not installed: pip install 'cnncalc[torch]'")
    width = 40
    chain = _torch_chain(torch, layers, width)
    assume(chain is not None and chain[1].exact)
    steps, field, size = chain
    # The chain is linear, so running it on every unit vector at once gives the Jacobian, one row per input.
    units = torch.eye(width, dtype=torch.float64).view(width, 1, width)
    for step in steps:
        units = step(units)
    jacobian = units.view(width, -1).T
    assert jacobian.shape[0] == size
    reach = field.reach or ((-field.start, -field.start + field.size - 1),)
    moved = int(field.jump * field.period)
    for unit in range(size):
        turns, residue = divmod(unit, field.period)
        depends = torch.nonzero(jacobian[unit]).view(-1).tolist()
        if reach[residue] is None:
            if 8 <= unit < size - 8:
                assert depends == [], (layers, unit)
            continue
        first, last = (end + turns * moved for end in reach[residue])
        if first >= 4 and last < width - 4:  # PyTorch clamps at the borders; the engine's axis is unbounded
            assert (depends[0], depends[-1]) == (first, last), (layers, unit)


def test_headline_says_fewest_most_only_where_the_counts_differ(tmp_path):
    """A stride-2 conv then a nearest 2x upsample: every unit sees 3 pixels, but pairs of units see the same
    ones (the pattern repeats every 2 units); a kernel-2 conv after it reads one or two of them: 3 or 5 pixels."""
    from clirunner import invoke, write_spec

    text = "input: {shape: [1, 16]}\nlayers:\n  - {type: conv1d, out: 1, kernel: 3, stride: 2, padding: 1}\n"
    same = write_spec(tmp_path, text + "  - {type: upsample, scale: 2}\n", "nearest")
    two_taps = "  - {type: upsample, scale: 2}\n  - {type: conv1d, out: 1, kernel: 2}\n"
    differ = write_spec(tmp_path, text + two_taps, "conv_after")
    assert "3/1/1 (size/jump/start, repeating every 2 units)" in invoke("analyze", str(same)).output
    assert "3-5/1/1 (fewest-most pixels/jump/start, repeating every 2 units)" in invoke("analyze", str(differ)).output
