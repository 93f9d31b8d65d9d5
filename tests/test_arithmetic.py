"""Hand-worked cases for the pure formulas of cnncalc.base.arithmetic and cnncalc.base.receptive_field.

Every expected value is an exact integer (or Fraction) worked out by hand in the comment next to it; the
output sizes were cross-checked once against torch 2.13 (nn.Conv*d, nn.ConvTranspose*d, nn.MaxPool*d,
nn.AvgPool*d, F.interpolate), but these tests never import torch.
"""

from fractions import Fraction

import pytest

from cnncalc.base.arithmetic import (
    adaptive_windows,
    conv_output_size,
    effective_kernel,
    interpolate_output_size,
    pool_output_size,
    same_padding,
    transposed_output_size,
)
from cnncalc.base.receptive_field import (
    merge,
    through_adaptive,
    through_affine,
    through_resize,
    through_transposed,
    through_window,
    whole_axis,
)
from cnncalc.base.tensor import IDENTITY_FIELD, AxisField

# ------------------------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("kernel", "dilation", "expected"),
    [
        (1, 1, 1),
        (3, 1, 3),
        (3, 2, 5),  # 2 * (3 - 1) + 1
        (3, 4, 9),  # 4 * 2 + 1
        (7, 3, 19),  # 3 * 6 + 1
        (1, 5, 1),  # a 1-tap kernel spans one pixel whatever the dilation
    ],
)
def test_effective_kernel(kernel, dilation, expected):
    assert effective_kernel(kernel, dilation) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # (n, k, s, p_left, p_right, d)
        ((224, 7, 2, 3, 3, 1), 112),  # (224 + 6 - 7) // 2 + 1 = 223 // 2 + 1 = 112
        ((64, 3, 1, 1, 1, 1), 64),  # (64 + 2 - 3) // 1 + 1
        ((56, 1, 2, 0, 0, 1), 28),  # (56 - 1) // 2 + 1 = 27 + 1
        ((50, 5, 3, 2, 2, 2), 16),  # k_eff 9: (50 + 4 - 9) // 3 + 1 = 15 + 1
        ((20, 5, 1, 2, 2, 2), 16),  # k_eff 9: (20 + 4 - 9) + 1
        ((17, 3, 2, 1, 1, 1), 9),  # (17 + 2 - 3) // 2 + 1 = 8 + 1
        ((10, 3, 2, 1, 2, 1), 6),  # per-side: (10 + 3 - 3) // 2 + 1 = 5 + 1
        ((10, 3, 2, 0, 1, 1), 5),  # per-side: (10 + 1 - 3) // 2 + 1 = 4 + 1
        ((3, 3, 1, 0, 0, 1), 1),  # kernel exactly covers the input
        ((2, 3, 1, 0, 0, 1), 0),  # kernel larger than the input: (2 - 3) // 1 + 1 = 0 (empty)
        ((4, 3, 1, 0, 0, 2), 0),  # k_eff 5 > 4: (4 - 5) // 1 + 1 = 0
    ],
)
def test_conv_output_size(args, expected):
    assert conv_output_size(*args) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # (n, k, s, p, d, ceil_mode)
        ((56, 2, 2, 0, 1, False), 28),  # seed: MaxPool 2x2 on 56
        ((112, 3, 2, 1, 1, False), 56),  # ResNet stem pool: (112 + 2 - 3) // 2 + 1 = 55 + 1
        ((5, 2, 2, 0, 1, False), 2),  # floor((5 - 2) / 2) + 1 = 1 + 1
        ((5, 2, 2, 0, 1, True), 3),  # ceil((5 - 2) / 2) + 1 = 2 + 1; last window starts at 4 < 5: kept
        # PyTorch's correction: the last window would start at (3 - 1) * 2 = 4 >= n + p = 3 + 1, i.e. in the
        # right padding only, so it is dropped: 3 -> 2.
        ((3, 2, 2, 1, 1, True), 2),
        ((3, 2, 2, 1, 1, False), 2),  # (3 + 2 - 2) // 2 + 1 = 1 + 1
        # Correction without padding: ceil((5 - 1) / 3) + 1 = 3, but window 2 would start at 6 >= 5.
        ((5, 1, 3, 0, 1, True), 2),
        ((4, 1, 2, 0, 1, True), 2),  # ceil(3 / 2) + 1 = 3; window 2 starts at 4 >= 4: dropped
        ((6, 3, 2, 1, 1, True), 4),  # ceil((6 + 2 - 3) / 2) + 1 = 3 + 1; last starts at 6 < 7: kept
        ((112, 3, 2, 0, 1, True), 56),  # GoogLeNet: ceil(109 / 2) + 1 = 55 + 1
        ((112, 3, 2, 0, 1, False), 55),  # floor(109 / 2) + 1 = 54 + 1
        ((20, 3, 2, 1, 2, True), 10),  # k_eff 5: ceil((20 + 2 - 5) / 2) + 1 = 9 + 1; start 18 < 21
        ((7, 3, 3, 0, 1, True), 3),  # ceil((7 - 3) / 3) + 1 = 2 + 1; start 6 < 7
        ((7, 3, 3, 0, 1, False), 2),  # floor(4 / 3) + 1
    ],
)
def test_pool_output_size(args, expected):
    assert pool_output_size(*args) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # (n, k, s, p, output_padding, d): (n - 1) * s - 2p + d(k - 1) + op + 1
        ((7, 3, 2, 1, 1, 1), 14),  # 12 - 2 + 2 + 1 + 1
        ((7, 3, 2, 1, 0, 1), 13),
        ((7, 3, 2, 1, 1, 2), 16),  # 12 - 2 + 4 + 1 + 1
        ((9, 2, 3, 0, 2, 1), 28),  # 24 - 0 + 1 + 2 + 1
        ((10, 4, 2, 1, 0, 1), 20),  # 18 - 2 + 3 + 1: the usual exact 2x upsampler
        ((5, 3, 1, 0, 2, 3), 13),  # 4 - 0 + 6 + 2 + 1 (output_padding < dilation is allowed)
        ((4, 2, 2, 0, 0, 1), 8),  # 6 + 1 + 1
    ],
)
def test_transposed_output_size(args, expected):
    assert transposed_output_size(*args) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # (n, k, s, d) -> (left, right); stride 1 = PyTorch's padding='same' (total d(k-1), smaller half left)
        ((11, 3, 1, 1), (1, 1)),
        ((11, 4, 1, 1), (1, 2)),  # even kernel: total 3, left 1, right 2
        ((11, 3, 1, 2), (2, 2)),  # k_eff 5: total 4
        ((11, 1, 1, 1), (0, 0)),
        # stride > 1 = TensorFlow's SAME: out = ceil(n / s), total = max((out - 1) * s + k_eff - n, 0)
        ((224, 3, 2, 1), (0, 1)),  # out 112: 111 * 2 + 3 - 224 = 1
        ((225, 3, 2, 1), (1, 1)),  # out 113: 112 * 2 + 3 - 225 = 2
        ((7, 4, 2, 1), (1, 2)),  # out 4: 3 * 2 + 4 - 7 = 3
        ((7, 5, 2, 1), (2, 2)),  # out 4: 6 + 5 - 7 = 4
        ((7, 1, 2, 1), (0, 0)),  # out 4: 6 + 1 - 7 = 0
        ((8, 1, 3, 1), (0, 0)),  # out 3: 6 + 1 - 8 = -1 -> 0
        ((5, 3, 3, 1), (0, 1)),  # out 2: 3 + 3 - 5 = 1
    ],
)
def test_same_padding(args, expected):
    assert same_padding(*args) == expected


