"""Pieces shared by the commands: option parsing, spec resolution, error reports and exit codes."""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path

import typer

from cnncalc.engine.analysis import InputOverrides, analyze_text
from cnncalc.engine.result import AnalysisResult
from cnncalc.errors import ExitCode, SpecError, SpecPathError
from cnncalc.render.issues import issues_text
from cnncalc.spec.document import DTYPE_NAMES
from cnncalc.spec.pydantic_errors import did_you_mean
from cnncalc.spec.yaml_source import read_spec_text
from cnncalc.zoo import resolve_spec, zoo_specs


class OutputFormat(str, enum.Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


# Every dtype name the spec accepts, aliases included, so --dtype and `input.dtype` agree.
Dtype = enum.Enum("Dtype", {name: name for name in DTYPE_NAMES}, type=str)


def fail(message: str, code: ExitCode, hint: str = "") -> typer.Exit:
    """Print an error to stderr and return the Exit to raise."""
    text = f"error: {message}"
    if hint:
        text += f"\n  hint: {hint}"
    print(text, file=sys.stderr)
    return typer.Exit(int(code))


def parse_input_shape(text: str | None) -> tuple[int, ...] | None:
    """'3x224x224' (or '3,224,224') -> (3, 224, 224): channels then 1 to 3 spatial sizes."""
    if text is None:
        return None
    parts = text.replace(",", "x").replace("X", "x").replace("×", "x").split("x")
    try:
        sizes = tuple(int(part.strip()) for part in parts)
    except ValueError:
        raise fail(
            f"--input {text!r} is not a shape", ExitCode.USAGE, "write channels then sizes, e.g. --input 3x224x224"
        ) from None
    if not 2 <= len(sizes) <= 4 or min(sizes) < 1:
        raise fail(
            f"--input {text!r} needs channels and 1 to 3 positive spatial sizes",
            ExitCode.USAGE,
            "e.g. --input 3x224x224 (image) or --input 1x16000 (1-d signal)",
        )
    return sizes


def resolve_or_fail(argument: str) -> Path:
    path = resolve_spec(argument)
    if path is None:
        hint = did_you_mean(Path(argument).stem, zoo_specs()) or "run `cnncalc zoo` to list bundled specs"
        raise fail(f"{argument!r} is neither a file nor a bundled spec", ExitCode.USAGE, hint)
    return path


class SourceCache:
    """Source lines of spec files, read on demand to show the offending line under an error."""

    def __init__(self) -> None:
        self._texts: dict[str, list[str] | None] = {}

    def add(self, file: str, text: str) -> None:
        self._texts[file] = text.splitlines()

    def __call__(self, file: str) -> list[str] | None:
        return self._texts.get(file)


def spec_failure(error: SpecError, sources: SourceCache) -> typer.Exit:
    """Print a SpecError's located issues to stderr; return the Exit to raise: 1 for a bad spec, 2 when the
    file itself cannot be read."""
    print(issues_text(error.issues, sources), file=sys.stderr)
    code = ExitCode.USAGE if isinstance(error, SpecPathError) else ExitCode.INVALID_SPEC
    return typer.Exit(int(code))


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def analyze_or_fail(path: Path, *overrides: InputOverrides) -> list[AnalysisResult]:
    """Read the spec once and analyze it under each set of overrides (one result each); a spec error ends
    the command with its located report (exit 1, or 2 when the file cannot be read)."""
    sources = SourceCache()
    try:
        text = read_spec_text(path)
        sources.add(str(path), text)
        return [analyze_text(text, str(path), each) for each in overrides]
    except SpecError as error:
        raise spec_failure(error, sources) from None
