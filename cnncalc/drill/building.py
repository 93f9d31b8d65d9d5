"""Assembling a question: the worked solution with its answer line, the id, the typical mistakes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from cnncalc.calc.worked import Worked
from cnncalc.drill.answers import Expected
from cnncalc.drill.question import Level, Mistake, Question, answer_format_for


def solution(worked: Worked, answer: str, remarks: Sequence[str] = ()) -> str:
    """The full worked solution: the steps, the answer line, then remarks (corrections of the notes)."""
    lines = [*worked.lines, f"Answer: {answer}"]
    lines.extend(f"Note: {remark}" for remark in remarks)
    return "\n".join(lines)


def generated(
    topic: str,
    level: Level,
    key: str,
    prompt: str,
    expected: Expected,
    worked: Worked,
    facts: Mapping[str, Any],
    command: str = "",
    mistakes: Iterable[Mistake] = (),
    answer_format: str = "",
    remarks: Sequence[str] = (),
) -> Question:
    """A generated question of `topic`. Its id is topic/key (stable: it keys the saved progress); its solution is
    the worked steps ending with the expected answer as the feedback shows it; its answer format, unless given,
    the one for that kind of answer."""
    return Question(
        id=f"{topic}/{key}",
        topic=topic,
        level=level.value,
        prompt=prompt,
        expected=expected,
        solution=solution(worked, expected.describe(), remarks),
        answer_format=answer_format or answer_format_for(expected),
        facts=facts,
        command=command,
        mistakes=tuple(mistakes),
    )


def excluding_answer(mistakes: Iterable[Mistake], answer: Fraction | tuple[int, ...]) -> tuple[Mistake, ...]:
    """The typical mistakes that are not, for these numbers, the right answer after all."""
    return tuple((value, note) for value, note in mistakes if value != answer)
