"""Answers from standard input: read one bounded line per question, whatever the stream holds."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from clirunner import Run, run_cli
from drill_helpers import drill_ok, questions

from cnncalc.drill.answer_lines import MAX_ANSWER_CHARS, AnswerLine, AnswerLines

MEMORY_LIMIT = 1 << 30  # the drill needs about 100 MiB; a process reading an endless stream whole hits this fast

ENDLESS_LINES = "import sys\nwhile True:\n    sys.stdout.write('9472\\n' * 4096)\n"  # like `yes 9472`
ENDLESS_LINE = "import sys\nwhile True:\n    sys.stdout.write('9' * 65536)\n"  # one line that never ends


def drill_fed_by(feeder: list[str], *args: str) -> Run:
    """Run `cnncalc drill ARGS` with its stdin the stdout of the `feeder` process, memory bounded."""
    with subprocess.Popen(feeder, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as feed:
        try:
            return run_cli("drill", *args, stdin=feed.stdout, memory_limit=MEMORY_LIMIT)
        finally:
            feed.kill()


pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes and resource limits")


def test_an_endless_stream_of_answers_is_read_only_as_far_as_the_questions_go() -> None:
    """`yes 9472 | cnncalc drill --json` read all of stdin until a MemoryError."""
    yes = shutil.which("yes")
    feeder = [yes, "9472"] if yes else [sys.executable, "-c", ENDLESS_LINES]
    completed = drill_fed_by(feeder, "--json", "--no-save", "--seed", "3", "--count", "4")
    assert completed.code == 0, completed.stderr[-2000:]
    report = completed.json()
    assert report["summary"]["status"] == "finished"
    assert (report["summary"]["questions"], report["summary"]["answered"]) == (4, 4)
    assert [entry["given"] for entry in report["questions"]] == ["9472"] * 4


def test_one_endless_line_is_refused_and_reading_stops() -> None:
    completed = drill_fed_by([sys.executable, "-c", ENDLESS_LINE], "--json", "--no-save", "--seed", "3", "--count", "2")
    assert completed.code == 0, completed.stderr[-2000:]
    report = completed.json()
    assert report["summary"]["status"] == "quit"
    assert report["summary"]["answered"] == 1 and report["summary"]["correct"] == 0
    first, second = report["questions"]
    assert first["given"] == "9" * MAX_ANSWER_CHARS
    assert first["error"] == (
        "the answer is longer than 4,096 characters; it was not read, nor anything after it "
        "(more than 16,777,216 characters without a line break)"
    )
    assert first["correct"] is False and first["understood"] is None
    assert second["given"] is None  # never answered: nothing after the endless line was read


def test_a_long_line_is_refused_and_the_next_line_answers_the_next_question(tmp_path: Path) -> None:
    asked = questions(("conv-params",), 2, 4)
    right = asked[1].expected.describe()
    piped = "9" * 100_000 + "\n" + right + "\n"  # no newline needed at the end either; here there is one
    db = tmp_path / "drill.sqlite3"
    report = drill_ok("--json", "--seed", "4", "--count", "2", "--topic", "conv-params", "--db", str(db),
                      stdin=piped).json()
    first, second = report["questions"]
    assert first["error"] == "the answer is longer than 4,096 characters; it was not read"
    assert len(first["given"]) == MAX_ANSWER_CHARS
    assert (second["given"], second["correct"]) == (right, True)
    assert report["summary"] | {"seconds": 0, "seconds_per_question": 0, "by_topic": {}} == {
        "status": "finished",
        "questions": 2,
        "answered": 2,
        "correct": 1,
        "score": 0.5,
        "seconds": 0,
        "seconds_per_question": 0,
        "by_topic": {},
    }


@pytest.mark.parametrize("decoding", [{"PYTHONIOENCODING": "utf-8"}, {"PYTHONIOENCODING": "utf-8:surrogateescape"}])
def test_bytes_that_are_not_text_are_refused_answers_not_a_traceback(tmp_path: Path, decoding: dict[str, str]) -> None:
    """Undecodable bytes reached SQLite as lone surrogates (UnicodeEncodeError while saving the answer), or
    stopped a strict decoder (UnicodeDecodeError)."""
    db = tmp_path / "drill.sqlite3"
    completed = run_cli("drill", "--json", "--seed", "1", "--count", "2", "--topic", "conv-params", "--db", str(db),
                        stdin=b"\xff\xfe9\n9472\n", env={"LC_ALL": "C.UTF-8", **decoding})
    assert completed.code == 0, completed.stderr[-2000:]
    report = completed.json()
    assert [entry["given"] for entry in report["questions"]] == ["\ufffd\ufffd9", "9472"]
    assert report["questions"][0]["error"] == "'��9' is not a number (try 9472, 9,472, 9.472K, 1.5e9 or 1/9)"
    assert report["summary"]["answered"] == 2


def test_piped_interactive_answers_are_bounded_too() -> None:
    asked = questions(("conv-params",), 1, 4)
    right = asked[0].expected.describe()
    result = drill_ok("--seed", "4", "--count", "1", "--topic", "conv-params", "--no-save",
                      stdin="9" * 10_000 + "\n" + right + "\n")
    assert "Could not read that: the answer is longer than 4,096 characters; it was not read." in result.stdout
    assert f"✓ right: {right}" in result.stdout
    assert "Score: 1/1 (100%)" in result.stdout


# ------------------------------------------------------------------------------------ the reader itself


def test_the_reader_takes_one_line_per_call_and_never_reads_ahead() -> None:
    stream = io.StringIO("9472\n  32x64 \nlast")
    lines = AnswerLines(stream)
    assert lines.next() == AnswerLine("9472")
    assert stream.tell() == 5  # only the first line was consumed
    assert lines.next() == AnswerLine("  32x64 ")
    assert lines.next() == AnswerLine("last")  # a last line without a line break
    assert lines.next() is None
    assert lines.next() is None


def test_the_reader_refuses_long_lines_and_gives_up_on_endless_ones() -> None:
    stream = io.StringIO("123456\n1234\n" + "x" * 30 + "\nafter\n")
    lines = AnswerLines(stream, max_chars=5, max_skipped_chars=100)
    assert lines.next() == AnswerLine("12345", "the answer is longer than 5 characters; it was not read")
    assert lines.next() == AnswerLine("1234")
    assert lines.next() == AnswerLine("xxxxx", "the answer is longer than 5 characters; it was not read")
    assert lines.next() == AnswerLine("after")
    endless = AnswerLines(io.StringIO("y" * 1000 + "\nnever read\n"), max_chars=5, max_skipped_chars=100)
    assert endless.next() == AnswerLine(
        "yyyyy",
        "the answer is longer than 5 characters; it was not read, nor anything after it "
        "(more than 100 characters without a line break)",
    )
    assert endless.next() is None
