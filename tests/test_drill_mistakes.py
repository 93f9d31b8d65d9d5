"""Typical mistakes are recognised at the precision an answer was written with, not only when typed exactly."""

from __future__ import annotations

from fractions import Fraction

import pytest

from cnncalc.drill.answers import AnswerKind, Expected, parse_typed_number, read_typed_number
from cnncalc.drill.notes import fixed_questions
from cnncalc.drill.question import APPROX, Question, approximate_number, exact_number

MAC_NOTE = "that is the MAC count: FLOPs = 2 × MACs"


def question(expected: Expected, mistakes: tuple[tuple[Fraction, str], ...]) -> Question:
    return Question("test", "macs-flops", "medium", "?", expected, "", "", mistakes=mistakes)


def note_of(asked: Question, text: str) -> str:
    grade = asked.grade(text)
    assert not grade.correct
    return grade.note


@pytest.fixture(scope="module")
def pointwise_flops() -> Question:
    """nn.Conv2d(32, 64, kernel_size=1) on (1, 32, 28, 28): 28·28 positions × 64·32 weights = 1,605,632 MACs,
    3,211,264 FLOPs, asked exactly."""
    macs = 28 * 28 * 64 * 32
    assert (macs, 2 * macs) == (1_605_632, 3_211_264)
    return question(exact_number(2 * macs), ((Fraction(macs), MAC_NOTE),))


@pytest.mark.parametrize("text", ["1,605,632", "1.6M", "1.6 million", "1.61M", "1.6e6", "1606K", "~1.6M"])
def test_the_mac_count_rounded_gets_the_same_remark_as_exact(pointwise_flops: Question, text: str) -> None:
    """1.6M stands for 1.55M to 1.65M, which holds 1,605,632; 1.61M for 1.605M to 1.615M; 1606K for 1,605,500 to
    1,606,500."""
    assert note_of(pointwise_flops, text) == MAC_NOTE


@pytest.mark.parametrize("text", ["1.62M", "1,600,000", "1605K", "1.5M"])
def test_a_number_whose_precision_excludes_the_mac_count_gets_no_remark(pointwise_flops: Question, text: str) -> None:
    """1.62M is 1.615M to 1.625M; 1,600,000 is exact; 1605K is 1,604,500 to 1,605,500: none holds 1,605,632."""
    assert note_of(pointwise_flops, text) == ""


def test_one_image_for_the_batch_rounded() -> None:
    """The same conv on a batch of 8: 8 × 1,605,632 = 12,845,056 MACs; '1.6M' is one image's count."""
    asked = question(exact_number(12_845_056), ((Fraction(1_605_632), "that is one image: multiply by 8"),))
    assert note_of(asked, "1.6M") == "that is one image: multiply by 8"
    assert note_of(asked, "1.6e6") == "that is one image: multiply by 8"


def test_approximate_questions_match_mistakes_within_their_tolerance_too() -> None:
    """The notes' 3x3 conv, 32 → 64 at 64x64: 2·64·64·9·32·64 = 150,994,944 FLOPs, asked in M within 2%."""
    flops = next(asked for asked in fixed_questions() if asked.id == "notes/conv3x3-flops")
    assert flops.expected.value == 2 * 64 * 64 * 9 * 32 * 64 == 150_994_944
    assert note_of(flops, "75") == MAC_NOTE  # bare: 75 M, and 75,497,472 MACs round to 75 M
    assert note_of(flops, "75.5M") == MAC_NOTE
    assert note_of(flops, "74") == MAC_NOTE  # 74 M is 2.0% under 75,497,472: within the question's 2%
    assert note_of(flops, "73") == ""  # 3.3% under
    figure = "1.5×10⁹ is the notes' figure, and it is 10× too large"
    assert note_of(flops, "1.5G") == figure
    assert note_of(flops, "1.51e9") == figure  # 0.7% over 1.5×10⁹


