"""The progress database: its whole schema is checked before anything is written, reading never writes or
creates a file, and a database that cannot be written is refused before any question is asked."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from drill_helpers import drill, execute, rows

from cnncalc.drill.store import DrillDatabaseError, ProgressStore

SESSION = ("--topic", "conv-params,rf", "--count", "2", "--seed", "5")
# Root ignores file permissions: where a test needs the OS to refuse a write, it makes os.access say so instead.
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def listing(directory: Path) -> list[str]:
    return sorted(item.name for item in directory.iterdir())


@pytest.fixture(scope="module")
def real_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A drill database as a session leaves it: one session, two answers (one wrong, one skipped)."""
    db = tmp_path_factory.mktemp("real") / "drill.sqlite3"
    result = drill(*SESSION, "--db", str(db), stdin="1\nskip\n")
    assert result.code == 0, result.output
    assert listing(db.parent) == ["drill.sqlite3"]
    return db


@pytest.fixture
def copy_of(real_database: Path, tmp_path: Path) -> Callable[..., Path]:
    def make(*statements: str) -> Path:
        db = tmp_path / "drill.sqlite3"
        shutil.copyfile(real_database, db)
        execute(db, *statements)  # the last connection: its -wal file is checkpointed and removed
        assert listing(tmp_path) == ["drill.sqlite3"]
        return db

    return make


# ------------------------------------------------------------------------------------------ the whole schema

ANSWERS_WITH_SECONDS_AS_TEXT = (
    "CREATE TABLE answers_new (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions (id), "
    "number INTEGER NOT NULL, question_id TEXT NOT NULL, topic TEXT NOT NULL, level TEXT NOT NULL, "
    "given TEXT NOT NULL, expected TEXT NOT NULL, correct INTEGER NOT NULL CHECK (correct IN (0, 1)), "
    "seconds TEXT NOT NULL, answered_at TEXT NOT NULL, UNIQUE (session_id, number))"
)
REBUILT_ANSWERS = (
    ANSWERS_WITH_SECONDS_AS_TEXT,
    "INSERT INTO answers_new SELECT * FROM answers",
    "DROP TABLE answers",
    "ALTER TABLE answers_new RENAME TO answers",
    "CREATE INDEX answers_by_topic ON answers (topic)",
)


@pytest.mark.parametrize(
    ("statements", "difference"),
    [
        (("ALTER TABLE answers ADD COLUMN x",), "table answers has an extra column x (no type)"),
        (("ALTER TABLE answers ADD COLUMN note TEXT DEFAULT 'n'",), "extra column note (TEXT DEFAULT 'n')"),
        (("ALTER TABLE answers DROP COLUMN answered_at",), "table answers has no column answered_at"),
        (REBUILT_ANSWERS, "column answers.seconds is TEXT NOT NULL, not REAL NOT NULL"),
        (("CREATE TABLE extra (x)",), "table extra is not cnncalc's"),
        (("DROP INDEX answers_by_topic",), "index answers_by_topic is missing"),
        (
            ("CREATE TRIGGER t AFTER INSERT ON answers BEGIN DELETE FROM cards; END",),
            "trigger t is not cnncalc's",
        ),
    ],
)
def test_a_database_with_another_schema_is_refused_and_left_byte_for_byte(
    copy_of: Callable[..., Path], statements: tuple[str, ...], difference: str
) -> None:
    if "DROP COLUMN" in statements[0] and sqlite3.sqlite_version_info < (3, 35):
        pytest.skip("ALTER TABLE ... DROP COLUMN needs SQLite 3.35")
    db = copy_of(*statements)
    before = db.read_bytes()
    for args in (("--count", "1"), ("--json",), ("stats",), ("stats", "--format", "json")):
        result = drill(*args, "--db", str(db), stdin="1\n")
        assert result.code == 2, (args, result.output)
        message = " ".join(result.stderr.split())
        assert f"error: {db} does not have the schema of a cnncalc drill database (" in message
        assert difference in message and "it was left untouched" in message
        assert "[1/1]" not in result.stdout  # refused before any question
        assert db.read_bytes() == before
        assert listing(db.parent) == ["drill.sqlite3"]  # no -wal, no -shm


