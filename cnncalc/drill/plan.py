"""Which questions a session asks: topics by spaced repetition (or evenly, for a seed), then questions.

A slot is sometimes filled with one of the study notes' own examples for its topic (they are the syllabus);
`notes_only` asks nothing else. Question ids never repeat within a session.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cnncalc.drill.leitner import Card, even_topics, plan_topics
from cnncalc.drill.notes import fixed_questions
from cnncalc.drill.question import Level, Question
from cnncalc.drill.topics import TOPICS

NOTES_SHARE = 0.2  # chance that a slot asks one of the notes' examples of its topic
MAX_TRIES = 20


@dataclass(frozen=True)
class SessionRequest:
    topics: tuple[str, ...]  # empty: every topic
    level: Level
    count: int
    seed: int | None
    notes_only: bool = False


def build_questions(
    request: SessionRequest, cards: Mapping[str, Card] | None = None, session_number: int = 1
) -> list[Question]:
    """The questions of a session. With a seed (or without cards) the plan ignores progress, so the same
    seed, topics, level and count always give the same questions."""
    rng = random.Random(request.seed)
    topics = list(request.topics) or list(TOPICS)
    if request.notes_only:
        return _notes_questions(topics, request.count, rng)
    if request.seed is not None or cards is None:
        plan = even_topics(topics, request.count, rng)
    else:
        plan = plan_topics(topics, cards, session_number, request.count, rng)
    asked: set[str] = set()
    questions = []
    for topic in plan:
        question = _pick(topic, request.level, rng, asked)
        asked.add(question.id)
        questions.append(question)
    return questions


def _pick(topic: str, level: Level, rng: random.Random, asked: set[str]) -> Question:
    if rng.random() < NOTES_SHARE:
        # The notes' examples are built only when one is drawn: the ResNet ones analyse whole networks.
        unused = [question for question in fixed_questions([topic]) if question.id not in asked]
        if unused:
            return rng.choice(unused)
    question = TOPICS[topic].generate(rng, level)
    for _ in range(MAX_TRIES):
        if question.id not in asked:
            break
        question = TOPICS[topic].generate(rng, level)
    return question


def _notes_questions(topics: Sequence[str], count: int, rng: random.Random) -> list[Question]:
    chosen = list(fixed_questions(topics))
    rng.shuffle(chosen)
    return chosen[:count]
