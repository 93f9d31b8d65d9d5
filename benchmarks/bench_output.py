"""Output at the layer limit: wall time and peak memory of writing a 100,000-layer network's results.

What it answers: does a network at the engine's layer limit (100,000 layers) still come out as JSON and as a
terminal table, in how long, and with how much memory? The JSON is written a layer at a time and the table is
drawn line by line, so memory should stay near what the analysis itself holds.

How it is measured:
- The spec is a block of ten 3x3 convolutions (3 channels, 8x8 input) repeated to the layer count: a flat
  spec of 100,000 entries would pass the YAML value limit before the layer limit.
- Each command is a fresh process (`python -m cnncalc ...` with this interpreter, the checkout first on
  PYTHONPATH), stdout to /dev/null; its wall time is taken from the parent and its peak resident memory
  (ru_maxrss) from `os.wait4`.
- `--baseline REF` also runs a git ref (extracted with `git archive`) with the same interpreter and
  dependencies, in the same rounds, alternating with the working tree: before and after in one run.

    python benchmarks/bench_output.py                       # 100,000 layers, 3 rounds
    python benchmarks/bench_output.py --layers 20000 --rounds 5
    python benchmarks/bench_output.py --baseline 0270466    # side by side with an older commit
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _util

# label -> (arguments after the spec, environment). Colour is chosen through the environment (FORCE_COLOR,
# NO_COLOR), which older versions without --color honour too; tables are fitted to 120 columns.
COMMANDS: dict[str, tuple[list[str], dict[str, str]]] = {
    "analyze --format json": (["--format", "json"], {}),
    "analyze (table), FORCE_COLOR=1": (["--format", "table"], {"FORCE_COLOR": "1"}),
    "analyze (table), NO_COLOR=1": (["--format", "table"], {"NO_COLOR": "1"}),
}


def generate_spec(layers: int) -> str:
    """A block of ten convolutions, repeated layers / 10 times."""
    convs = "\n".join(
        f"      - {{name: convolution_{index}, type: conv2d, out: 3, kernel: 3, padding: 1}}" for index in range(10)
    )
    return (
        "input: {shape: [3, 8, 8]}\n"
        f"blocks:\n  ten:\n    layers:\n{convs}\n"
        f"layers:\n  - {{name: stage, block: ten, repeat: {layers // 10}}}\n"
    )


def run_once(source: Path, spec: Path, command: str, cwd: Path) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in bytes, exit code) of one `python -m cnncalc analyze SPEC ...` from `source`."""
    arguments, settings = COMMANDS[command]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(PYTHONPATH=str(source), COLUMNS="120", **settings)
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "cnncalc", "analyze", str(spec), *arguments],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    error = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.stderr.write(error.decode(errors="replace")[-2000:])
    return elapsed, usage.ru_maxrss * 1024, process.returncode


def extract(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(_util.REPO), "archive", ref], capture_output=True)
    if archive.returncode != 0:
        raise SystemExit(f"git archive {ref} failed: {archive.stderr.decode()[-500:]}")
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=100_000, help="layers, a multiple of 10 (limit 100,000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each command (rotating order)")
    parser.add_argument("--baseline", help="a git ref to run side by side with the working tree")
    args = parser.parse_args()

    print(f"# bench_output: {args.layers:,}-layer network, JSON and table output\n")
    print(_util.machine_line())
    with tempfile.TemporaryDirectory(prefix="cnncalc-output-") as temporary:
        work = Path(temporary)
        spec = work / f"flat{args.layers}.yaml"
        spec.write_text(generate_spec(args.layers))
        print(f"spec: {spec.stat().st_size:,} bytes of YAML, {args.layers:,} layers\n")
        sources = {"working tree": _util.REPO}
        if args.baseline:
            sources[f"baseline {args.baseline}"] = extract(args.baseline, work / "baseline")

        runs = [(source, command) for command in COMMANDS for source in sources]
        results: dict[tuple[str, str], list[tuple[float, int, int]]] = {run: [] for run in runs}
        for round_ in range(args.rounds):
            shift = round_ % len(runs)
            for source, command in runs[shift:] + runs[:shift]:
                results[(source, command)].append(run_once(sources[source], spec, command, work))

        rows = []
        for source, command in runs:
            measured = results[(source, command)]
            codes = sorted({code for _, _, code in measured})
            rows.append(
                (
                    f"`{command}`",
                    source,
                    f"{_util.median([seconds for seconds, _, _ in measured]):.2f} s",
                    f"{_util.median([peak for _, peak, _ in measured]) / 2**20:,.0f} MiB",
                    ", ".join(map(str, codes)),
                )
            )
        print(f"{args.rounds} rounds; medians of wall time and of peak resident memory (ru_maxrss)\n")
        print(_util.table(["command", "code", "median wall", "median peak RSS", "exit codes"], rows))


if __name__ == "__main__":
    main()
