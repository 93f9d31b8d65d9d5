"""Spaced repetition with Leitner boxes, one card per topic.

A topic starts in box 1. A right answer moves it up one box (at most 5), a wrong one sends it back to box 1.
A topic in box b is due again 2^(b-1) sessions after it was last answered: every session in box 1, every
16th in box 5. Sessions draw due topics first, weighted towards low boxes, so weak topics come back soon.

A card read from the database goes through stored_card: a hand-edited or damaged row (box 0 or 9, text where a
number belongs; SQLite's quick_check does not look at values) counts as the nearest valid card, never a crash.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

TOP_BOX = 5
# Weight of a topic in the draw: due topics by box (box 1 most), topics not yet due barely.
_DUE_WEIGHT = {1: 16.0, 2: 8.0, 3: 4.0, 4: 2.0, 5: 1.0}
_NOT_DUE_WEIGHT = 0.25


@dataclass(frozen=True)
class Card:
    box: int = 1
    due_session: int = 0  # the session number from which the topic is due again


def clamp_box(box: object) -> int:
    """`box` brought into 1..TOP_BOX; anything that is not a whole number is box 1 (the topic is practised)."""
    if isinstance(box, bool) or not isinstance(box, int):
        try:
            box = int(box)  # type: ignore[call-overload]  # '3' stored as text, 2.0
        except (TypeError, ValueError, OverflowError):
            return 1
    return min(max(box, 1), TOP_BOX)


def stored_card(box: object, due_session: object) -> Card:
    """The card of a database row, made valid: box clamped to 1..TOP_BOX, an unreadable due session is 0 (due)."""
    due = due_session if isinstance(due_session, int) and not isinstance(due_session, bool) else 0
    return Card(clamp_box(box), due)


def interval(box: int) -> int:
    """Sessions until a topic in `box` is due again."""
    return 2 ** (box - 1)


def after_answer(card: Card, correct: bool, session: int) -> Card:
    """The card after one answer in session number `session`."""
    box = min(card.box + 1, TOP_BOX) if correct else 1
    return Card(box, session + interval(box))


def plan_topics(
    topics: Sequence[str], cards: Mapping[str, Card], session: int, count: int, rng: random.Random
) -> list[str]:
    """`count` topics for session number `session`: weighted by box and due-ness, no topic twice in a row
    unless only one topic is allowed."""
    weights = []
    for topic in topics:
        card = cards.get(topic, Card())
        weights.append(_DUE_WEIGHT[clamp_box(card.box)] if card.due_session <= session else _NOT_DUE_WEIGHT)
    chosen: list[str] = []
    for _ in range(count):
        candidates = [
            (topic, weight)
            for topic, weight in zip(topics, weights, strict=True)
            if len(topics) == 1 or not chosen or topic != chosen[-1]
        ]
        names = [topic for topic, _ in candidates]
        chosen.append(rng.choices(names, weights=[weight for _, weight in candidates])[0])
    return chosen


def even_topics(topics: Sequence[str], count: int, rng: random.Random) -> list[str]:
    """A reproducible plan that ignores progress (for --seed and worksheets): every topic in turn, shuffled."""
    chosen: list[str] = []
    while len(chosen) < count:
        round_ = list(topics)
        rng.shuffle(round_)
        if chosen and len(round_) > 1 and round_[0] == chosen[-1]:
            round_.append(round_.pop(0))
        chosen.extend(round_)
    return chosen[:count]
