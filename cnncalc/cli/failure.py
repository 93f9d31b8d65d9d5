"""Ending a command on a usage problem: the message (and a hint) on standard error, and the exit to raise."""

from __future__ import annotations

import enum
import sys

import typer

from cnncalc.base.errors import ExitCode


def fail(message: str, code: ExitCode, hint: str = "") -> typer.Exit:
    """Print an error to stderr and return the Exit to raise."""
    text = f"error: {message}"
    if hint:
        text += f"\n  hint: {hint}"
    print(text, file=sys.stderr)
    return typer.Exit(int(code))


def refuse_format(command: str, output_format: enum.Enum, reason: str) -> typer.Exit:
    """A format that makes no sense for what the command prints: exit 2, saying why."""
    return fail(f"{command} cannot print --format {output_format.value}: {reason}", ExitCode.USAGE)
