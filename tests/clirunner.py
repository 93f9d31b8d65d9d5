"""Running the command line from tests, in-process (typer's CliRunner) or as a user runs it (a fresh
`python -m cnncalc` process), with one result type for both.

Every run gets the same environment: no colour and, unless a test says otherwise, 160 columns (`columns=None`:
no COLUMNS at all, so that nothing is wrapped, as in a pipe). An exception escaping cnncalc fails the test that
ran it, whatever exit code the test expected.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from typer.testing import CliRunner

from cnncalc.cli.app import full_application

app = full_application()

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = 160
TIMEOUT_S = 60  # a generous bound on a command that takes about a second
HEAD = "input: {shape: [3, 32, 32]}\nlayers:\n"  # lines 1-2: a layer entry written after it is on line 3

_runner = CliRunner()


@dataclass(frozen=True)
class Run:
    """What a command did: its exit code, its two streams and its wall time."""

    code: int
    stdout: str
    stderr: str
    seconds: float = 0.0

    @property
    def output(self) -> str:
        """Both streams, for a failing assertion's message."""
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


def _shown(args: tuple[str, ...]) -> str:
    text = " ".join(args)
    return text if len(text) <= 200 else f"{text[:200]}..."


def _environment(columns: int | None, env: Mapping[str, str] | None) -> dict[str, str | None]:
    """The variables a run sets (None: unset)."""
    return {"NO_COLOR": "1", "COLUMNS": None if columns is None else str(columns), **(env or {})}


def invoke(
    *args: str, stdin: str | None = None, env: Mapping[str, str] | None = None, columns: int | None = COLUMNS
) -> Run:
    """`cnncalc ARGS` in-process: fast, and monkeypatches apply."""
    start = time.monotonic()
    result = _runner.invoke(app, list(args), input=stdin, env=_environment(columns, env))
    seconds = time.monotonic() - start
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"cnncalc {_shown(args)} raised {result.exception!r}") from result.exception
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return Run(result.exit_code, result.stdout, result.stderr, seconds)


def cli_command(*args: str) -> list[str]:
    """The command line a user types, for this interpreter."""
    return [sys.executable, "-m", "cnncalc", *args]


def process_env(env: Mapping[str, str] | None = None, columns: int | None = COLUMNS) -> dict[str, str]:
    """The environment of a real process: this one's, UTF-8 streams, then what `invoke` sets."""
    merged: dict[str, str | None] = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"}
    merged.update(_environment(columns, env))
    return {key: value for key, value in merged.items() if value is not None}


def address_space_limit(size: int) -> Callable[[], None] | None:
    """A preexec_fn that caps a child's address space at `size` bytes (Linux only; elsewhere none)."""
    if sys.platform != "linux":
        return None

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return limit


def run_process(
    command: list[str],
    *,
    stdin: str | bytes | IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
    env: Mapping[str, str] | None = None,
    columns: int | None = COLUMNS,
    cwd: Path = ROOT,
    timeout: float = TIMEOUT_S,
    memory_limit: int | None = None,
) -> Run:
    """`command` in a fresh process. `stdin` is text, bytes or an open stream; `stdout` an open file to write
    to instead of capturing it. A hang raises subprocess.TimeoutExpired."""
    data = stdin.encode() if isinstance(stdin, str) else stdin if isinstance(stdin, bytes) else None
    start = time.monotonic()
    proc = subprocess.run(
        command,
        input=data,
        stdin=None if data is not None or stdin is None else stdin,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=process_env(env, columns),
        timeout=timeout,
        preexec_fn=address_space_limit(memory_limit) if memory_limit else None,
    )
    seconds = time.monotonic() - start
    text = (proc.stdout or b"").decode("utf-8", errors="replace")
    return Run(proc.returncode, text, proc.stderr.decode("utf-8", errors="replace"), seconds)


def run_cli(*args: str, **options: Any) -> Run:
    """`python -m cnncalc ARGS` in a fresh process, as a user runs it: a traceback, a crash or a hang shows."""
    return run_process(cli_command(*args), **options)


def run_python(script: str, **options: Any) -> Run:
    """`python -c SCRIPT` in a fresh process: what a module imports is seen from a clean start."""
    return run_process([sys.executable, "-c", script], **options)


def write_spec(directory: Path, text: str | bytes, name: str = "spec") -> Path:
    """`text` written to DIRECTORY/NAME.yaml."""
    path = directory / f"{name}.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def validate_json(*args: str | Path) -> tuple[int, dict]:
    """`cnncalc validate --format json ARGS`: the exit code and the report."""
    run = invoke("validate", "--format", "json", *map(str, args))
    return run.code, run.json()


def checked_spec(path: Path) -> tuple[int, dict]:
    """`validate` and `analyze` on one spec, which must agree on the exit code: that code, and the report's entry."""
    code, report = validate_json(path)
    analyzed = invoke("analyze", "--format", "json", str(path))
    assert analyzed.code == code, (report, analyzed.stderr)
    [entry] = report["files"]
    return code, entry
