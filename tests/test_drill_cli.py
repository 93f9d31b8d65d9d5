"""`cnncalc drill` end to end: the interactive loop, worksheets, piped JSON answers, stats and progress."""

from __future__ import annotations

import json
import sqlite3
import types
from pathlib import Path

import pytest
from clirunner import run_python
from drill_helpers import drill, drill_ok, execute, questions, rows, typed_answer

from cnncalc.drill.plan import SessionRequest
from cnncalc.drill.question import Level

SESSION = ("--topic", "conv-params,rf", "--count", "3", "--seed", "5")


def test_interactive_right_wrong_and_malformed_answers(tmp_path: Path) -> None:
    db = tmp_path / "progress.sqlite3"
    asked = questions(("conv-params", "receptive-field"), 3, 5)
    script = "\n".join(
        [
            typed_answer(asked[0]),
            "twelve",  # malformed: asked again, not graded
            "?",  # the expected format
            "123456789",  # wrong
            "skip",
        ]
    )
    result = drill(*SESSION, "--db", str(db), stdin=script + "\n")
    assert result.code == 0, result.output
    out = result.stdout
    assert f"[1/3] {asked[0].topic}" in out and asked[0].prompt in out
    assert f"✓ right: {typed_answer(asked[0])}" in out
    assert "Could not read that: 'twelve' is not a number" in out
    assert f"Answer with {asked[1].answer_format}" in out
    assert f"✗ wrong: you said 123,456,789; the answer is {asked[1].expected.describe()}" in out
    assert f"– skipped; the answer is {asked[2].expected.describe()}" in out
    assert out.count("Worked solution:") == 3
    assert asked[0].solution.splitlines()[-1] in out
    assert "Score: 1/3 (33%)" in out
    assert "time/question" in out and "Time per question: 1 ✓" in out
    saved = rows(db, "SELECT number, question_id, correct FROM answers ORDER BY number")
    assert saved == [(1, asked[0].id, 1), (2, asked[1].id, 0), (3, asked[2].id, 0)]
    assert rows(db, "SELECT status FROM sessions") == [("finished",)]


def test_ctrl_c_keeps_the_answers_given_and_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "progress.sqlite3"
    asked = questions(("conv-params", "receptive-field"), 3, 5)
    from cnncalc.drill.answer_lines import AnswerLine

    typed = iter([typed_answer(asked[0]), "1"])

    def keyboard(self: object) -> AnswerLine:
        """Types two answers, then Ctrl-C arrives while the third is awaited."""
        for answer in typed:
            return AnswerLine(answer)
        raise KeyboardInterrupt

    monkeypatch.setattr("cnncalc.drill.answer_lines.AnswerLines.next", keyboard)
    result = drill(*SESSION, "--db", str(db))
    assert result.code == 130
    assert "Interrupted after 2 of 3 questions; every answer given is saved." in result.stdout
    assert rows(db, "SELECT number, correct FROM answers ORDER BY number") == [(1, 1), (2, 0)]
    assert rows(db, "SELECT status FROM sessions") == [("interrupted",)]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


def test_end_of_input_ends_the_session_as_a_quit(tmp_path: Path) -> None:
    db = tmp_path / "progress.sqlite3"
    asked = questions(("conv-params", "receptive-field"), 3, 5)
    result = drill(*SESSION, "--db", str(db), stdin=typed_answer(asked[0]) + "\n")
    assert result.code == 0
    assert "Stopped after 1 of 3 questions." in result.stdout
    assert rows(db, "SELECT status FROM sessions") == [("quit",)]
    result = drill_ok(*SESSION, "--db", str(db), stdin="quit\n")
    assert "No questions answered." in result.stdout


