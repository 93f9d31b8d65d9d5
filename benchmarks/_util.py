"""Small helpers shared by the benchmark scripts (statistics, tables, profiles). Not part of cnncalc."""

from __future__ import annotations

import cProfile
import io
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def use_working_tree() -> None:
    """Make `import cnncalc` load the checkout this script lives in (not some other installed copy)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A small Markdown table; numbers are expected to be formatted already."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells[1:]]
    return "\n".join(lines)


def machine_line() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?", "?", "?")
    return (
        f"Python {platform.python_version()} ({sys.executable}), {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def profile(function: Callable[[], object], top: int = 20) -> str:
    """cProfile one call; the top functions by own time and by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    function()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs()
    out.write(f"--- top {top} by own time (tottime) ---\n")
    stats.sort_stats("tottime").print_stats(top)
    out.write(f"--- top {top} by cumulative time ---\n")
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()
