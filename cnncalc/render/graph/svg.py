"""SVG through Graphviz's `dot` program, run without a shell on the DOT text given on its standard input."""

from __future__ import annotations

import shutil
import subprocess

DOT_TIMEOUT_S = 120.0  # a few seconds for the largest zoo network; a layout that takes longer is stuck


class GraphvizMissing(Exception):
    """`dot` is not on PATH."""


class GraphvizFailed(Exception):
    """`dot` ran and gave no SVG: it failed, or it did not finish in time."""


def render_svg(dot_text: str, timeout_s: float = DOT_TIMEOUT_S) -> str:
    executable = shutil.which("dot")
    if executable is None:
        raise GraphvizMissing
    try:
        completed = subprocess.run(
            [executable, "-Tsvg"], input=dot_text.encode("utf-8"), capture_output=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise GraphvizFailed(f"dot did not finish within {timeout_s:g} s") from None
    except OSError as error:
        raise GraphvizFailed(f"cannot run {executable}: {error.strerror or error}") from None
    if completed.returncode != 0:
        said = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GraphvizFailed(f"dot exited with code {completed.returncode}" + (f": {said[0]}" if said else ""))
    return completed.stdout.decode("utf-8")