def test_progress_goes_to_xdg_data_home_or_the_environment_variable(tmp_path: Path) -> None:
    result = drill(*SESSION, stdin="skip\n", env={"XDG_DATA_HOME": str(tmp_path / "xdg"), "CNNCALC_DRILL_DB": ""})
    assert result.code == 0
    assert (tmp_path / "xdg" / "cnncalc" / "drill.sqlite3").is_file()
    chosen = tmp_path / "chosen.sqlite3"
    result = drill_ok(
        *SESSION, stdin="skip\n", env={"XDG_DATA_HOME": str(tmp_path / "xdg"), "CNNCALC_DRILL_DB": str(chosen)}
    )
    assert chosen.is_file()
    assert f"progress is saved in {chosen}" in result.stdout


def test_no_save_touches_no_database(tmp_path: Path) -> None:
    result = drill(*SESSION, "--no-save", stdin="skip\n", env={"XDG_DATA_HOME": str(tmp_path)})
    assert result.code == 0 and "progress is not saved" in result.stdout
    assert not any(tmp_path.iterdir())


def test_piped_answers_give_a_json_report(tmp_path: Path) -> None:
    db = tmp_path / "progress.sqlite3"
    asked = questions((), 4, 11)
    piped = f"{typed_answer(asked[0])}\n1\nnot a number\n"  # the fourth answer is missing
    result = drill("--json", "--seed", "11", "--count", "4", "--db", str(db), stdin=piped)
    assert result.code == 0
    report = json.loads(result.stdout)
    assert report["seed"] == 11 and report["database"] == str(db)
    assert report["summary"] | {"seconds": 0, "seconds_per_question": 0, "by_topic": {}} == {
        "status": "quit",
        "questions": 4,
        "answered": 3,
        "correct": 1,
        "score": 0.25,
        "seconds": 0,
        "seconds_per_question": 0,
        "by_topic": {},
    }
    graded = report["questions"]
    assert [entry["id"] for entry in graded] == [question.id for question in asked]
    assert [entry["correct"] for entry in graded] == [True, False, False, False]
    assert asked[2].expected.kind.value == "shape"
    assert graded[2]["error"] == "'not a number' is not a shape (write it like 64x112x112 or (64, 112, 112))"
    assert graded[3]["given"] is None
    assert graded[0]["expected"] == asked[0].expected.machine_value()
    assert graded[0]["solution"] == asked[0].solution
    assert rows(db, "SELECT COUNT(*) FROM answers") == [(3,)]  # the unanswered question is not recorded


def test_worksheet_with_answer_key(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path), "CNNCALC_DRILL_DB": ""}
    result = drill("--print", "--seed", "7", "--count", "5", "--level", "hard", env=env)
    assert result.code == 0
    sheet = result.stdout
    asked = questions((), 5, 7, Level.hard)
    assert sheet.startswith("# cnncalc drill worksheet")
    assert "`cnncalc drill --print --seed 7 --count 5 --level hard`" in sheet
    questions_part, key = sheet.split("## Answer key")
    for number, question in enumerate(asked, start=1):
        assert f"**{number}.** `{question.topic}`" in questions_part
        assert f"**{number}.** {question.expected.describe()}" in key
        assert question.solution.splitlines()[-1] in key
    assert drill_ok("--print", "--seed", "7", "--count", "5", "--level", "hard", env=env).stdout == sheet
    plain = drill_ok("--print", "--seed", "7", "--count", "5", "--level", "hard", "--format", "plain", env=env).stdout
    assert "ANSWER KEY" in plain and "#" not in plain.splitlines()[0]
    listed = json.loads(
        drill_ok("--print", "--seed", "7", "--count", "5", "--level", "hard", "-f", "json", env=env).stdout
    )
    assert [entry["expected"] for entry in listed["questions"]] == [q.expected.machine_value() for q in asked]
    assert not any(tmp_path.iterdir())  # a worksheet never creates a progress database


def test_notes_only_session_asks_the_notes_examples() -> None:
    result = drill_ok("--notes", "--topic", "linear-head", "--print", "--seed", "1")
    assert "2,049,000" in result.stdout and "100,353,000" in result.stdout
    assert "study notes 003 §7" in result.stdout


