"""`cnncalc drill stats`: history, accuracy per topic, Leitner boxes and the weakest topics."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from cnncalc.drill.store import ProgressStore, TopicSummary
from cnncalc.drill.topics import TOPICS
from cnncalc.render.layout import Column, Table
from cnncalc.render.markdown import markdown_table
from cnncalc.render.printer import Printer

WEAK_ACCURACY = 0.7


def weak_topics(topics: list[TopicSummary]) -> list[str]:
    """Topics answered wrongly most: box 1 or accuracy under 70%, weakest first."""
    weak = [
        topic
        for topic in topics
        if topic.answered and ((topic.card is not None and topic.card.box == 1) or _accuracy(topic) < WEAK_ACCURACY)
    ]
    weak.sort(key=lambda topic: (topic.card.box if topic.card else 1, _accuracy(topic), topic.topic))
    return [topic.topic for topic in weak]


def _accuracy(topic: TopicSummary) -> float:
    return topic.correct / topic.answered if topic.answered else 0.0


def stats_data(store: ProgressStore) -> dict[str, Any]:
    sessions, answers, correct = store.totals()
    topics = store.topics()
    next_session = store.next_session_number()
    return {
        "database": str(store.path),
        "sessions": sessions,
        "answers": answers,
        "correct": correct,
        "accuracy": round(correct / answers, 4) if answers else None,
        "recent_sessions": [
            {
                "id": session.id,
                "started_at": session.started_at,
                "level": session.level,
                "mode": session.mode,
                "status": session.status,
                "planned": session.planned,
                "answered": session.answered,
                "correct": session.correct,
            }
            for session in store.sessions()
        ],
        "topics": [
            {
                "topic": topic.topic,
                "answered": topic.answered,
                "correct": topic.correct,
                "accuracy": round(_accuracy(topic), 4),
                "box": topic.card.box if topic.card else None,
                "due": topic.card.due_session <= next_session if topic.card else True,
                "last_answered": topic.last_answered,
            }
            for topic in topics
        ],
        "never_practised": [name for name in TOPICS if name not in {topic.topic for topic in topics}],
        "weak_topics": weak_topics(topics),
    }


def _when(timestamp: str | None) -> str:
    return (timestamp or "")[:16].replace("T", " ")


def sessions_table(data: dict[str, Any]) -> Table:
    table = Table(
        [
            Column("Session", numeric=True),
            Column("Started", optional=2),
            Column("Level"),
            Column("Score", numeric=True),
            Column("Of", numeric=True),
            Column("Status", optional=1),
        ],
        title="Recent sessions",
    )
    for session in data["recent_sessions"]:
        score = f"{session['correct']}/{session['answered']}" if session["answered"] else "-"
        table.add_row(
            f"#{session['id']}",
            _when(session["started_at"]),
            session["level"],
            score,
            str(session["planned"]),
            session["status"],
        )
    return table


def topics_table(data: dict[str, Any]) -> Table:
    table = Table(
        [
            Column("Topic"),
            Column("Box", numeric=True),
            Column("Answered", numeric=True),
            Column("Accuracy", numeric=True),
            Column("Due"),
            Column("Last answered", optional=1),
        ],
        title="Topics",
    )
    for topic in sorted(data["topics"], key=lambda entry: (entry["box"] or 1, entry["accuracy"])):
        table.add_row(
            topic["topic"],
            str(topic["box"] or "-"),
            str(topic["answered"]),
            f"{topic['accuracy']:.0%}",
            "yes" if topic["due"] else "no",
            _when(topic["last_answered"]),
        )
    return table


def summary_lines(data: dict[str, Any]) -> list[str]:
    if not data["answers"]:
        return ["No answers yet. Start with: cnncalc drill"]
    return [f"{data['sessions']} sessions, {data['answers']} answers, {data['correct']} right ({data['accuracy']:.0%})"]


def advice_lines(data: dict[str, Any]) -> list[str]:
    lines = []
    if data["never_practised"]:
        lines.append(f"Never practised: {', '.join(data['never_practised'])}")
    if data["weak_topics"]:
        lines.append(f"Weak topics: {', '.join(data['weak_topics'])}")
        lines.append(f"Practise them: cnncalc drill --topic {','.join(data['weak_topics'][:3])}")
    return lines


def print_stats(printer: Printer, data: dict[str, Any]) -> None:
    printer.line(f"Drill progress in {data['database']}")
    for line in summary_lines(data):
        printer.line(line)
    if not data["answers"]:
        return
    for table in (sessions_table(data), topics_table(data)):
        printer.line()
        printer.table(table, "widen the terminal, or use --format json")
    for line in advice_lines(data):
        printer.line(line)


def stats_markdown(data: dict[str, Any]) -> str:
    lines = [f"**Drill progress in `{data['database']}`**", "", *summary_lines(data)]
    if data["answers"]:
        for table in (sessions_table(data), topics_table(data)):
            lines += ["", f"**{table.title}**", "", *markdown_table(table)]
        lines += ["", *(f"- {line}" for line in advice_lines(data))]
    return "\n".join(lines) + "\n"


def stats_csv(data: dict[str, Any]) -> str:
    """One line per topic (the sessions are in --format json)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["topic", "box", "answered", "correct", "accuracy", "due", "last_answered"])
    for topic in data["topics"]:
        writer.writerow(
            [
                topic["topic"],
                "" if topic["box"] is None else topic["box"],
                topic["answered"],
                topic["correct"],
                topic["accuracy"],
                topic["due"],
                topic["last_answered"] or "",
            ]
        )
    return buffer.getvalue()


def empty_stats_data(path: Path) -> dict[str, Any]:
    """What stats says before the first session: nothing answered, every topic never practised."""
    return {
        "database": str(path),
        "sessions": 0,
        "answers": 0,
        "correct": 0,
        "accuracy": None,
        "recent_sessions": [],
        "topics": [],
        "never_practised": list(TOPICS),
        "weak_topics": [],
    }


def no_database_text(path: Path) -> str:
    return f"No drill progress yet at {path}. Start with: cnncalc drill"
