"""Reading and grading answers, forgivingly.

Numbers: 9472, 9,472, 9_472, 9.472K, 9.472 thousand, 1.5e9, 1.5G, 1.5 GFLOPs, 151M, 12.25 MiB, 11.5%,
fractions and sums of fractions (1/9, 1/256 + 1/9), a trailing 'x' (8.7x). Shapes: 64x112x112,
(64, 112, 112), [64, 112, 112], 64×112×112, with an optional leading B or N standing for the batch.

Every number is read exactly (decimal text -> Fraction), so '9.472K' is exactly 9472 and an exact
question is graded exactly; questions that say "approximately" carry a relative tolerance.

Hostile text is refused with an AnswerFormatError, never a hang or a crash: a number has at most
MAX_DIGITS significant digits and an exponent within ±MAX_EXPONENT (1e999999999 would build a
billion-digit integer), a sum has at most MAX_TERMS fractions, and a shape's sizes at most MAX_SIZE_DIGITS digits.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

# Scale words and suffixes. 'B' alone is billion for counts (1.5B parameters) and bytes for memory.
_SCALES = {
    "": 1,
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "mn": 10**6,
    "million": 10**6,
    "g": 10**9,
    "bn": 10**9,
    "billion": 10**9,
    "t": 10**12,
    "trillion": 10**12,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_UNIT_WORDS = (
    "flops",
    "flop",
    "macs",
    "mac",
    "parameters",
    "params",
    "param",
    "weights",
    "bytes",
    "byte",
    "elements",
    "tokens",
    "times",
    "x",
    "×",
)
_NUMBER = re.compile(
    r"^(?P<number>[+-]?(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+|\d+(?:_\d+)*)(?:\.\d+)?(?:e[+-]?\d+)?"
    r"|[+-]?\.\d+(?:e[+-]?\d+)?)\s*(?P<rest>.*)$"
)
_SCALE_WORD = re.compile(
    r"^(?P<scale>kib|mib|gib|tib|kb|mb|gb|tb|thousand|million|billion|trillion|bn|mn|k|m|g|b|t)?\s*(?P<unit>.*)$"
)
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:_\d+)*)(?:\.\d+)?"
_FRACTION_TERM = re.compile(rf"^\s*(?P<top>{_DIGITS})\s*(?:/\s*(?P<bottom>{_DIGITS}))?\s*$")
_HEDGES = ("approximately", "approx.", "approx", "about", "around", "roughly", "≈", "~")
MAX_DIGITS = 40  # significant digits of one typed number
MAX_EXPONENT = 40  # |exponent| of one typed number, as Decimal writes it (1.5e9: 8)
MAX_TERMS = 20  # fractions in one typed sum (1/256 + 1/9)
MAX_SIZE_DIGITS = 18  # digits of one size in a typed shape
_SHOWN_CHARS = 40  # an answer quoted in a message is cut to this length
UNIT_SCALES = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}


class AnswerFormatError(ValueError):
    """The text is not a number or shape the grader can read; the message says what was expected."""


class AnswerKind(str, enum.Enum):
    NUMBER = "number"
    SHAPE = "shape"


@dataclass(frozen=True)
class Expected:
    """The right answer of a question and how strictly it is graded.

    value:      an exact Fraction for numbers, a tuple for shapes (batch axis first).
    tolerance:  relative tolerance for "approximately" questions; 0 means exact.
    unit:       the unit a bare number is read in (the question says "in MiB"): a key of UNIT_SCALES.
    memory:     a byte count, so that a lone 'B' means bytes rather than billion.
    batch_axis: the shape's first axis is a batch, which the answer may leave out.
    """

    kind: AnswerKind
    value: Fraction | tuple[int, ...]
    tolerance: Fraction = Fraction(0)
    unit: str = ""
    memory: bool = False
    batch_axis: bool = True

    def describe(self) -> str:
        """The answer as the feedback shows it: '9,472', '32x64x112x112', '73/576 ≈ 0.1267'."""
        if isinstance(self.value, tuple):
            return "x".join(str(size) for size in self.value)
        value = self.value
        if self.unit:
            scaled = value / UNIT_SCALES[self.unit]
            return f"{float(scaled):,.4g} {self.unit} (exactly {_exact(value)}{' bytes' if self.memory else ''})"
        if value.denominator != 1:
            return f"{value.numerator:,}/{value.denominator:,} ≈ {float(value):.4g}"
        return f"{value.numerator:,}"

    def machine_value(self) -> int | float | list[int]:
        """JSON-friendly value: an integer, a float for non-integer ratios, a list for shapes."""
        if isinstance(self.value, tuple):
            return list(self.value)
        return self.value.numerator if self.value.denominator == 1 else float(self.value)


@dataclass(frozen=True)
class TypedNumber:
    """A typed number, and the precision it was written with.

    value:     the exact value of the text ('1.6M' is 1,600,000)
    scaled:    it carried its own scale or unit (K, M, MiB, %, e9, a fraction), so it is never read in the
               question's unit
    half_step: half a unit of the last digit written, in the value's units: '1.6M' stands for anything from
               1.55M to 1.65M (50,000 either side), '9,472' for 9,472 (0.5 either side), '1/9' for 1/9 exactly (0)
    """

    value: Fraction
    scaled: bool
    half_step: Fraction = Fraction(0)

    def could_be(self, target: Fraction, tolerance: Fraction = Fraction(0)) -> bool:
        """Whether this number is `target` written at this precision, or within the relative `tolerance` of it."""
        return abs(self.value - target) <= max(self.half_step, tolerance * abs(target))

    def times(self, factor: int | Fraction) -> TypedNumber:
        return TypedNumber(self.value * factor, self.scaled, self.half_step * factor)


@dataclass(frozen=True)
class Grade:
    correct: bool
    understood: str  # what the grader read, normalised ('9,472', '64x112x112')
    note: str = ""  # a remark: near miss, a known mistake, the batch axis left out


def _exact(value: Fraction) -> str:
    return f"{value.numerator:,}" if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def parse_number(text: str, memory: bool = False) -> tuple[Fraction, bool]:
    """The exact value of a typed number, and whether it carried its own scale (K, M, MiB, %...)."""
    typed = parse_typed_number(text, memory)
    return typed.value, typed.scaled


def parse_typed_number(text: str, memory: bool = False) -> TypedNumber:
    """A typed number: its exact value, whether it carried its own scale, and the precision it was written with."""
    cleaned = text.strip().lower()
    for hedge in _HEDGES:
        if cleaned.startswith(hedge):
            cleaned = cleaned[len(hedge) :].strip()
    if not cleaned:
        raise AnswerFormatError("empty answer")
    if cleaned.endswith("%"):
        body = cleaned[:-1].strip()
        if body.endswith("%") or not body:
            raise AnswerFormatError(f"{_shown(text)} is not a percentage (write 11.5%)")
        percent = _parse_plain(body, memory, text)
        return TypedNumber(percent.value / 100, True, percent.half_step / 100)
    return _parse_plain(cleaned, memory, text)


def _parse_plain(cleaned: str, memory: bool, text: str) -> TypedNumber:
    if "/" in cleaned:
        return TypedNumber(_fraction_sum(cleaned, text), True)  # a fraction is exact: no digits were rounded off
    match = _NUMBER.match(cleaned)
    if match is None:
        raise AnswerFormatError(f"{_shown(text)} is not a number (try 9472, 9,472, 9.472K, 1.5e9 or 1/9)")
    digits = match["number"].replace(",", "").replace("_", "").replace(" ", "")
    value = _decimal_value(digits, text)
    scale, scaled = _scale(match["rest"].strip(), memory, text)
    exponent = Decimal(digits).as_tuple().exponent  # of the last digit written: 1.6 -> -1, 1.6e6 -> 5
    assert isinstance(exponent, int)  # _decimal_value refused NaN and infinities
    half_step = Fraction(10) ** exponent / 2 * scale
    # Scientific notation is a full value (1.5e8), never a multiple of the question's unit.
    return TypedNumber(value * scale, scaled or "e" in digits, half_step)


def _decimal_value(digits: str, text: str) -> Fraction:
    """The exact value of decimal text, refused (not built) when it is longer or larger than any answer."""
    try:
        number: Decimal | None = Decimal(digits)  # the patterns allow only digits: fails on a huge exponent alone
    except (InvalidOperation, ValueError):
        number = None
    exponent = number.as_tuple().exponent if number is not None else None
    if (
        number is None
        or not isinstance(exponent, int)
        or len(number.as_tuple().digits) > MAX_DIGITS
        or not -MAX_EXPONENT <= exponent <= MAX_EXPONENT
    ):
        raise AnswerFormatError(
            f"{_shown(text)} is too long or too large to be an answer "
            f"(at most {MAX_DIGITS} digits and an exponent within ±{MAX_EXPONENT})"
        )
    return Fraction(number)


def _shown(text: str) -> str:
    """The typed text quoted for a message, cut short: a 5,000-digit answer is not echoed whole."""
    text = text.strip()
    if len(text) > _SHOWN_CHARS:
        text = f"{text[: _SHOWN_CHARS - 10]}…{text[-9:]} ({len(text):,} characters)"
    return repr(text)


def _scale(rest: str, memory: bool, text: str) -> tuple[int, bool]:
    if not rest:
        return 1, False
    if rest.startswith(","):
        raise AnswerFormatError(
            f"cannot read {_shown(text)}: write decimals with a dot, and commas only between groups of three digits"
        )
    if rest in _UNIT_WORDS:  # 'bytes', 'flops': no scale ('bytes' is not b + 'ytes')
        return 1, True
    match = _SCALE_WORD.match(rest)
    assert match is not None  # every part of the pattern is optional
    scale_word, unit = match["scale"] or "", match["unit"].strip()
    if unit and unit not in _UNIT_WORDS:
        # 'mflops' reads as m + flops; a word we do not know is an error rather than a guess.
        raise AnswerFormatError(f"cannot read the unit {_shown(rest)} in {_shown(text)} (try K, M, G, MiB or no unit)")
    # Any scale or unit word makes the number absolute; only a bare number is read in the question's unit.
    if scale_word == "b":
        return (1 if memory else 10**9), True
    return _SCALES[scale_word], True


def _fraction_sum(cleaned: str, text: str) -> Fraction:
    terms = cleaned.split("+")
    if len(terms) > MAX_TERMS:
        raise AnswerFormatError(f"{_shown(text)} has more than {MAX_TERMS} terms")
    total = Fraction(0)
    for term in terms:
        match = _FRACTION_TERM.match(term)
        if match is None:
            raise AnswerFormatError(f"{_shown(term)} is not a fraction (write 1/9, 0.111 or 1/256 + 1/9)")
        top = _decimal_value(_ungrouped(match["top"]), term)
        bottom = _decimal_value(_ungrouped(match["bottom"]), term) if match["bottom"] else Fraction(1)
        if bottom == 0:
            raise AnswerFormatError("division by zero")
        total += top / bottom
    return total


def _ungrouped(digits: str) -> str:
    return digits.replace(",", "").replace("_", "")


def parse_shape(text: str) -> tuple[tuple[int, ...], bool]:
    """The sizes of a typed shape, and whether it began with a symbolic batch (B, N)."""
    cleaned = text.strip().lower()
    for bracket in "()[]{}":
        cleaned = cleaned.replace(bracket, " ")
    tokens = [token for token in re.split(r"[x×*,\s]+", cleaned) if token]
    symbolic = bool(tokens) and tokens[0] in ("b", "n", "batch")
    if symbolic:
        tokens = tokens[1:]
    if not tokens:
        raise AnswerFormatError("empty shape (write it like 64x112x112 or (64, 112, 112))")
    if any(len(token) > MAX_SIZE_DIGITS for token in tokens):
        raise AnswerFormatError(f"{_shown(text)} has a size with more than {MAX_SIZE_DIGITS} digits")
    try:
        sizes = tuple(int(token.replace("_", "")) for token in tokens)
    except ValueError:
        raise AnswerFormatError(f"{_shown(text)} is not a shape (write it like 64x112x112 or (64, 112, 112))") from None
    return sizes, symbolic


def read_number(expected: Expected, text: str) -> Fraction:
    """The value of a typed number for this question: a bare number is read in the question's unit
    ("98" when it asks in MiB), unless it is already a full count (102760448)."""
    return read_typed_number(expected, text).value


def read_typed_number(expected: Expected, text: str) -> TypedNumber:
    """As read_number, with the precision the number was written with, in the same units."""
    typed = parse_typed_number(text, expected.memory)
    if not typed.scaled and expected.unit and typed.value < UNIT_SCALES[expected.unit]:
        return typed.times(UNIT_SCALES[expected.unit])
    return typed


def read_answer(expected: Expected, text: str) -> Fraction | tuple[int, ...]:
    """The typed answer as a value comparable with expected.value (shapes without a symbolic batch)."""
    if expected.kind is AnswerKind.SHAPE:
        return parse_shape(text)[0]
    return read_number(expected, text)


def grade(expected: Expected, text: str) -> Grade:
    """Compare a typed answer with the expected one; raises AnswerFormatError if it cannot be read."""
    if expected.kind is AnswerKind.SHAPE:
        assert isinstance(expected.value, tuple)
        return _grade_shape(expected.value, text, expected.batch_axis)
    assert isinstance(expected.value, Fraction)
    value = read_number(expected, text)
    understood = _understood(value, expected)
    target = expected.value
    if value == target:
        return Grade(True, understood)
    error = abs(value - target) / abs(target) if target else abs(value)
    if expected.tolerance and error <= expected.tolerance:
        return Grade(True, understood, f"within {float(expected.tolerance):.1%} of the exact value")
    if not expected.tolerance and error <= Fraction(1, 200):
        return Grade(False, understood, f"close ({float(error):.2%} off), but this question asks for the exact value")
    return Grade(False, understood)


def _understood(value: Fraction, expected: Expected) -> str:
    if expected.unit:
        return f"{float(value / UNIT_SCALES[expected.unit]):,.4g} {expected.unit}"
    if value.denominator == 1:
        return f"{value.numerator:,}"
    return f"{float(value):.6g}"


def _grade_shape(target: tuple[int, ...], text: str, batch_axis: bool) -> Grade:
    sizes, symbolic = parse_shape(text)
    understood = ("B" + "x" if symbolic else "") + "x".join(str(size) for size in sizes)
    if sizes == target and not symbolic:
        return Grade(True, understood)
    if batch_axis and sizes == target[1:]:
        # The batch axis passes through every layer unchanged; leaving it out (or writing B) is fine.
        return Grade(True, understood, "" if symbolic else "batch axis left out; it is unchanged")
    if len(sizes) not in (len(target), len(target) - batch_axis):
        axes = f"{len(target)} axes" + (" (batch first)" if batch_axis else "")
        return Grade(False, understood, f"the answer has {axes}, yours {len(sizes)}")
    return Grade(False, understood)
