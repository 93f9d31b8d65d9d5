"""`cnncalc drill --print`: a worksheet to study on paper, with the answer key at the end."""

from __future__ import annotations

import json
from collections.abc import Sequence

from cnncalc.drill.plan import SessionRequest
from cnncalc.drill.question import Question, question_data


def reproduce_command(request: SessionRequest, seed: int) -> str:
    parts = ["cnncalc drill --print", f"--seed {seed}", f"--count {request.count}", f"--level {request.level.value}"]
    if request.topics:
        parts.append(f"--topic {','.join(request.topics)}")
    if request.notes_only:
        parts.append("--notes")
    return " ".join(parts)


def markdown_worksheet(questions: Sequence[Question], request: SessionRequest, seed: int) -> str:
    lines = [
        "# cnncalc drill worksheet",
        "",
        f"{len(questions)} questions · level {request.level.value} · seed {seed} · "
        f"reproduce with `{reproduce_command(request, seed)}`",
        "",
        "## Questions",
        "",
    ]
    for number, question in enumerate(questions, start=1):
        source = f" — *{question.source}*" if question.source else ""
        lines.append(f"**{number}.** `{question.topic}`{source}")
        lines.append("")
        lines.append(question.prompt.replace("\n", "  \n"))
        lines.append("")
        lines.append(f"Answer ({question.answer_format}): ________________")
        lines.append("")
    lines.extend(["## Answer key", ""])
    for number, question in enumerate(questions, start=1):
        lines.append(f"**{number}.** {question.expected.describe()}")
        lines.append("")
        lines.append("```text")
        lines.extend(question.solution.splitlines())
        lines.append("```")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def plain_worksheet(questions: Sequence[Question], request: SessionRequest, seed: int) -> str:
    lines = [
        "cnncalc drill worksheet",
        f"{len(questions)} questions, level {request.level.value}, seed {seed}",
        f"reproduce with: {reproduce_command(request, seed)}",
        "",
        "QUESTIONS",
        "",
    ]
    for number, question in enumerate(questions, start=1):
        source = f" ({question.source})" if question.source else ""
        lines.append(f"{number}. [{question.topic}]{source}")
        lines.extend("   " + line for line in question.prompt.splitlines())
        lines.append(f"   Answer ({question.answer_format}): ________________")
        lines.append("")
    lines.extend(["ANSWER KEY", ""])
    for number, question in enumerate(questions, start=1):
        lines.append(f"{number}. {question.expected.describe()}")
        lines.extend("   " + line if line else "" for line in question.solution.splitlines())
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def json_worksheet(questions: Sequence[Question], request: SessionRequest, seed: int) -> str:
    document = {
        "seed": seed,
        "level": request.level.value,
        "count": len(questions),
        "reproduce": reproduce_command(request, seed),
        "questions": [question_data(number, question) for number, question in enumerate(questions, start=1)],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
