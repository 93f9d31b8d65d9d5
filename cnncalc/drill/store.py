"""Drill progress in SQLite: sessions, every answer, and one Leitner card per topic.

Safety rules:
- A file that is not ours is never written to. Before opening for writing, the file is inspected read-only:
  the SQLite header, the application_id, the schema version, `PRAGMA quick_check` and the whole schema (every
  table with its columns and their types, every index, view and trigger). A foreign, different or damaged file
  raises DrillDatabaseError and stays byte-for-byte as it was, with no -wal or -shm file beside it.
- Reading (the inspection, `drill stats`) goes through read-only connections that create no file; a session
  refuses a database it could not write before it asks anything.
- Each answer is committed on its own (the answer row and the topic's card in one transaction), in WAL mode
  with synchronous=FULL, so a killed process loses at most the answer being typed and leaves a consistent
  database. Ctrl-C is held back while a commit runs.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
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
    not SQLite, another program's database, a newer or different schema, or a damaged file.
    """
    connection = _open_checked(path)
    if connection is None:
        return False
    connection.close()
    return True


def _open_checked(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to our database at `path`, checked whole; None if there is none yet."""
    try:
        if not path.exists():
            return None
        if path.is_dir():
            raise DrillDatabaseError(f"{path} is a directory, not a database file", _MOVE_HINT)
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as error:
        raise DrillDatabaseError(f"cannot read {path}: {error.strerror}", _MOVE_HINT) from None
    if not header:
        return None  # an empty file (e.g. from `touch`): SQLite treats it as a new database
    if not header.startswith(SQLITE_HEADER):
        raise DrillDatabaseError(
            f"{path} is not a cnncalc drill database (not an SQLite file); it was left untouched", _MOVE_HINT
        )
    # The application_id sits at byte 68 of the header: another program's mark is refused before SQLite opens
    # the file at all.
    header_id = int.from_bytes(header[68:72], "big") if len(header) >= 72 else 0
    if header_id not in (0, APPLICATION_ID):
        raise DrillDatabaseError(
            f"{path} is an SQLite database of another program (application_id {header_id:#x}); it was left untouched",
            _MOVE_HINT,
        )
    connection = _read_only_connection(path)
    try:
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if application_id != APPLICATION_ID:
            if application_id == 0 and not tables:
                connection.close()
                return None  # a valid but empty SQLite file: nothing to lose
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
        if version != SCHEMA_VERSION:
            # Our mark with another version: no cnncalc writes that (the schema and both marks are one commit).
            raise DrillDatabaseError(
                f"{path} has an unknown schema version {version} (this cnncalc reads {SCHEMA_VERSION}); "
                "it was left untouched",
                _MOVE_HINT,
            )
        check = [row[0] for row in connection.execute("PRAGMA quick_check")]
        if check != ["ok"]:
            problems = " ".join(" ".join(check[:3]).split())
            raise DrillDatabaseError(f"{path} is damaged ({problems}); it was left untouched", _MOVE_HINT)
        differences = schema_differences(connection)
        if differences:
            shown = "; ".join(differences[:4]) + (f"; and {len(differences) - 4} more" if len(differences) > 4 else "")
            raise DrillDatabaseError(
                f"{path} does not have the schema of a cnncalc drill database ({shown}); it was left untouched",
                _MOVE_HINT,
            )
    except sqlite3.OperationalError as error:  # locked, or its -wal file unreadable: not a sign of damage
        connection.close()
        raise DrillDatabaseError(f"cannot read {path} ({error}); it was left untouched", _MOVE_HINT) from None
    except sqlite3.DatabaseError as error:
        connection.close()
        raise DrillDatabaseError(
            f"{path} is damaged or not a database ({error}); it was left untouched", _MOVE_HINT
        ) from None
    except BaseException:
        connection.close()
        raise
    return connection


def _side_file(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _read_only_connection(path: Path) -> sqlite3.Connection:
    """Open `path` so that nothing can be written and no file is created beside it.

    Without a -wal file, every commit is in the database file itself, and `immutable` reads it as it is: SQLite
    creates no -wal or -shm file (a plain read-only open of a WAL database creates both and, unable to check-
    point, leaves them behind), and needs no write access to the file or its directory. With a -wal file (a
    session running now, or one that was killed), `mode=ro` also reads the WAL's commits, through the -shm file
    that is there with it.
    """
    mode = "mode=ro" if _side_file(path, "-wal").exists() else "mode=ro&immutable=1"
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=LOCK_TIMEOUT_S)
    except sqlite3.Error as error:
        raise DrillDatabaseError(f"cannot open {path}: {error}; it was left untouched", _MOVE_HINT) from None


@dataclass(frozen=True)
class _Column:
    name: str
    type: str
    not_null: bool
    default: str | None
    primary_key: int

    def describe(self) -> str:
        parts = [self.type or "no type", "NOT NULL" if self.not_null else "", "PRIMARY KEY" if self.primary_key else ""]
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        return " ".join(part for part in parts if part)


@dataclass(frozen=True)
class _Schema:
    objects: dict[tuple[str, str], str]  # (type, name) -> its CREATE statement, whitespace and case normalised
    columns: dict[str, dict[str, _Column]]  # table -> column name -> column


def _read_schema(connection: sqlite3.Connection) -> _Schema:
    """Every table, index, view and trigger a program made (SQLite's own sqlite_* objects aside), with the
    columns of each table."""
    objects: dict[tuple[str, str], str] = {}
    for kind, name, sql in connection.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite!_%' ESCAPE '!'"
    ):
        objects[(kind, name)] = " ".join(str(sql or "").lower().split())
    columns: dict[str, dict[str, _Column]] = {}
    for kind, name in objects:
        if kind == "table":
            rows = connection.execute('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)', (name,))
            columns[name] = {
                row[0]: _Column(row[0], str(row[1]).upper(), bool(row[2]), row[3], int(row[4])) for row in rows
            }
    return _Schema(objects, columns)


@cache
def _expected_schema() -> _Schema:
    """The schema SCHEMA creates, read back from SQLite itself: one source for what a drill database holds."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.executescript(SCHEMA)
        return _read_schema(connection)
    finally:
        connection.close()


def schema_differences(connection: sqlite3.Connection) -> list[str]:
    """How the database's schema differs from SCHEMA, one phrase per difference; empty when it is the same."""
    found, expected = _read_schema(connection), _expected_schema()
    differences: list[str] = []
    for kind, name in sorted(expected.objects.keys() - found.objects.keys()):
        differences.append(f"{kind} {name} is missing")
    for kind, name in sorted(found.objects.keys() - expected.objects.keys()):
        differences.append(f"{kind} {name} is not cnncalc's")
    for kind, name in sorted(expected.objects.keys() & found.objects.keys()):
        before = len(differences)
        if kind == "table":
            differences.extend(_column_differences(name, found.columns[name], expected.columns[name]))
        if len(differences) == before and found.objects[(kind, name)] != expected.objects[(kind, name)]:
            differences.append(f"{kind} {name} has other constraints")  # same columns, other CHECK/UNIQUE/...
    return differences


def _column_differences(table: str, found: dict[str, _Column], expected: dict[str, _Column]) -> list[str]:
    differences = [f"table {table} has no column {name}" for name in expected if name not in found]
    differences += [
        f"table {table} has an extra column {name} ({column.describe()})"
        for name, column in found.items()
        if name not in expected
    ]
    differences += [
        f"column {table}.{name} is {found[name].describe()}, not {column.describe()}"
        for name, column in expected.items()
        if name in found and found[name] != column
    ]
    if not differences and list(found) != list(expected):
        differences.append(f"table {table} has its columns in another order")
    return differences


def require_directory(path: Path) -> None:
    """Refuse a database path whose directory does not exist (or is not a directory), creating nothing."""
    directory = path.parent
    try:
        if directory.is_dir():
            return
        problem = "is not a directory" if directory.exists() else "does not exist"
    except OSError as error:
        problem = f"cannot be read ({error.strerror})"
    raise DrillDatabaseError(
        f"cannot read {path}: the directory {directory} {problem}", "check the path given with --db or CNNCALC_DRILL_DB"
    )


_READ_ONLY_HINT = "practise without saving with --no-save, or pick another file with --db PATH or CNNCALC_DRILL_DB"


def _check_writable(path: Path) -> None:
    """Refuse a database a session could not save its answers to, before SQLite opens it: opening a read-only
    WAL database for writing would leave -wal and -shm files beside it, and every answer would be lost."""
    if path.exists() and not os.access(path, os.W_OK):
        raise DrillDatabaseError(
            f"{path} is read-only, so no answer could be saved; it was left untouched", _READ_ONLY_HINT
        )
    directory = path.parent
    # SQLite keeps its -wal and -shm files next to the database: the directory must be writable too.
    if directory.is_dir() and not os.access(directory, os.W_OK | os.X_OK):
        raise DrillDatabaseError(
            f"{path} is in a read-only directory, where SQLite cannot keep its journal; it was left untouched",
            _READ_ONLY_HINT,
        )


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
        """Open (creating if needed) the database at `path` for a session; refuse files that are not ours, and a
        database that could not be written (before any question is asked)."""
        exists = inspect(path)
        _check_writable(path)
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

    @classmethod
    def open_read_only(cls, path: Path) -> ProgressStore | None:
        """Open the database at `path` for reading only (for `drill stats`): no write is possible through it, no
        file is created beside it, and neither the file nor its directory need be writable. None if there is no
        database yet."""
        connection = _open_checked(path)
        return cls(path, connection) if connection is not None else None

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
