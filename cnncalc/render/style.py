"""How human-readable output looks where it goes: rich (colour and box drawing) or plain text, and how wide.

One decision for every command, in the order the ecosystem expects:

1. `--color always|never` on the command line;
2. `NO_COLOR` set (any value): plain text, no escape sequence at all, even on a terminal (no-color.org);
3. `FORCE_COLOR` set to anything but "" or "0": rich, even into a pipe (force-color.org);
4. otherwise rich on a terminal (not `TERM=dumb`), plain text into a pipe or a file.

The width is the terminal's (`COLUMNS` overrides it, as everywhere); into a pipe or a file there is no limit
unless `COLUMNS` is set, so a table written to a file is never narrowed.
"""

from __future__ import annotations

import enum
import os
import shutil
import sys
from collections.abc import Mapping
from typing import NamedTuple, TextIO


class ColorChoice(str, enum.Enum):
    auto = "auto"
    always = "always"
    never = "never"


class OutputStyle(NamedTuple):
    rich: bool  # colour and box drawing
    width: int | None  # columns to fit into; None: no limit


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def wants_rich(choice: ColorChoice, stream: TextIO, environ: Mapping[str, str]) -> bool:
    if choice is ColorChoice.always:
        return True
    if choice is ColorChoice.never or "NO_COLOR" in environ:
        return False
    if environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    return is_terminal(stream) and environ.get("TERM") != "dumb"


def output_width(stream: TextIO, environ: Mapping[str, str]) -> int | None:
    columns = environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if is_terminal(stream):
        return shutil.get_terminal_size().columns
    return None


def output_style(
    choice: ColorChoice = ColorChoice.auto, stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> OutputStyle:
    stream = sys.stdout if stream is None else stream
    environ = os.environ if environ is None else environ
    return OutputStyle(wants_rich(choice, stream, environ), output_width(stream, environ))