def test_same_padding_gives_ceil_n_over_s_outputs():
    for size in range(1, 40):
        for kernel in range(1, 8):
            for stride in range(1, 5):
                left, right = same_padding(size, kernel, stride)
                assert conv_output_size(size, kernel, stride, left, right) == -(-size // stride)


@pytest.mark.parametrize(
    ("size", "output", "expected"),
    [
        (14, 7, [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14)]),
        # start floor(i * 10 / 3), end ceil((i + 1) * 10 / 3): 0..4, 3..7, 6..10 (overlapping windows of 4)
        (10, 3, [(0, 4), (3, 7), (6, 10)]),
        (7, 1, [(0, 7)]),
        # output larger than input: windows of 1 or 2 that repeat inputs
        (3, 5, [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)]),
        (5, 3, [(0, 2), (1, 4), (3, 5)]),
    ],
)
def test_adaptive_windows(size, output, expected):
    assert adaptive_windows(size, output) == expected


@pytest.mark.parametrize(
    ("size", "scale", "expected"),
    [
        (4, 2, 8),
        (5, 1.5, 7),  # floor(7.5)
        (4, 1.5, 6),
        (10, 0.5, 5),
        (7, 0.5, 3),  # floor(3.5)
        (10, 1.1, 11),
        (100, 0.29, 28),
    ],
)
def test_interpolate_output_size(size, scale, expected):
    assert interpolate_output_size(size, scale) == expected


