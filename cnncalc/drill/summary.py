"""The end of a session: score, accuracy per topic and time per question, as text or as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnncalc.drill.question import question_data
from cnncalc.drill.session import AnswerRecord, SessionResult


@dataclass(frozen=True)
class TopicScore:
    topic: str
    right: int
    asked: int
    seconds: float

    @property
    def accuracy(self) -> float:
        return self.right / self.asked if self.asked else 0.0


def topic_scores(records: list[AnswerRecord]) -> list[TopicScore]:
    """Per topic, in the order topics first appeared; unanswered questions are left out."""
    order: list[str] = []
    tallies: dict[str, list[float]] = {}
    for record in records:
        if record.given is None:
            continue
        topic = record.question.topic
        if topic not in tallies:
            order.append(topic)
            tallies[topic] = [0, 0, 0.0]
        tally = tallies[topic]
        tally[0] += record.correct
        tally[1] += 1
        tally[2] += record.seconds
    return [TopicScore(topic, int(tallies[topic][0]), int(tallies[topic][1]), tallies[topic][2]) for topic in order]


def summary_text(result: SessionResult, planned: int) -> str:
    answered = [record for record in result.records if record.given is not None]
    right = sum(record.correct for record in answered)
    lines = [""]
    if result.status == "interrupted":
        lines.append(f"Interrupted after {len(answered)} of {planned} questions; every answer given is saved.")
    elif result.status == "quit":
        lines.append(f"Stopped after {len(answered)} of {planned} questions.")
    if not answered:
        lines.append("No questions answered.")
        return "\n".join(lines)
    per_question = sum(record.seconds for record in answered) / len(answered)
    lines.append(
        f"Score: {right}/{len(answered)} ({right / len(answered):.0%}) in {_duration(result.seconds)}, "
        f"{per_question:.1f} s per question"
    )
    scores = topic_scores(answered)
    width = max(len("topic"), *(len(score.topic) for score in scores))
    lines.append(f"  {'topic':<{width}}  right  asked  accuracy  time/question")
    for score in scores:
        lines.append(
            f"  {score.topic:<{width}}  {score.right:>5}  {score.asked:>5}  {score.accuracy:>8.0%}  "
            f"{score.seconds / score.asked:>11.1f} s"
        )
    times = ", ".join(f"{record.number} {'✓' if record.correct else '✗'} {record.seconds:.1f} s" for record in answered)
    lines.append(f"Time per question: {times}")
    weakest = [score.topic for score in sorted(scores, key=lambda score: score.accuracy) if score.accuracy < 1]
    if weakest:
        lines.append(f"Practise next: cnncalc drill --topic {','.join(weakest[:3])}")
    return "\n".join(lines)


def summary_data(result: SessionResult, planned: int) -> dict[str, Any]:
    answered = [record for record in result.records if record.given is not None]
    right = sum(record.correct for record in answered)
    return {
        "status": result.status,
        "questions": planned,
        "answered": len(answered),
        "correct": right,
        "score": right / planned if planned else 0.0,
        "seconds": round(result.seconds, 3),
        "seconds_per_question": round(sum(r.seconds for r in answered) / len(answered), 3) if answered else None,
        "by_topic": {
            score.topic: {"correct": score.right, "answered": score.asked, "accuracy": round(score.accuracy, 4)}
            for score in topic_scores(answered)
        },
    }


def record_data(record: AnswerRecord) -> dict[str, Any]:
    """One question and its grading, for the JSON report: the worksheet's entry plus what was answered."""
    return question_data(record.number, record.question) | {
        "given": record.given,
        "understood": record.grade.understood if record.grade and not record.error else None,
        "correct": record.correct,
        "skipped": record.skipped,
        "error": record.error or None,
        "note": record.grade.note if record.grade and record.grade.note else None,
        "seconds": round(record.seconds, 4),
    }


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"
