"""What the drill's tests share: running `cnncalc drill`, the questions a seed gives, the answer a user types
for them, and reading or changing a progress database directly."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from clirunner import Run, invoke

from cnncalc.drill.plan import SessionRequest, build_questions
from cnncalc.drill.question import Level, Question


def drill(*args: str, stdin: str = "", env: Mapping[str, str] | None = None) -> Run:
    """`cnncalc drill ARGS` in-process, answers from `stdin`; nothing wrapped, as in a pipe."""
    return invoke("drill", *args, stdin=stdin, env=env, columns=None)


def drill_ok(*args: str, stdin: str = "", env: Mapping[str, str] | None = None) -> Run:
    """`cnncalc drill ARGS`, which must succeed."""
    run = drill(*args, stdin=stdin, env=env)
    assert run.code == 0, run.output
    return run


def questions(topics: tuple[str, ...], count: int, seed: int, level: Level = Level.medium) -> list[Question]:
    """The questions `cnncalc drill --topic TOPICS --count COUNT --seed SEED --level LEVEL` asks."""
    return build_questions(SessionRequest(topics, level, count, seed))


def typed_answer(question: Question) -> str:
    """The right answer as a user types it: the expected value without its explanation ('9,472', '0.1267')."""
    return question.expected.describe().split(" (")[0].split(" ≈")[0]


def rows(db: Path, query: str) -> list[tuple]:
    """The rows of a query on a database, read outside cnncalc."""
    connection = sqlite3.connect(db)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def execute(db: Path, *statements: str) -> None:
    """Statements run and committed on a database, outside cnncalc; the connection is closed (its -wal file is
    checkpointed and removed)."""
    connection = sqlite3.connect(db)
    try:
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()
