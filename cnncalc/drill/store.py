"""Drill progress in SQLite: sessions, every answer, and one Leitner card per topic.

Safety rules:
- A file that is not ours is never written to. Before opening for writing, the file is inspected read-only:
  the SQLite header, the application_id, the tables and `PRAGMA quick_check`. A foreign or damaged file
  raises DrillDatabaseError and stays byte-for-byte as it was.
- Each answer is committed on its own (the answer row and the topic's card in one transaction), in WAL mode
  with synchronous=FULL, so a killed process loses at most the answer being typed and leaves a consistent
  database. Ctrl-C is held back while a commit runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cnncalc.drill.leitner import Card, stored_card

SQLITE_HEADER = b"SQLite format 3\x00"
APPLICATION_ID = 0x434E4E44  # "CNND": marks the file as a cnncalc drill database
SCHEMA_VERSION = 1
TABLES = frozenset({"meta", "sessions", "answers", "cards"})
LOCK_TIMEOUT_S = 5.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    level TEXT NOT NULL,
    seed INTEGER,
    mode TEXT NOT NULL,
    planned INTEGER NOT NULL,
    topics TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'finished', 'quit', 'interrupted'))
);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    number INTEGER NOT NULL,
    question_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    level TEXT NOT NULL,
    given TEXT NOT NULL,
    expected TEXT NOT NULL,
    correct INTEGER NOT NULL CHECK (correct IN (0, 1)),
    seconds REAL NOT NULL,
    answered_at TEXT NOT NULL,
    UNIQUE (session_id, number)
);
CREATE TABLE IF NOT EXISTS cards (
    topic TEXT PRIMARY KEY,
    box INTEGER NOT NULL,
    due_session INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_topic ON answers (topic);
"""


class DrillDatabaseError(Exception):
    """The progress database cannot be used; the message says why and that the file was left alone."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class SessionSummary:
    id: int
    started_at: str
    level: str
    mode: str
    status: str
    planned: int
    answered: int
    correct: int


@dataclass(frozen=True)
class TopicSummary:
    topic: str
    answered: int
    correct: int
    last_answered: str | None
    card: Card | None


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


_MOVE_HINT = "move the file away, or pick another with --db PATH or the CNNCALC_DRILL_DB variable"


def inspect(path: Path) -> bool:
    """Check `path` read-only; True if it holds our database, False if there is none yet (missing or empty).

    Raises DrillDatabaseError, without writing anything, for a directory, an unreadable file, a file that is
    not SQLite, another program's database, a newer schema, or a damaged file.
    """
    if not path.exists():
        return False
    if path.is_dir():
        raise DrillDatabaseError(f"{path} is a directory, not a database file", _MOVE_HINT)
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as error:
        raise DrillDatabaseError(f"cannot read {path}: {error.strerror}", _MOVE_HINT) from None
    if not header:
        return False  # an empty file (e.g. from `touch`): SQLite treats it as a new database
    if not header.startswith(SQLITE_HEADER):
        raise DrillDatabaseError(
            f"{path} is not a cnncalc drill database (not an SQLite file); it was left untouched", _MOVE_HINT
        )
    # The application_id sits at byte 68 of the header: another program's mark is refused before SQLite opens
    # the file at all (so not even a -wal or -shm file appears beside it).
    header_id = int.from_bytes(header[68:72], "big") if len(header) >= 72 else 0
    if header_id not in (0, APPLICATION_ID):
        raise DrillDatabaseError(
            f"{path} is an SQLite database of another program (application_id {header_id:#x}); it was left untouched",
            _MOVE_HINT,
        )
    # Without a -wal file beside it, nothing else has the database open in WAL mode, and `immutable` reads the
    # file as it is without creating -wal/-shm files; with one, a read-only open also reads the WAL's commits.
    wal = path.with_name(path.name + "-wal")
    mode = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=LOCK_TIMEOUT_S)
    except sqlite3.Error as error:
        raise DrillDatabaseError(f"cannot open {path}: {error}; it was left untouched", _MOVE_HINT) from None
    try:
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if application_id != APPLICATION_ID:
            if application_id == 0 and not tables:
                return False  # a valid but empty SQLite file: nothing to lose
            listed = ", ".join(sorted(tables)) or "none"
            raise DrillDatabaseError(
                f"{path} is an SQLite database of another program (tables: {listed}); it was left untouched",
                _MOVE_HINT,
            )
        if version > SCHEMA_VERSION:
            raise DrillDatabaseError(
                f"{path} was written by a newer cnncalc (schema {version}, this one reads {SCHEMA_VERSION}); "
                "it was left untouched",
                "upgrade cnncalc, or use another file with --db PATH",
            )
        check = [row[0] for row in connection.execute("PRAGMA quick_check")]
        if check != ["ok"] or not tables >= TABLES:
            problems = " ".join(" ".join(check[:3]).split())
            detail = problems if check != ["ok"] else f"missing tables {sorted(TABLES - tables)}"
            raise DrillDatabaseError(f"{path} is damaged ({detail}); it was left untouched", _MOVE_HINT)
    except sqlite3.DatabaseError as error:
        raise DrillDatabaseError(
            f"{path} is damaged or not a database ({error}); it was left untouched", _MOVE_HINT
        ) from None
    finally:
        connection.close()
    return True


_held = False  # a hold is active (in the main thread)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C back while a commit runs, then deliver it: an answer is saved whole or not at all.

    A hold inside a hold is part of the outer one: a caller that keeps its own account of what is saved (the
    session's list of answers) holds Ctrl-C around the commit and its own update, and the interrupt comes after
    both, so the two never disagree.
    """
    import signal
    import threading

    global _held
    if _held or threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    _held = True
    try:
        yield
    finally:
        _held = False
        signal.signal(signal.SIGINT, previous)
        if received:
            raise KeyboardInterrupt