@pytest.mark.parametrize(("size", "scale", "expected"), [(10, 0.7, 7), (10, 2.3, 23)])
def test_interpolate_output_size_matches_pytorch_float_product(size, scale, expected):
    assert interpolate_output_size(size, scale) == expected


# --------------------------------------------------------------------------------------- receptive field


def field(size, jump, padding):
    return AxisField(size, jump, padding)


def chain(*windows, start=IDENTITY_FIELD):
    """Apply through_window for each (kernel, stride, pad_left[, dilation]) in turn; return every field."""
    fields = []
    current = start
    for window in windows:
        current = through_window(current, *window)
        fields.append(current)
    return fields


def test_axis_field_center():
    # centre of unit 0 = (r - 1) / 2 - P
    assert IDENTITY_FIELD.center == 0
    assert field(7, 2, 3).center == 0
    assert field(2, 2, 0).center == Fraction(1, 2)
    assert field(5, 1, 0).center == 2


def test_distill_recurrences_one_step():
    # r_out = r + (k_eff - 1) * j, j_out = j * s, P_out = P + p_left * j
    start = field(11, 4, 5)
    assert through_window(start, 3, 2, 1) == field(11 + 2 * 4, 8, 5 + 1 * 4)  # (19, 8, 9)
    assert through_window(start, 3, 1, 0, 2) == field(11 + 4 * 4, 4, 5)  # k_eff 5: (27, 4, 5)
    assert through_window(start, 1, 2, 0) == field(11, 8, 5)  # 1x1 strided: r unchanged


def test_pytorch_receptive_field_readme_example():
    # conv 7 s2 p3 -> maxpool 3 s2 p1 -> avgpool 3 s2 p1
    # r: 1 + 6*1 = 7, 7 + 2*2 = 11, 11 + 2*4 = 19; j: 2, 4, 8; P: 0 + 3*1 = 3, 3 + 1*2 = 5, 5 + 1*4 = 9
    assert chain((7, 2, 3), (3, 2, 1), (3, 2, 1)) == [field(7, 2, 3), field(11, 4, 5), field(19, 8, 9)]
    # each unit 0 stays centred on input pixel 0 (the README's "start" 0.5 in its half-pixel coordinates)
    assert [f.center for f in chain((7, 2, 3), (3, 2, 1), (3, 2, 1))] == [0, 0, 0]


def test_two_stacked_3x3_convs_see_5():
    assert chain((3, 1, 0), (3, 1, 0))[-1] == field(5, 1, 0)
    assert chain((3, 1, 1), (3, 1, 1))[-1] == field(5, 1, 2)  # 'same' padding: P = 1 + 1
    assert chain((3, 1, 1), (3, 1, 1), (3, 1, 1))[-1] == field(7, 1, 3)


def test_strided_chain():
    # 3x3 s2 p1 three times: r 3, 3 + 2*2 = 7, 7 + 2*4 = 15; j 2, 4, 8; P 1, 1 + 2 = 3, 3 + 4 = 7
    assert chain((3, 2, 1), (3, 2, 1), (3, 2, 1)) == [field(3, 2, 1), field(7, 4, 3), field(15, 8, 7)]


def test_dilated_chain():
    # k_eff = d(k - 1) + 1: 3, 5, 9 for d = 1, 2, 4; r = 1 + 2 + 4 + 8 = 15 (the WaveNet-style stack)
    assert chain((3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)) == [field(3, 1, 1), field(7, 1, 3), field(15, 1, 7)]


def test_through_affine_is_the_window_formula():
    # window k, s, p: step s, offset (k - 1)/2 - p, span k
    assert through_affine(field(3, 1, 1), 2, Fraction(3 - 1, 2) - 1, 3) == through_window(field(3, 1, 1), 3, 2, 1)


def test_through_adaptive_divisible_is_a_window():
    # 14 -> 7: window 2, stride 2, no padding
    assert through_adaptive(IDENTITY_FIELD, 14, 7) == field(2, 2, 0)
    assert through_adaptive(IDENTITY_FIELD, 7, 1) == field(7, 7, 0)


def test_through_adaptive_not_divisible_uses_widest_window():
    # 10 -> 3: windows [0,4), [3,7), [6,10): widest 4, average step 10/3
    result = through_adaptive(IDENTITY_FIELD, 10, 3)
    assert result.size == 4
    assert result.jump == Fraction(10, 3)
    # first window [0, 4) is centred at 3/2: P = (4 - 1)/2 - 3/2 = 0
    assert result.start == 0