def test_unknown_topic_is_a_usage_error() -> None:
    result = drill("--topic", "recepive", "--no-save")
    assert result.code == 2
    assert "unknown topic 'recepive'" in result.stderr and "receptive" in result.stderr


def test_topics_are_listed_in_help_and_by_the_topics_command() -> None:
    from cnncalc.drill.topics import TOPICS

    lines = drill_ok("topics").stdout.splitlines()
    assert max(len(line) for line in lines) <= 80  # wrapped to 80 columns into a pipe
    listing: list[str] = []  # one entry per topic, its continuation lines joined
    for line in lines:
        if line.startswith(" "):
            listing[-1] += " " + line.strip()
        else:
            listing.append(line)
    help_text = " ".join(drill_ok("--help", env={"COLUMNS": "200"}).stdout.split())
    assert [line.split()[0] for line in listing] == list(TOPICS)  # in the catalogue's order
    for line, topic in zip(listing, TOPICS.values(), strict=True):
        assert line.startswith(f"{topic.name:<19}{topic.summary}"), line
        assert topic.name in help_text


def test_stats_show_history_and_weak_topics(tmp_path: Path) -> None:
    db = tmp_path / "progress.sqlite3"
    assert "No drill progress yet" in drill_ok("stats", "--db", str(db)).stdout
    assert not db.exists()  # stats never creates the database
    asked = questions(("conv-params", "receptive-field"), 3, 5)
    assert [question.topic for question in asked] == ["conv-params", "receptive-field", "conv-params"]
    drill_ok(*SESSION, "--db", str(db), stdin=f"{typed_answer(asked[0])}\n1\n1\n")
    result = drill_ok("stats", "--db", str(db))
    assert "1 sessions, 3 answers, 1 right (33%)" in result.stdout
    assert "\nWeak topics: receptive-field, conv-params\n" in result.stdout
    data = drill_ok("stats", "--db", str(db), "--format", "json").json()
    boxes = {topic["topic"]: topic["box"] for topic in data["topics"]}
    assert boxes == {"conv-params": 1, "receptive-field": 1}  # conv-params: right, then wrong -> back to box 1
    assert data["weak_topics"] == ["receptive-field", "conv-params"]  # 0 of 1 right, then 1 of 2
    assert data["answers"] == 3 and data["correct"] == 1


def test_spaced_repetition_brings_wrong_topics_back(tmp_path: Path) -> None:
    """After topics are mastered (box 5) and one is failed (box 1), the failed one dominates the next plan."""
    from cnncalc.drill.leitner import Card
    from cnncalc.drill.plan import build_questions as plan

    cards = {name: Card(5, 100) for name in ("conv-output", "pool-output", "batchnorm")}
    cards["im2col"] = Card(1, 2)
    request = SessionRequest(("conv-output", "pool-output", "batchnorm", "im2col"), Level.easy, 40, None)
    topics = [question.topic for question in plan(request, cards, session_number=2)]
    assert topics.count("im2col") >= 17  # about half: no topic twice in a row, the rest barely weighted
    assert topics.count("conv-output") < topics.count("im2col")


# ---------------------------------------------------------------------------------- damaged and foreign files


