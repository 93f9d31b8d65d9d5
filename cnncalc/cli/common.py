"""Pieces shared by the commands: option parsing, spec resolution, error reports, output and exit codes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import typer

from cnncalc.base import limits
from cnncalc.base.errors import ExitCode, SpecError, SpecPathError
from cnncalc.cli.failure import fail
from cnncalc.cli.startup import collection_paused
from cnncalc.engine.analysis import InputOverrides, analyze_text
from cnncalc.engine.result import AnalysisResult
from cnncalc.language.pydantic_errors import did_you_mean
from cnncalc.language.yaml_source import decode_spec_bytes, read_spec_text
from cnncalc.language.zoo import resolve_spec, zoo_specs
from cnncalc.render.issues import issues_text
from cnncalc.render.style import ColorChoice

if TYPE_CHECKING:
    from cnncalc.render.printer import Printer


def printer(color: ColorChoice) -> Printer:
    """Where a command's tables go: stdout, styled or plain as the flags, the environment and the stream say.
    (Imported here, when a table is printed: the JSON, CSV and Markdown paths start without it.)"""
    from cnncalc.render.printer import printer_for
    from cnncalc.render.style import output_style

    return printer_for(output_style(color))


def write_text(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def write_atomically(path: Path, text: str) -> int:
    """Write through a temporary file in the same folder, renamed over `path` once complete: an existing file
    is replaced whole or not at all, and a reader never sees half of it. Returns the bytes written."""
    import os
    import tempfile

    data = text.encode("utf-8")
    folder = path.parent if str(path.parent) else Path(".")
    temporary: str | None = None
    try:
        with tempfile.NamedTemporaryFile("wb", dir=folder, delete=False, prefix=f".{path.name}.", suffix=".tmp") as f:
            temporary = f.name
            f.write(data)
        # A temporary file is private (0600); the file written takes the mode a plain open() would give it.
        os.chmod(temporary, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)  # a full disk or a folder in the way: leave nothing half-written behind
        raise fail(f"cannot write {path}: {error.strerror or error}", ExitCode.USAGE) from None
    return len(data)


def _umask() -> int:
    import os

    mask = os.umask(0)  # the only way to read it is to set it: set it back at once
    os.umask(mask)
    return mask


STDIN_ARGUMENT = "-"
STDIN_LABEL = "<stdin>"  # what errors point at for a spec read from standard input


class SpecText(NamedTuple):
    """A spec's text and the name its errors point at (the path, or <stdin> for `-`)."""

    label: str
    text: str


def resolve_or_fail(argument: str) -> Path:
    path = resolve_spec(argument)
    if path is None:
        hint = did_you_mean(Path(argument).stem, zoo_specs()) or "run `cnncalc zoo` to list bundled specs"
        raise fail(f"{argument!r} is neither a file nor a bundled spec", ExitCode.USAGE, hint)
    return path


def read_stdin_spec() -> str:
    """The spec piped to `-`, read with the same size limit as a file."""
    raw = sys.stdin.buffer.read(limits.MAX_FILE_BYTES + 1)
    return decode_spec_bytes(raw, STDIN_LABEL)


def read_spec_or_fail(argument: str) -> SpecText:
    """SPEC as given: a file, a bundled spec's name, or `-` for standard input. An unreadable file ends the
    command with its located report (exit 2; 1 for content that is not a spec)."""
    sources = SourceCache()
    try:
        if argument == STDIN_ARGUMENT:
            return SpecText(STDIN_LABEL, read_stdin_spec())
        path = resolve_or_fail(argument)
        return SpecText(str(path), read_spec_text(path))
    except SpecError as error:
        raise spec_failure(error, sources) from None


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


def analyze_or_fail(spec: SpecText, *overrides: InputOverrides) -> list[AnalysisResult]:
    """Analyze the spec under each set of overrides (one result each); a spec error ends the command with its
    located report (exit 1)."""
    sources = SourceCache()
    sources.add(spec.label, spec.text)
    try:
        with collection_paused():
            return [analyze_text(spec.text, spec.label, each) for each in overrides]
    except SpecError as error:
        raise spec_failure(error, sources) from None