def test_whole_axis():
    # a 6-wide map whose units see (3, 1, 1): r = 3 + 5 * 1 = 8, j = 6, P = 1
    assert whole_axis(field(3, 1, 1), 6) == field(8, 6, 1)
    assert whole_axis(IDENTITY_FIELD, 7) == field(7, 7, 0)


def test_through_transposed():
    # k3 s2 p1: output y reads x with 2x - 1 + i = y: even y one input (x = y/2), odd y two ((y-1)/2, (y+1)/2)
    result = through_transposed(IDENTITY_FIELD, 3, 2, 1)
    assert result.reach == ((0, 0), (0, 1))
    assert (result.size, result.size_min, result.period, result.jump, result.start) == (2, 1, 2, Fraction(1, 2), 0)
    assert result.center == 0  # units 0 and 1 centred on 0 and 1/2: on y/2, like a 2x2 stride-2 window read back
    # k2 s2: each output reads one input; jump 1/2
    result = through_transposed(IDENTITY_FIELD, 2, 2, 0)
    assert (result.size, result.size_min, result.jump) == (1, 1, Fraction(1, 2))
    # stride 1 is an ordinary convolution read backwards: k3 s1 p1 -> span 3, jump 1, centred: P = 1
    assert through_transposed(IDENTITY_FIELD, 3, 1, 1) == field(3, 1, 1)


def test_through_resize():
    # nearest 2x: output y reads input floor(y/2): one pixel each, jump 1/2
    result = through_resize(IDENTITY_FIELD, 4, 8, "nearest")
    assert (result.size, result.size_min, result.jump, result.reach) == (1, 1, Fraction(1, 2), ((0, 0), (0, 0)))
    # bilinear 2x: x0 = floor((y + 1/2)/2 - 1/2) = floor(y/2 - 1/4), taps x0 and x0 + 1
    assert through_resize(IDENTITY_FIELD, 4, 8, "bilinear").reach == ((-1, 0), (0, 1))
    # align_corners: step (n_in - 1) / (n_out - 1) = 3/7, period 7
    aligned = through_resize(IDENTITY_FIELD, 4, 8, "bilinear", align_corners=True)
    assert (aligned.jump, aligned.period, aligned.size) == (Fraction(3, 7), 7, 2)
    # bicubic reads 4 taps, x0 - 1 .. x0 + 2
    assert through_resize(IDENTITY_FIELD, 4, 8, "bicubic").reach == ((-2, 1), (-1, 2))


def test_merge_aligned_takes_widest():
    widest, aligned = merge([field(3, 1, 1), field(5, 1, 2), IDENTITY_FIELD])
    assert widest == field(5, 1, 2)
    assert aligned  # all centred on pixel 0 with jump 1


def test_merge_misaligned():
    # 1x1 s2 (centre 0) against 2x2 s2 (centre 1/2): same jump, different centres
    widest, aligned = merge([field(1, 2, 0), field(2, 2, 0)])
    assert widest == field(2, 2, 0)
    assert not aligned
    # different jumps are misaligned too
    assert merge([field(3, 2, 1), field(3, 1, 1)])[1] is False


def test_adaptive_widest_window_in_closed_form():
    """The widest adaptive-pooling window, checked against the windows themselves (past 4096 outputs too)."""
    for size, output in [(7, 3), (9003, 9001), (224, 6), (10, 4), (5, 5)]:
        widest = max(end - start for start, end in adaptive_windows(size, output))
        assert through_adaptive(IDENTITY_FIELD, size, output).size == widest


def test_fields_after_upsampling_are_exact_per_unit():
    upsampled = through_transposed(IDENTITY_FIELD, kernel=2, stride=2, pad_left=0)
    assert (upsampled.size, upsampled.size_min) == (1, 1)  # each output reads exactly one input
    assert through_window(upsampled, 1, 1, 0) == upsampled
    # a 3-tap window on a half-pixel jump: unit y reads units y-1..y+1 = inputs floor((y-1)/2)..floor((y+1)/2)
    spread = through_window(upsampled, 3, 1, 1)
    assert (spread.exact, spread.reach, spread.size, spread.size_min) == (True, ((-1, 0), (0, 1)), 2, 2)
    # a 2-tap window: even units read one input, odd units two
    uneven = through_window(upsampled, 2, 1, 0)
    assert (uneven.reach, uneven.size, uneven.size_min, uneven.period) == (((0, 0), (0, 1)), 2, 1, 2)
