"""`cnncalc drill stats`: history, accuracy per topic, Leitner boxes and the weakest topics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnncalc.drill.store import ProgressStore, TopicSummary
from cnncalc.drill.topics import TOPICS

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


def stats_text(store: ProgressStore) -> str:
    data = stats_data(store)
    lines = [f"Drill progress in {data['database']}"]
    if not data["answers"]:
        lines.append("No answers yet. Start with: cnncalc drill")
        return "\n".join(lines)
    lines.append(
        f"{data['sessions']} sessions, {data['answers']} answers, {data['correct']} right ({data['accuracy']:.0%})"
    )
    lines.append("")
    lines.append("Recent sessions:")
    for session in data["recent_sessions"]:
        score = f"{session['correct']}/{session['answered']}" if session["answered"] else "-"
        lines.append(
            f"  #{session['id']:<4} {session['started_at'][:16].replace('T', ' ')}  {session['level']:<6}  "
            f"{score:>7} of {session['planned']:<3} {session['status']}"
        )
    lines.append("")
    width = max(len("topic"), *(len(topic["topic"]) for topic in data["topics"]))
    lines.append(f"  {'topic':<{width}}  box  answered  accuracy  due   last answered")
    for topic in sorted(data["topics"], key=lambda entry: (entry["box"] or 1, entry["accuracy"])):
        last = (topic["last_answered"] or "")[:16].replace("T", " ")
        lines.append(
            f"  {topic['topic']:<{width}}  {topic['box'] or '-':>3}  {topic['answered']:>8}  "
            f"{topic['accuracy']:>8.0%}  {'yes' if topic['due'] else 'no':<4}  {last}"
        )
    if data["never_practised"]:
        lines.append(f"Never practised: {', '.join(data['never_practised'])}")
    if data["weak_topics"]:
        lines.append(f"Weak topics: {', '.join(data['weak_topics'])}")
        lines.append(f"Practise them: cnncalc drill --topic {','.join(data['weak_topics'][:3])}")
    return "\n".join(lines)


def no_database_text(path: Path) -> str:
    return f"No drill progress yet at {path}. Start with: cnncalc drill"
