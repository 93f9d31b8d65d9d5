"""A drill process killed mid-session leaves an intact database holding every answer it had graded."""

from __future__ import annotations

import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from clirunner import ROOT, cli_command, process_env, run_cli
from drill_helpers import questions, typed_answer

from cnncalc.drill.store import ProgressStore, inspect

TOPICS = ("conv-params", "batchnorm")
COUNT = 8
SEED = 3

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def start(db: Path) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    topics = ",".join(TOPICS)
    command = cli_command("drill", "--db", str(db), "--seed", str(SEED), "--count", str(COUNT), "--topic", topics)
    process = subprocess.Popen(
        command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8", env=process_env()
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return process, lines


def wait_for(lines: queue.Queue[str], marker: str, seen: list[str], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(marker in line for line in seen):
        seen.append(lines.get(timeout=max(0.01, deadline - time.monotonic())))


def answers() -> list[str]:
    return [typed_answer(question) for question in questions(TOPICS, COUNT, SEED)]


def check_intact(db: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(db)
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    return connection


def test_sigkill_while_waiting_for_an_answer(tmp_path: Path) -> None:
    db = tmp_path / "drill.sqlite3"
    process, lines = start(db)
    assert process.stdin is not None
    seen: list[str] = []
    for answer in answers()[:3]:
        process.stdin.write(answer + "\n")
        process.stdin.flush()
    wait_for(lines, f"[4/{COUNT}]", seen)  # three answers graded, the fourth question shown
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert sum("✓ right" in line for line in seen) == 3
    connection = check_intact(db)
    assert connection.execute("SELECT number, correct FROM answers ORDER BY number").fetchall() == [
        (1, 1),
        (2, 1),
        (3, 1),
    ]
    assert connection.execute("SELECT status FROM sessions").fetchall() == [("open",)]  # never finished
    connection.close()
    assert inspect(db) is True  # the next run accepts it
    store = ProgressStore.open(db)
    assert set(store.cards()) <= set(TOPICS)
    store.close()


def test_sigkill_while_answers_stream_in(tmp_path: Path) -> None:
    """Killed at an arbitrary point of a burst: the database is consistent and holds at least every answer
    whose verdict was printed (each answer is committed before its feedback)."""
    db = tmp_path / "drill.sqlite3"
    process, lines = start(db)
    assert process.stdin is not None
    seen: list[str] = []
    wait_for(lines, f"[1/{COUNT}]", seen)
    process.stdin.write("".join(answer + "\n" for answer in answers()))
    process.stdin.flush()
    wait_for(lines, f"[2/{COUNT}]", seen)
    time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    time.sleep(0.1)
    while not lines.empty():
        seen.append(lines.get())
    verdicts = sum("✓ right" in line for line in seen)
    connection = check_intact(db)
    (saved,) = connection.execute("SELECT COUNT(*) FROM answers").fetchone()
    assert verdicts >= 1
    assert verdicts <= saved <= COUNT
    assert connection.execute("SELECT COUNT(*) FROM answers WHERE correct = 0").fetchone() == (0,)
    connection.close()


def test_hostile_piped_answers_are_graded_wrong_quickly(tmp_path: Path) -> None:
    """1e999999999 once built 10**999999999 (a hang); a 5,000-digit answer crashed the JSON report."""
    hostile = ["1e999999999", "0e999999999", "9" * 5000, "1" + "%" * 3000]
    completed = run_cli("drill", "--json", "--seed", "1", "--topic", "conv-params,bn", "--count", str(len(hostile)),
                        "--db", str(tmp_path / "drill.sqlite3"), stdin="\n".join(hostile) + "\n")
    assert completed.code == 0, completed.stderr
    report = completed.json()
    assert [entry["correct"] for entry in report["questions"]] == [False] * len(hostile)
    too_large = "is too long or too large to be an answer (at most 40 digits and an exponent within ±40)"
    assert [entry["error"] for entry in report["questions"]] == [
        f"'1e999999999' {too_large}",
        f"'0e999999999' {too_large}",
        "the answer is longer than 4,096 characters; it was not read",
        f"'1{'%' * 29}…{'%' * 9} (3,001 characters)' is not a percentage (write 11.5%)",  # quoted cut short
    ]
    assert report["summary"]["answered"] == len(hostile)