def _foreign_sqlite(path: Path) -> None:
    execute(path, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO users (name) VALUES ('ada')")


def _marked_sqlite(path: Path) -> None:
    execute(path, "PRAGMA application_id = 1234", "CREATE TABLE t (x)")


def _damaged_drill_database(path: Path) -> None:
    asked = questions(("conv-params", "receptive-field"), 3, 5)
    drill_ok(*SESSION, "--db", str(path), stdin=f"{typed_answer(asked[0])}\n1\n1\n")
    data = bytearray(path.read_bytes())
    assert len(data) >= 3 * 4096
    data[2 * 4096 : 3 * 4096] = bytes(range(256)) * 16  # a page of the tables overwritten
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path.write_text("my notes, not a database\n" * 50), "not an SQLite file"),
        (_foreign_sqlite, "an SQLite database of another program (tables: users)"),
        (_marked_sqlite, "another program (application_id 0x4d2)"),
        (_damaged_drill_database, "is damaged"),
        (lambda path: path.write_bytes(b"SQLite format 3\x00" + bytes(200)), "damaged or not a database"),
    ],
)
def test_corrupt_or_foreign_files_are_refused_and_left_byte_for_byte(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "drill.sqlite3"
    make(path)
    before = path.read_bytes()
    siblings = sorted(item.name for item in tmp_path.iterdir())
    for args in (("--count", "1", "--db", str(path)), ("stats", "--db", str(path)), ("--json", "--db", str(path))):
        result = drill(*args, stdin="1\n")
        assert result.code == 2, result.output
        assert message in result.stderr and "left untouched" in result.stderr
        assert "hint:" in result.stderr
    assert path.read_bytes() == before
    assert sorted(item.name for item in tmp_path.iterdir()) == siblings


def test_an_empty_file_becomes_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "drill.sqlite3"
    path.touch()
    assert drill("--count", "1", "--seed", "1", "--db", str(path), stdin="skip\n").code == 0
    assert rows(path, "SELECT COUNT(*) FROM answers") == [(1,)]


def test_a_directory_is_refused(tmp_path: Path) -> None:
    result = drill("--count", "1", "--db", str(tmp_path), stdin="1\n")
    assert result.code == 2 and "is a directory" in result.stderr


# ---------------------------------------------------------------------------------------------- Ctrl-C


def _ctrl_c_during_commit(monkeypatch: pytest.MonkeyPatch, commit: int) -> None:
    """Press Ctrl-C (a real SIGINT) while the `commit`-th transaction runs: the store holds it back until the
    commit is done, then delivers it."""
    import os
    import signal
    from contextlib import contextmanager

    from cnncalc.drill import store

    original = store._transaction
    commits: list[int] = []

    @contextmanager
    def transaction(connection: sqlite3.Connection):
        with original(connection):
            yield
            commits.append(1)
            if len(commits) == commit:
                os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(store, "_transaction", transaction)


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGINT"), reason="needs SIGINT")
def test_ctrl_c_during_a_commit_keeps_the_summary_and_the_database_in_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "progress.sqlite3"
    asked = questions(("conv-params", "receptive-field"), 3, 5)
    _ctrl_c_during_commit(monkeypatch, commit=3)  # the session's row, answer 1, answer 2
    result = drill(*SESSION, "--db", str(db), stdin=f"{typed_answer(asked[0])}\n1\n1\n")
    assert result.code == 130, result.output
    assert "Interrupted after 2 of 3 questions; every answer given is saved." in result.stdout
    assert "Score: 1/2 (50%)" in result.stdout
    assert rows(db, "SELECT number, correct FROM answers ORDER BY number") == [(1, 1), (2, 0)]
    assert rows(db, "SELECT status FROM sessions") == [("interrupted",)]


def test_ctrl_c_in_piped_json_mode_closes_the_session_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "progress.sqlite3"
    asked = questions((), 4, 11)
    _ctrl_c_during_commit(monkeypatch, commit=3)
    piped = f"{typed_answer(asked[0])}\n1\n1\n1\n"
    result = drill("--json", "--seed", "11", "--count", "4", "--db", str(db), stdin=piped)
    assert result.code == 130, result.output
    report = json.loads(result.stdout)
    assert report["summary"]["status"] == "interrupted"
    assert report["summary"]["answered"] == 2 and report["summary"]["correct"] == 1
    assert [entry["given"] is not None for entry in report["questions"]] == [True, True, False, False]
    assert rows(db, "SELECT COUNT(*) FROM answers") == [(2,)]
    assert rows(db, "SELECT status FROM sessions") == [("interrupted",)]


def test_ctrl_c_while_reading_piped_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "progress.sqlite3"

    class InterruptedStdin:
        def readline(self, size: int = -1) -> str:
            raise KeyboardInterrupt

        def isatty(self) -> bool:
            return False

    monkeypatch.setattr("cnncalc.drill.command.sys", types.SimpleNamespace(stdin=InterruptedStdin()))
    result = drill("--json", "--seed", "11", "--count", "2", "--db", str(db), stdin="1\n1\n")
    assert result.code == 130, result.output
    assert json.loads(result.stdout)["summary"]["answered"] == 0
    assert rows(db, "SELECT status FROM sessions") == [("interrupted",)]


def test_ctrl_c_while_a_worksheet_is_built_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("cnncalc.drill.command.build_questions", interrupted)
    result = drill("--print", "--seed", "1")
    assert result.code == 130
    assert "Aborted" not in result.output and "interrupted" in result.stderr


# ---------------------------------------------------------------------------------- hand-edited progress


@pytest.mark.parametrize("box", [0, 9, -3, 2**40, "'x'", "'3'", "2.5"])
def test_a_hand_edited_leitner_box_is_clamped_not_a_crash(tmp_path: Path, box: object) -> None:
    db = tmp_path / "progress.sqlite3"
    assert drill(*SESSION, "--db", str(db), stdin="1\n1\n1\n").code == 0
    execute(db, f"UPDATE cards SET box = {box}, due_session = 'soon'")
    # Without --seed, the plan weighs topics by their boxes.
    result = drill("--topic", "conv-params,rf", "--count", "2", "--db", str(db), stdin="skip\nskip\n")
    assert result.code == 0, result.output
    stats = drill_ok("stats", "--db", str(db), "--format", "json").json()
    assert all(1 <= topic["box"] <= 5 for topic in stats["topics"])


# ------------------------------------------------------------------------------------- one source each


def test_the_topic_list_has_one_source_and_listing_it_loads_no_engine() -> None:
    from cnncalc.cli.drill_commands import DRILL_HELP
    from cnncalc.drill.catalog import ALIASES, SUMMARIES
    from cnncalc.drill.topics import TOPICS

    assert list(TOPICS) == list(SUMMARIES)
    assert [topic.summary for topic in TOPICS.values()] == list(SUMMARIES.values())
    assert set(ALIASES.values()) <= set(SUMMARIES)
    assert f"Topics: {', '.join(TOPICS)} (" in DRILL_HELP
    script = (
        "import contextlib, io, sys\n"
        "from cnncalc.cli.startup import run\n"
        "for args in (['drill', 'topics'], ['drill', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert run(args) == 0\n"
        "loaded = [name for name in sys.modules if name.startswith(('cnncalc.drill.topics', 'cnncalc.calc'))]\n"
        "assert not loaded, loaded\n"
    )
    run = run_python(script)
    assert run.code == 0, run.stderr


def test_shared_definitions_are_not_repeated() -> None:
    from cnncalc.cli import app, drill_commands, startup
    from cnncalc.drill import building, notes, question
    from cnncalc.drill.topics import compute, parameters

    assert drill_commands.Level is question.Level
    assert app.COMMANDS["calc"][1] is app.COMMANDS["drill"][1] is startup.LAZY_GROUP_SETTINGS
    assert notes.APPROX is compute.APPROX is parameters.APPROX is question.APPROX
    assert not hasattr(building, "run")


def test_worksheet_and_report_entries_are_one_question_record(tmp_path: Path) -> None:
    from cnncalc.drill.question import question_data

    asked = questions((), 3, 4)
    sheet = drill_ok("--print", "--seed", "4", "--count", "3", "-f", "json").json()
    report = drill_ok("--json", "--seed", "4", "--count", "3", "--no-save", stdin="1\n").json()
    for number, question in enumerate(asked, start=1):
        entry = question_data(number, question)
        assert sheet["questions"][number - 1] == entry
        assert {key: report["questions"][number - 1][key] for key in entry} == entry
