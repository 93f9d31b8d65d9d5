"""`cnncalc drill --print`: a worksheet to study on paper, with the answer key at the end."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cnncalc.drill.plan import SessionRequest
from cnncalc.drill.question import Question, question_data


def reproduce_command(request: SessionRequest, seed: int) -> str:
    parts = ["cnncalc drill --print", f"--seed {seed}", f"--count {request.count}", f"--level {request.level.value}"]
    if request.topics:
        parts.append(f"--topic {','.join(request.topics)}")
    if request.notes_only:
        parts.append("--notes")
    return " ".join(parts)


BLANK = "________________"  # where the answer goes on paper


def markdown_worksheet(questions: Sequence[Question], request: SessionRequest, seed: int) -> str:
    return _text_sheet(questions, request, seed, _MARKDOWN)


def plain_worksheet(questions: Sequence[Question], request: SessionRequest, seed: int) -> str:
    return _text_sheet(questions, request, seed, _PLAIN)


Entry = Callable[[int, Question], list[str]]  # the lines of a numbered question, or of its answer


@dataclass(frozen=True)
class _TextStyle:
    """How a text worksheet writes its parts. The head is a template: {count}, {level}, {seed} and {reproduce}
    are filled in."""

    head: str
    question: Entry
    key_head: str
    answer: Entry


def _text_sheet(questions: Sequence[Question], request: SessionRequest, seed: int, style: _TextStyle) -> str:
    """The questions, then the answer key at the end (to fold away before studying)."""
    head = style.head.format(
        count=len(questions), level=request.level.value, seed=seed, reproduce=reproduce_command(request, seed)
    )
    lines = head.split("\n")
    for number, question in enumerate(questions, start=1):
        lines += style.question(number, question)
    lines += style.key_head.split("\n")
    for number, question in enumerate(questions, start=1):
        lines += style.answer(number, question)
    return "\n".join(lines).rstrip() + "\n"


def _markdown_question(number: int, question: Question) -> list[str]:
    source = f" — *{question.source}*" if question.source else ""
    prompt = question.prompt.replace("\n", "  \n")  # a hard line break in Markdown
    answer = f"Answer ({question.answer_format}): {BLANK}"
    return [f"**{number}.** `{question.topic}`{source}", "", prompt, "", answer, ""]


def _markdown_answer(number: int, question: Question) -> list[str]:
    return [f"**{number}.** {question.expected.describe()}", "", "```text", *question.solution.splitlines(), "```", ""]


def _plain_question(number: int, question: Question) -> list[str]:
    source = f" ({question.source})" if question.source else ""
    prompt = ["   " + line for line in question.prompt.splitlines()]
    return [f"{number}. [{question.topic}]{source}", *prompt, f"   Answer ({question.answer_format}): {BLANK}", ""]


def _plain_answer(number: int, question: Question) -> list[str]:
    solution = ["   " + line if line else "" for line in question.solution.splitlines()]
    return [f"{number}. {question.expected.describe()}", *solution, ""]


_MARKDOWN = _TextStyle(
    "# cnncalc drill worksheet\n\n"
    "{count} questions · level {level} · seed {seed} · reproduce with `{reproduce}`\n\n## Questions\n",
    _markdown_question,
    "## Answer key\n",
    _markdown_answer,
)
_PLAIN = _TextStyle(
    "cnncalc drill worksheet\n{count} questions, level {level}, seed {seed}\n"
    "reproduce with: {reproduce}\n\nQUESTIONS\n",
    _plain_question,
    "ANSWER KEY\n",
    _plain_answer,
)


def json_worksheet(questions: Sequence[Question], request: SessionRequest, seed: int) -> str:
    document = {
        "seed": seed,
        "level": request.level.value,
        "count": len(questions),
        "reproduce": reproduce_command(request, seed),
        "questions": [question_data(number, question) for number, question in enumerate(questions, start=1)],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