class ProgressStore:
    """An open, checked progress database."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._connection = connection

    @classmethod
    def open(cls, path: Path) -> ProgressStore:
        """Open (creating if needed) the database at `path`; refuse files that are not ours."""
        exists = inspect(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise DrillDatabaseError(f"cannot create {path}: {error}", _MOVE_HINT) from None
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = ON")
            if not exists:
                # One transaction: a process killed here leaves an empty database, which the next run initialises.
                connection.executescript(
                    "BEGIN IMMEDIATE;"
                    + SCHEMA
                    + f"PRAGMA application_id = {APPLICATION_ID};"
                    + f"PRAGMA user_version = {SCHEMA_VERSION};"
                    + f"INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', '{now()}');"
                    + "COMMIT;"
                )
        except sqlite3.Error as error:
            connection.close()
            raise DrillDatabaseError(f"cannot use {path}: {error}", _MOVE_HINT) from None
        return cls(path, connection)

    def close(self) -> None:
        self._connection.close()

    # ------------------------------------------------------------------------------------- writing

    def start_session(self, level: str, seed: int | None, mode: str, planned: int, topics: str) -> int:
        """Record a new session; its id is also its number for spaced repetition."""
        with self._write() as connection:
            cursor = connection.execute(
                "INSERT INTO sessions (started_at, level, seed, mode, planned, topics) VALUES (?, ?, ?, ?, ?, ?)",
                (now(), level, seed, mode, planned, topics),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def record_answer(
        self,
        session_id: int,
        number: int,
        question_id: str,
        topic: str,
        level: str,
        given: str,
        expected: str,
        correct: bool,
        seconds: float,
        card: Card,
    ) -> None:
        """Save one answer and the topic's new Leitner card, together, in one committed transaction."""
        stamp = now()
        with self._write() as connection:
            connection.execute(
                "INSERT INTO answers (session_id, number, question_id, topic, level, given, expected, correct, "
                "seconds, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, number, question_id, topic, level, given, expected, int(correct), seconds, stamp),
            )
            connection.execute(
                "INSERT INTO cards (topic, box, due_session, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (topic) DO UPDATE SET box = excluded.box, due_session = excluded.due_session, "
                "updated_at = excluded.updated_at",
                (topic, card.box, card.due_session, stamp),
            )

    def finish_session(self, session_id: int, status: str) -> None:
        with self._write() as connection:
            connection.execute("UPDATE sessions SET status = ?, ended_at = ? WHERE id = ?", (status, now(), session_id))

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            with interrupts_held(), _transaction(self._connection):
                yield self._connection
        except sqlite3.Error as error:
            raise DrillDatabaseError(f"cannot write to {self.path}: {error}", _MOVE_HINT) from None

    # ------------------------------------------------------------------------------------- reading

    def cards(self) -> dict[str, Card]:
        rows = self._connection.execute("SELECT topic, box, due_session FROM cards")
        return {topic: stored_card(box, due) for topic, box, due in rows}  # a hand-edited box 9 reads as box 5

    def next_session_number(self) -> int:
        (last,) = self._connection.execute("SELECT COALESCE(MAX(id), 0) FROM sessions").fetchone()
        return int(last) + 1

    def sessions(self, limit: int = 10) -> list[SessionSummary]:
        rows = self._connection.execute(
            "SELECT s.id, s.started_at, s.level, s.mode, s.status, s.planned, COUNT(a.id), "
            "COALESCE(SUM(a.correct), 0) FROM sessions s LEFT JOIN answers a ON a.session_id = s.id "
            "GROUP BY s.id ORDER BY s.id DESC LIMIT ?",
            (limit,),
        )
        return [SessionSummary(*row) for row in rows]

    def totals(self) -> tuple[int, int, int]:
        """(sessions, answers, correct answers) over the whole history."""
        (sessions,) = self._connection.execute("SELECT COUNT(*) FROM sessions").fetchone()
        answers, correct = self._connection.execute(
            "SELECT COUNT(*), COALESCE(SUM(correct), 0) FROM answers"
        ).fetchone()
        return int(sessions), int(answers), int(correct)

    def topics(self) -> list[TopicSummary]:
        cards = self.cards()
        rows = self._connection.execute(
            "SELECT topic, COUNT(*), SUM(correct), MAX(answered_at) FROM answers GROUP BY topic ORDER BY topic"
        )
        return [TopicSummary(topic, count, int(right), last, cards.get(topic)) for topic, count, right, last in rows]

    def answers_of(self, session_id: int) -> list[tuple[int, str, bool]]:
        rows = self._connection.execute(
            "SELECT number, question_id, correct FROM answers WHERE session_id = ? ORDER BY number", (session_id,)
        )
        return [(number, question, bool(correct)) for number, question, correct in rows]


@contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (the connection is in autocommit mode)."""
    if connection.in_transaction:
        yield
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