def test_bytes_of_a_four_byte_element_in_rounded_mib() -> None:
    """A float16 output of 64x112x112: 802,816 elements × 2 bytes = 1,605,632 bytes (1.53 MiB); counting 4 bytes
    an element gives 3,211,264 bytes = 3.0625 MiB, asked approximately in MiB."""
    expected = approximate_number(1_605_632, APPROX, "MiB", memory=True)
    asked = question(expected, ((Fraction(3_211_264), "float16 takes 2 bytes per element, not 4"),))
    for text in ("3.0625", "3.06", "3.1 MiB", "3 MiB", "3211264 bytes"):
        assert note_of(asked, text) == "float16 takes 2 bytes per element, not 4", text
    assert note_of(asked, "3.2") == ""  # 3.15 to 3.25 MiB; 4.5% over 3.0625 MiB


def test_a_ratio_written_as_a_rounded_decimal_or_percentage() -> None:
    """1/256 + 1/9 = 265/2304 ≈ 0.1150; 1/9 ≈ 0.1111 is the depthwise term alone."""
    ratio = next(asked for asked in fixed_questions() if asked.id == "notes/separable-ratio")
    assert ratio.expected.value == Fraction(1, 256) + Fraction(1, 9)
    note = "1/9 leaves out the pointwise term 1/C_out = 1/256"
    for text in ("1/9", "0.111", "0.1111", "11.1%"):
        assert note_of(ratio, text) == note, text
    assert note_of(ratio, "0.112") == ""  # 0.1115 to 0.1125 does not hold 0.1111


def test_no_remark_when_the_rounded_answer_could_as_well_be_the_right_one() -> None:
    """nn.Conv2d(512, 512, 7): 512·512·49 + 512 = 12,845,568 params; the weights alone, 12,845,056. '12.8M' is
    12.75M to 12.85M: both. The exact question says how close it is instead of guessing a mistake."""
    asked = question(exact_number(12_845_568), ((Fraction(12_845_056), "that is the weights alone"),))
    assert note_of(asked, "12,845,056") == "that is the weights alone"
    assert note_of(asked, "12.8M") == "close (0.35% off), but this question asks for the exact value"


def test_the_exact_value_of_a_mistake_keeps_its_remark_even_near_the_answer() -> None:
    """How many times cheaper is a separable 3x3 conv to 256 channels: 1 / (1/256 + 1/9) = 2304/265 ≈ 8.69, within
    1%. '9' could be 8.69 rounded, but it is exactly K² = 9, the large-C_out limit: that remark stays."""
    asked = question(approximate_number(Fraction(2304, 265), Fraction(1, 100)), ((Fraction(9), "K² = 9 is the limit"),))
    assert note_of(asked, "9") == "K² = 9 is the limit"
    assert note_of(asked, "9x") == "K² = 9 is the limit"
    assert note_of(asked, "9.0") == "K² = 9 is the limit"


def test_the_nearest_of_two_mistakes_is_named() -> None:
    asked = question(exact_number(1000), ((Fraction(500), "half"), (Fraction(520), "a little over half")))
    assert note_of(asked, "0.5K") == "half"  # 450 to 550 holds both; 500 is nearer
    assert note_of(asked, "0.52K") == "a little over half"


@pytest.mark.parametrize(
    ("text", "value", "half_step"),
    [
        ("1.6M", 1_600_000, 50_000),
        ("9,472", 9472, Fraction(1, 2)),
        ("9.472K", 9472, Fraction(1, 2)),
        ("1.5e9", 1_500_000_000, 50_000_000),
        ("1.50e9", 1_500_000_000, 5_000_000),
        ("11.5%", Fraction(23, 200), Fraction(1, 2000)),
        ("0.111", Fraction(111, 1000), Fraction(1, 2000)),
        ("1/9", Fraction(1, 9), 0),
        ("12.25 MiB", 12_845_056, Fraction(2**20, 200)),
    ],
)
def test_the_precision_a_number_was_written_with(text: str, value: Fraction, half_step: Fraction) -> None:
    typed = parse_typed_number(text)
    assert (typed.value, typed.half_step) == (value, half_step)


def test_a_bare_number_read_in_the_question_unit_keeps_its_precision_in_that_unit() -> None:
    expected = Expected(AnswerKind.NUMBER, Fraction(102_760_448), APPROX, "MiB", memory=True)
    typed = read_typed_number(expected, "98")
    assert (typed.value, typed.half_step) == (98 * 2**20, 2**19)
    full = read_typed_number(expected, "102760448")  # a full byte count, not 102,760,448 MiB
    assert (full.value, full.half_step) == (102_760_448, Fraction(1, 2))