def test_a_database_with_our_mark_and_an_unknown_version_is_refused(copy_of: Callable[..., Path]) -> None:
    db = copy_of("PRAGMA user_version = 0")
    before = db.read_bytes()
    result = drill("--count", "1", "--db", str(db), stdin="1\n")
    assert result.code == 2
    assert f"{db} has an unknown schema version 0 (this cnncalc reads 1); it was left untouched" in result.stderr
    assert db.read_bytes() == before and listing(db.parent) == ["drill.sqlite3"]


def test_the_real_schema_passes_and_a_session_adds_to_it(copy_of: Callable[..., Path]) -> None:
    db = copy_of()
    result = drill(*SESSION, "--db", str(db), stdin="1\n1\n")
    assert result.code == 0, result.output
    assert rows(db, "SELECT COUNT(*) FROM sessions") == [(2,)]
    assert rows(db, "SELECT COUNT(*) FROM answers") == [(4,)]


# ------------------------------------------------------------------------------------------ reading only


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Every sqlite3.connect call made meanwhile: (database, uri)."""
    made: list[tuple[str, bool]] = []
    real_connect = sqlite3.connect

    def spy(database, *args, **kwargs):
        made.append((str(database), bool(kwargs.get("uri"))))
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", spy)
    return made


@pytest.mark.parametrize("output", ["table", "json"])
def test_stats_opens_the_database_read_only(
    copy_of: Callable[..., Path], connections: list[tuple[str, bool]], output: str
) -> None:
    """Checked through the connections themselves, so the test means the same as root (which ignores file
    permissions): every connection `drill stats` makes is a read-only URI."""
    db = copy_of()
    connections.clear()  # the copy's own
    before = db.read_bytes()
    result = drill("stats", "--db", str(db), "--format", output)
    assert result.code == 0, result.output
    assert connections == [(f"{db.resolve().as_uri()}?mode=ro&immutable=1", True)]
    assert db.read_bytes() == before and listing(db.parent) == ["drill.sqlite3"]


def test_a_read_only_store_refuses_every_write(copy_of: Callable[..., Path]) -> None:
    db = copy_of()
    store = ProgressStore.open_read_only(db)
    assert isinstance(store, ProgressStore)
    try:
        assert store.totals() == (1, 2, 0)
        with pytest.raises(DrillDatabaseError, match="readonly database"):  # SQLite refuses it, even to root
            store.start_session("easy", 1, "interactive", 1, "all")
    finally:
        store.close()
    assert listing(db.parent) == ["drill.sqlite3"]
    assert ProgressStore.open_read_only(db.parent / "none.sqlite3") is None
    assert listing(db.parent) == ["drill.sqlite3"]


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """Make files and directories read-only; as root, os.access also reports them so (root could write)."""
    changed: list[tuple[Path, int]] = []
    denied: set[Path] = set()

    def make(path: Path) -> None:
        changed.append((path, stat.S_IMODE(path.stat().st_mode)))
        path.chmod(0o555 if path.is_dir() else 0o444)
        denied.add(path.resolve())

    if AS_ROOT:
        real_access = os.access

        def access(path, mode, *args, **kwargs) -> bool:
            if mode & os.W_OK and Path(path).resolve() in denied:
                return False
            return real_access(path, mode, *args, **kwargs)

        monkeypatch.setattr(os, "access", access)
    yield make
    for path, mode in reversed(changed):
        path.chmod(mode)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_stats_reads_a_read_only_database_in_a_read_only_directory(
    copy_of: Callable[..., Path], read_only: Callable[[Path], None]
) -> None:
    """stats refused a database in a read-only directory, and left -wal and -shm files beside a read-only one."""
    db = copy_of()
    before = db.read_bytes()
    read_only(db)
    read_only(db.parent)
    result = drill("stats", "--db", str(db))
    assert result.code == 0, result.output
    assert "1 sessions, 2 answers, 0 right (0%)" in result.stdout
    assert db.read_bytes() == before and listing(db.parent) == ["drill.sqlite3"]


def test_stats_sees_the_answers_of_a_session_still_running(copy_of: Callable[..., Path]) -> None:
    """With a -wal file beside the database (a session running, or one killed), stats reads its commits too,
    through the -wal and -shm files already there, and creates nothing."""
    from cnncalc.drill.leitner import Card

    db = copy_of()
    running = ProgressStore.open(db)
    try:
        session = running.start_session("easy", 1, "interactive", 1, "all")
        running.record_answer(session, 1, "q", "conv-params", "easy", "9472", "9,472", True, 2.0, Card(2, 3))
        beside = listing(db.parent)
        assert beside == ["drill.sqlite3", "drill.sqlite3-shm", "drill.sqlite3-wal"]
        result = drill("stats", "--db", str(db))
        assert result.code == 0, result.output
        assert "2 sessions, 3 answers, 1 right (33%)" in result.stdout
        assert listing(db.parent) == beside
    finally:
        running.close()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize("what", ["file", "directory"])
def test_a_session_on_a_read_only_database_is_refused_before_any_question(
    copy_of: Callable[..., Path], read_only: Callable[[Path], None], what: str
) -> None:
    db = copy_of()
    before = db.read_bytes()
    read_only(db if what == "file" else db.parent)
    for args in (SESSION, ("--json", *SESSION)):
        result = drill(*args, "--db", str(db), stdin="1\n1\n")
        assert result.code == 2, result.output
        reason = "is read-only, so no answer could be saved" if what == "file" else "is in a read-only directory"
        assert f"error: {db} {reason}" in result.stderr and "it was left untouched" in result.stderr
        assert "--no-save" in result.stderr  # the hint: practise without saving
        assert result.stdout == ""  # no banner, no question
        assert db.read_bytes() == before and listing(db.parent) == ["drill.sqlite3"]
    result = drill(*SESSION, "--db", str(db), "--no-save", stdin="1\n1\n")
    assert result.code == 0 and "progress is not saved" in result.stdout


# ------------------------------------------------------------------------------------------ missing paths


@pytest.mark.parametrize(("where", "problem"), [("missing/deeper", "does not exist"), ("a-file", "is not a directory")])
def test_stats_on_a_chosen_path_in_no_directory_is_a_usage_error(tmp_path: Path, where: str, problem: str) -> None:
    """`drill stats --db /nonexistent/dir/x.sqlite3` said "No drill progress yet": a mistyped path looked like an
    empty history."""
    (tmp_path / "a-file").write_text("x")
    db = tmp_path / where / "x.sqlite3"
    for args, env in ((("stats", "--db", str(db)), {}), (("stats",), {"CNNCALC_DRILL_DB": str(db)})):
        result = drill(*args, env=env)
        assert result.code == 2, result.output
        assert f"error: cannot read {db}: the directory {db.parent} {problem}" in result.stderr
        assert "hint: check the path given with --db or CNNCALC_DRILL_DB" in result.stderr
        assert listing(tmp_path) == ["a-file"]  # nothing created


def test_stats_before_the_first_session_at_the_default_place(tmp_path: Path) -> None:
    """The default directory is made by the first session: before it, stats has nothing to show, not an error."""
    result = drill("stats", env={"XDG_DATA_HOME": str(tmp_path / "xdg"), "CNNCALC_DRILL_DB": ""})
    assert result.code == 0, result.output
    assert "No drill progress yet" in result.stdout
    assert listing(tmp_path) == []
