"""A missing optional dependency becomes a clear message and exit code 3, never a traceback."""

from __future__ import annotations

import importlib.util
import sys

import typer

from cnncalc.base.errors import ExitCode

INSTALL_HINT = 'pip install "cnncalc[torch]"'


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def torch_or_exit(command: str, needs: str = "builds the network in PyTorch") -> None:
    """Exit with code 3 and an install hint when torch is not installed."""
    if not torch_available():
        print(
            f"error: `cnncalc {command}` {needs}, which is not installed.\n"
            f"  hint: {INSTALL_HINT}   (the other commands work without it)",
            file=sys.stderr,
        )
        raise typer.Exit(int(ExitCode.MISSING_DEPENDENCY))
