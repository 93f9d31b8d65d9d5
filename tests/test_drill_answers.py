"""Answer parsing and grading: every form the drill promises to read, exactly, and the tolerance rules."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from cnncalc.drill.answers import (
    AnswerFormatError,
    AnswerKind,
    Expected,
    grade,
    parse_number,
    parse_shape,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("9472", 9472),
        ("9,472", 9472),
        ("9_472", 9472),
        ("9 472", 9472),
        ("9.472K", 9472),
        ("9.472k", 9472),
        ("9.472 thousand", 9472),
        ("2,049,000", 2049000),
        ("1.5e9", 1_500_000_000),
        ("1.5E9", 1_500_000_000),
        ("1.5G", 1_500_000_000),
        ("1.5 GFLOPs", 1_500_000_000),
        ("1.5B", 1_500_000_000),
        ("1.5 billion", 1_500_000_000),
        ("151M", 151_000_000),
        ("151 MFLOPs", 151_000_000),
        ("151 million", 151_000_000),
        ("12.25 MiB", 12_845_056),
        ("2 GiB", 2 * 2**30),
        ("~98", 98),
        ("approximately 98", 98),
        ("3 flops", 3),
        (".5", Fraction(1, 2)),
    ],
)
def test_numbers_are_read_exactly(text: str, value: int | Fraction) -> None:
    assert parse_number(text)[0] == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1/9", Fraction(1, 9)),
        ("0.115", Fraction(115, 1000)),
        ("11.5%", Fraction(115, 1000)),
        ("1/256 + 1/9", Fraction(265, 2304)),
        ("265/2304", Fraction(265, 2304)),
        ("8.7x", Fraction(87, 10)),
        ("8.7 times", Fraction(87, 10)),
    ],
)
def test_ratios_as_fractions_decimals_and_percentages(text: str, value: Fraction) -> None:
    assert parse_number(text)[0] == value


def test_bytes_read_b_as_bytes_and_counts_read_it_as_billion() -> None:
    assert parse_number("102760448 B", memory=True)[0] == 102_760_448
    assert parse_number("102760448 bytes")[0] == 102_760_448
    assert parse_number("3B")[0] == 3_000_000_000


@pytest.mark.parametrize("text", ["64x112x112", "(64, 112, 112)", "[64,112,112]", "64×112×112", "64 x 112 x 112"])
def test_shapes(text: str) -> None:
    assert parse_shape(text) == ((64, 112, 112), False)


def test_a_leading_b_stands_for_the_batch() -> None:
    assert parse_shape("(B, 256, 28, 28)") == ((256, 28, 28), True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "'abc' is not a number (try 9472, 9,472, 9.472K, 1.5e9 or 1/9)"),
        ("", "empty answer"),
        ("1,5", "cannot read '1,5': write decimals with a dot, and commas only between groups of three digits"),
        ("12 parsecs", "cannot read the unit 'parsecs' in '12 parsecs' (try K, M, G, MiB or no unit)"),
        ("1/0", "division by zero"),
    ],
)
def test_malformed_numbers_raise_a_readable_error(text: str, message: str) -> None:
    with pytest.raises(AnswerFormatError, match=f"^{re.escape(message)}$"):
        parse_number(text)


def test_malformed_shape_raises() -> None:
    message = "'64xfoo' is not a shape (write it like 64x112x112 or (64, 112, 112))"
    with pytest.raises(AnswerFormatError, match=f"^{re.escape(message)}$"):
        parse_shape("64xfoo")


def test_exact_questions_need_the_exact_value_and_say_when_it_is_close() -> None:
    expected = Expected(AnswerKind.NUMBER, Fraction(9472))
    assert grade(expected, "9.472K").correct
    near = grade(expected, "9.47K")
    assert not near.correct
    assert "exact" in near.note
    assert not grade(expected, "9408").correct


def test_approximate_questions_accept_the_stated_tolerance_and_read_bare_numbers_in_their_unit() -> None:
    expected = Expected(AnswerKind.NUMBER, Fraction(150_994_944), Fraction(2, 100), "M")
    assert grade(expected, "151").correct  # bare: read in M
    assert grade(expected, "151M").correct
    assert grade(expected, "1.5e8").correct  # scientific notation is a full value
    assert grade(expected, "150994944").correct  # a full count, not 150994944 M
    assert not grade(expected, "1.5e9").correct  # 10x off
    assert not grade(expected, "145M").correct  # 4% off, outside 2%


def test_memory_answers_in_mib_or_bytes() -> None:
    expected = Expected(AnswerKind.NUMBER, Fraction(102_760_448), Fraction(2, 100), "MiB", memory=True)
    assert grade(expected, "98").correct
    assert grade(expected, "98 MiB").correct
    assert grade(expected, "102760448 bytes").correct
    assert grade(expected, "103 MB").correct  # 98.2 MiB, within 2%
    assert not grade(expected, "0.1 GB").correct  # 95.4 MiB, 2.7% off


def test_shapes_may_leave_out_the_batch_axis_unless_there_is_none() -> None:
    batched = Expected(AnswerKind.SHAPE, (32, 64, 112, 112))
    assert grade(batched, "32x64x112x112").correct
    assert grade(batched, "64x112x112").correct
    assert grade(batched, "(B, 64, 112, 112)").correct
    wrong_rank = grade(batched, "64x112")
    assert not wrong_rank.correct and "4 axes" in wrong_rank.note
    matrix = Expected(AnswerKind.SHAPE, (147, 12544), batch_axis=False)
    assert grade(matrix, "147x12544").correct
    assert not grade(matrix, "12544").correct


def test_expected_answers_describe_themselves() -> None:
    assert Expected(AnswerKind.NUMBER, Fraction(9472)).describe() == "9,472"
    assert Expected(AnswerKind.SHAPE, (32, 64, 112, 112)).describe() == "32x64x112x112"
    assert Expected(AnswerKind.NUMBER, Fraction(73, 576), Fraction(1, 200)).describe() == "73/576 ≈ 0.1267"
    memory = Expected(AnswerKind.NUMBER, Fraction(102_760_448), Fraction(2, 100), "MiB", memory=True)
    assert memory.describe() == "98 MiB (exactly 102,760,448 bytes)"


@pytest.mark.parametrize(
    "text",
    [
        "9" * 5000,  # a 5,000-digit integer: formatting it raised ValueError (int-to-str limit)
        "9" * 41,
        "1e41",
        "1e-41",
        "1/" + "7" * 5000,
        "1" + "%" * 3000,  # '%' was peeled off recursively: RecursionError
        "5%%",
        "+".join(["1/3"] * 30),
    ],
)
def test_hostile_numbers_are_format_errors(text: str) -> None:
    expected = Expected(AnswerKind.NUMBER, Fraction(9472))
    with pytest.raises(AnswerFormatError) as error:
        grade(expected, text)
    assert len(str(error.value)) < 200  # the text is quoted cut short


def test_the_largest_accepted_numbers_are_read_exactly() -> None:
    assert parse_number("9" * 40)[0] == 10**40 - 1
    assert parse_number("1.5e40")[0] == 15 * 10**39
    assert parse_number("1e-40")[0] == Fraction(1, 10**40)
    assert grade(Expected(AnswerKind.NUMBER, Fraction(9472)), "9" * 40).understood == f"{10**40 - 1:,}"


def test_hostile_shapes_are_format_errors() -> None:
    with pytest.raises(AnswerFormatError, match="more than 18 digits"):
        parse_shape("64x" + "9" * 5000)
