"""A drill question: what is asked, the engine's answer, and the worked solution."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cnncalc.drill.answers import AnswerKind, Expected, Grade, grade, read_answer, read_typed_number


class Level(str, enum.Enum):
    """Difficulty: easy (stride 1-2, canonical sizes), medium (odd sizes, groups, batches, ceil_mode),
    hard (dilation, rectangular inputs, output_padding, mixed dtypes, longer stacks)."""

    easy = "easy"
    medium = "medium"
    hard = "hard"


SHAPE_FORMAT = "a shape such as 8x64x56x56 or (64, 56, 56); the batch axis may be left out"
COUNT_FORMAT = "an exact number: 9472, 9,472, 9_472 or 9.472K"
RATIO_FORMAT = "a fraction or a decimal: 1/9, 0.111 or 11.1%"
APPROX = Fraction(2, 100)  # the relative tolerance of every "approximately" question
APPROX_EXAMPLES = "1.5e9, 151M, 1.5G"
TIMES_EXAMPLES = "16.9 or 16.9x"

Mistake = tuple[Fraction | tuple[int, ...], str]  # a typical wrong answer, and what went wrong


def approx_format(unit: str, tolerance: Fraction, examples: str = APPROX_EXAMPLES) -> str:
    unit_text = f"in {unit} (a bare number is read in {unit}), or as" if unit else "a number such as"
    return f"approximately, within {float(tolerance):.0%}: {unit_text} {examples}"


def answer_format_for(expected: Expected, examples: str = APPROX_EXAMPLES) -> str:
    """How to type an answer of this kind: a shape, an exact count, or an approximate number (in its unit)."""
    if expected.kind is AnswerKind.SHAPE:
        return SHAPE_FORMAT
    if not expected.tolerance:
        return COUNT_FORMAT
    return approx_format(expected.unit, expected.tolerance, examples)


@dataclass(frozen=True)
class Question:
    """One question. `facts` hold what the question is about (sizes, kernel, ...) so that the answer can
    be recomputed independently (the tests do) and reported in JSON."""

    id: str  # stable: the topic, the variant and the numbers, e.g. "conv-output/shape/64x56x56/..."
    topic: str
    level: str
    prompt: str
    expected: Expected
    solution: str  # the worked solution, numbers from the engine
    answer_format: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""  # for the study notes' own examples: where they come from
    command: str = ""  # the `cnncalc calc` command that shows the same solution
    mistakes: tuple[Mistake, ...] = ()  # typical wrong answers, explained

    def grade(self, text: str) -> Grade:
        """Grade a typed answer; a known wrong answer gets its explanation as the note."""
        result = grade(self.expected, text)
        if result.correct:
            return result
        note = self.known_mistake(text)
        return Grade(False, result.understood, note) if note else result

    def known_mistake(self, text: str) -> str | None:
        """The explanation of the typical mistake a wrong answer is, if it is one.

        The mistake's exact value is always recognised. Beyond that, a number is taken at the precision it was
        written with, and within the question's tolerance: '1.6M' (1.55M to 1.65M) is the MAC count 1,605,632
        just as '1,605,632' is. A rounded answer that could as well be the right one is no known mistake: '12.8M'
        params could be 12,845,568 (right) or 12,845,056 (the weights alone), and the remark would be a guess.
        """
        given = read_answer(self.expected, text)
        exact = next((note for value, note in self.mistakes if given == value), None)
        if exact is not None or self.expected.kind is AnswerKind.SHAPE:
            return exact
        assert isinstance(self.expected.value, Fraction)
        typed = read_typed_number(self.expected, text)
        tolerance = self.expected.tolerance
        if typed.could_be(self.expected.value, tolerance):
            return None
        near = [
            (abs(typed.value - value), note)
            for value, note in self.mistakes
            if isinstance(value, (int, Fraction)) and typed.could_be(Fraction(value), tolerance)
        ]
        return min(near, key=lambda match: match[0])[1] if near else None  # the nearest; the first listed on a tie


def question_data(number: int, question: Question) -> dict[str, Any]:
    """A question, numbered, for a JSON document: a worksheet's entries, and a session report's before grading."""
    return {
        "number": number,
        "id": question.id,
        "topic": question.topic,
        "level": question.level,
        "source": question.source or None,
        "prompt": question.prompt,
        "answer_format": question.answer_format,
        "expected": question.expected.machine_value(),
        "expected_text": question.expected.describe(),
        "tolerance": float(question.expected.tolerance),
        "solution": question.solution,
        "command": question.command or None,
        "facts": dict(question.facts),
    }


def exact_number(value: int | Fraction) -> Expected:
    return Expected(AnswerKind.NUMBER, Fraction(value))


def approximate_number(value: int | Fraction, tolerance: Fraction, unit: str = "", memory: bool = False) -> Expected:
    return Expected(AnswerKind.NUMBER, Fraction(value), tolerance, unit, memory)


def shape_answer(shape: tuple[int, ...], batch_axis: bool = True) -> Expected:
    return Expected(AnswerKind.SHAPE, tuple(shape), batch_axis=batch_axis)
