"""Sweep speed: a 1,000-point `cnncalc sweep` of ResNet-50 against one cold `cnncalc analyze`.

Target (from the issue): a 1,000-point sweep of specs/resnet50.yaml costs at most 5x one cold `analyze`.

How it is measured: every command is a fresh process (`python -m cnncalc ...` on this checkout, stdout to
/dev/null), as a user runs it, start-up included. The commands are timed side by side in one loop, in rotating
order, after one warm-up round; medians are compared. Three commands:

- `analyze specs/resnet50.yaml --format json`: the reference, one cold analysis;
- `sweep ... --input 3x{64..1000..24} --batch 1..25 --format json`: 40 input sizes x 25 batches = 1,000 points
  (the usual shape of a sweep: a few inputs, many batches; batches between the smallest and the largest are
  derived once proportionality is checked);
- `sweep ... --input 3x{64..1063} --format json`: 1,000 different input sizes at batch 1, where every point
  re-runs the layer rules (memoised), the hardest case for reuse.

Before timing, each sweep's JSON is checked: 1,000 points, and a sample of them equal to a fresh in-process
analysis at that configuration.

    python benchmarks/bench_sweep.py
    python benchmarks/bench_sweep.py --runs 11
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import _util

_util.use_working_tree()

from cnncalc.engine.analysis import InputOverrides, analyze_file  # noqa: E402
from cnncalc.render.machine import count_totals_dict  # noqa: E402

SPEC = "specs/resnet50.yaml"
TARGET_RATIO = 5.0
COMMANDS = {
    "analyze (one cold analysis)": ["analyze", SPEC, "--format", "json"],
    "sweep 40 sizes x 25 batches": ["sweep", SPEC, "--input", "3x{64..1000..24}", "--batch", "1..25", "-f", "json"],
    "sweep 1,000 sizes, batch 1": ["sweep", SPEC, "--input", "3x{64..1063}", "--format", "json"],
}
METRICS = ("params", "macs", "flops", "peak_activation_bytes")


def environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PYTHONPATH"] = str(_util.REPO)
    return env


def timed_run(arguments: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cnncalc", *arguments],
        cwd=_util.REPO,
        env=environment(),
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start


def check_sweep(arguments: list[str]) -> str:
    """Run the sweep once; its JSON must have 1,000 points, a sample equal to fresh analyses."""
    output = subprocess.run(
        [sys.executable, "-m", "cnncalc", *arguments],
        cwd=_util.REPO,
        env=environment(),
        capture_output=True,
        check=True,
    ).stdout
    points = json.loads(output)["points"]
    assert len(points) == 1000, len(points)
    sample = [*points[::97], points[-1]]
    for point in sample:
        shape = tuple(point["input_shape"])
        fresh = analyze_file(_util.REPO / SPEC, InputOverrides(shape[1:], shape[0]))
        expected = count_totals_dict(fresh.totals)
        assert point["totals"] == {metric: expected[metric] for metric in METRICS}, (shape, point["totals"])
    return f"{len(points)} points, {len(sample)} sampled points equal to fresh analyses"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed rounds (default 7)")
    args = parser.parse_args()

    print("# bench_sweep: a 1,000-point sweep of resnet50 against one cold analyze\n")
    print(_util.machine_line())
    for label, arguments in COMMANDS.items():
        if arguments[0] == "sweep":
            print(f"- {label}: {check_sweep(arguments)}")
    labels = list(COMMANDS)
    for label in labels:  # warm-up round: the file cache, the .pyc files
        timed_run(COMMANDS[label])
    times: dict[str, list[float]] = {label: [] for label in labels}
    for round_number in range(args.runs):
        shift = round_number % len(labels)
        for label in labels[shift:] + labels[:shift]:
            times[label].append(timed_run(COMMANDS[label]))
    print(f"\n{args.runs} rounds, rotating order, each command a fresh process (`python -m cnncalc ...`).\n")
    reference = _util.median(times[labels[0]])
    rows = []
    for label in labels:
        median = _util.median(times[label])
        rows.append(
            (
                label,
                "`cnncalc " + " ".join(COMMANDS[label]) + "`",
                _util.ms(median),
                _util.ms(min(times[label])),
                f"{median / reference:.2f}x",
            )
        )
    print(_util.table(["case", "command", "median", "min", "x analyze"], rows))
    print()
    for label in labels[1:]:
        ratio = _util.median(times[label]) / reference
        verdict = "MET" if ratio <= TARGET_RATIO else "MISSED"
        print(f"{label}: {ratio:.2f}x one cold analyze -> {verdict} (target <= {TARGET_RATIO:g}x)")


if __name__ == "__main__":
    main()
