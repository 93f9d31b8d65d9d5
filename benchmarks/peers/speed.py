"""Speed and memory: a cold process that prints the summary of one network, cnncalc against the peers.

Targets (from the issue): cnncalc at least 10x faster than the fastest peer on resnet50 at 224x224
batch 1, at least 100x faster at 1024x1024 batch 8, and peak memory at least 5x lower.

How it is measured:
- cnncalc is installed as a user installs it: `pip install <repo>` (NOT editable) into a fresh virtual
  environment (benchmarks/bench_startup.py does the same), and its `cnncalc` console script runs
  `cnncalc analyze SPEC [--input ...] [--batch ...]`, once with the default table and once with
  `--format json`.
- Each peer runs as `python benchmarks/peers/_child.py TOOL ...` with the interpreter that has torch and
  the peers (the `bench` extra): import torch and the tool, build the network with cnncalc's torch
  bridge on the CPU, print the tool's summary (torchinfo.summary, ptflops with its per-layer table,
  FlopCounterMode's table), all under torch.no_grad(). A `build` child (import torch, build, no tool)
  is the floor every peer pays before it counts.
- Wall time from the parent (fork/exec/wait included); peak memory is the child's maximum resident set
  (ru_maxrss from os.wait4). Stdout goes to /dev/null; PYTHON* variables are removed.
- Side by side in one run: each round runs every command of a scenario once, in rotating order; the
  tables give medians over the rounds and the ratio of the fastest peer to cnncalc's table output.

    python benchmarks/peers/speed.py                   # all three scenarios; prints the tables
    python benchmarks/peers/speed.py --write           # and writes them to benchmarks/RESULTS.md
    python benchmarks/peers/speed.py --runs 7 --heavy-runs 3 --venv /tmp/cv --keep
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import _util  # noqa: E402
import bench_startup  # noqa: E402
from _results import write_subsection  # noqa: E402
from bench_scale import generate_spec  # noqa: E402

TARGET_SPEED_224 = 10
TARGET_SPEED_1024 = 100
TARGET_MEMORY = 5
PEERS = ("torchinfo", "ptflops", "flopcounter")
PEER_TITLES = {"torchinfo": "torchinfo", "ptflops": "ptflops", "flopcounter": "FlopCounterMode", "build": "floor"}


@dataclass
class Scenario:
    title: str
    spec: Path
    shape: str  # channels x height x width
    batch: int
    runs: int
    commands: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    peak_kib: list[int] = field(default_factory=list)


def run_once(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak resident KiB of one cold process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-3000:]}")
    return elapsed, usage.ru_maxrss  # KiB on Linux


def snapshot_checkout(work: Path) -> Path:
    """A copy of this checkout's package and specs, which the peers' children import: both sides of the
    comparison then use the code as it was when the benchmark started (the venv holds the same snapshot)."""
    snapshot = work / "checkout"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(_util.REPO / "cnncalc", snapshot / "cnncalc", ignore=ignore)
    shutil.copytree(_util.REPO / "specs", snapshot / "specs", ignore=ignore)
    return snapshot


def commands_for(scenario: Scenario, cnncalc: Path, python: str) -> dict[str, list[str]]:
    overrides = ["--input", scenario.shape, "--batch", str(scenario.batch)]
    child = [python, str(HERE / "_child.py")]
    spec_args = [str(scenario.spec), scenario.shape, str(scenario.batch)]
    commands = {
        "cnncalc analyze": [str(cnncalc), "analyze", str(scenario.spec), *overrides],
        "cnncalc analyze --format json": [str(cnncalc), "analyze", str(scenario.spec), *overrides, "-f", "json"],
        "floor: import torch + build": [*child, "build", *spec_args],
    }
    commands.update({PEER_TITLES[peer]: [*child, peer, *spec_args] for peer in PEERS})
    return commands


def measure(scenario: Scenario, envs: dict[bool, dict[str, str]], cwd: Path, warmup: int) -> dict[str, Sample]:
    """`envs[True]` for cnncalc's own commands, `envs[False]` for the peers' children."""
    labels = list(scenario.commands)
    samples = {label: Sample() for label in labels}

    def env_for(label: str) -> dict[str, str]:
        return envs[label.startswith("cnncalc")]

    for _ in range(warmup):
        for label in labels:
            run_once(scenario.commands[label], env_for(label), cwd)
    for round_ in range(scenario.runs):
        shift = round_ % len(labels)
        for label in labels[shift:] + labels[:shift]:
            seconds, peak = run_once(scenario.commands[label], env_for(label), cwd)
            samples[label].seconds.append(seconds)
            samples[label].peak_kib.append(peak)
        print(f"  {scenario.title}: round {round_ + 1}/{scenario.runs} done", file=sys.stderr, flush=True)
    return samples


def mib(kib: float) -> str:
    return f"{kib / 1024:,.0f} MiB"


def report(scenario: Scenario, samples: dict[str, Sample]) -> tuple[str, dict[str, float]]:
    """A Markdown table for one scenario and its ratios against cnncalc's table output."""
    time_median = {label: _util.median(sample.seconds) for label, sample in samples.items()}
    peak_median = {label: _util.median(sample.peak_kib) for label, sample in samples.items()}
    reference = "cnncalc analyze"
    peer_labels = [PEER_TITLES[peer] for peer in PEERS]
    fastest = min(peer_labels, key=lambda label: time_median[label])
    leanest = min(peer_labels, key=lambda label: peak_median[label])
    rows = []
    for label in samples:
        rows.append(
            (
                f"`{label}`",
                len(samples[label].seconds),
                f"{time_median[label]:.2f} s",
                f"{min(samples[label].seconds):.2f} s",
                f"{time_median[label] / time_median[reference]:.1f}x",
                mib(peak_median[label]),
                f"{peak_median[label] / peak_median[reference]:.1f}x",
            )
        )
    table = _util.table(
        ["command", "runs", "median wall", "min wall", "vs cnncalc", "median peak RSS", "vs cnncalc"], rows
    )
    ratios = {
        "speed": time_median[fastest] / time_median[reference],
        "speed_json": time_median[fastest] / time_median["cnncalc analyze --format json"],
        "memory": peak_median[leanest] / peak_median[reference],
        "fastest": fastest,
        "leanest": leanest,
    }
    return table, ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="rounds for the light scenarios (default 7)")
    parser.add_argument("--heavy-runs", type=int, default=3, help="rounds at 1024x1024 batch 8 (default 3)")
    parser.add_argument("--venv", type=Path, help="use (or create) cnncalc's venv here instead of a temp dir")
    parser.add_argument("--keep", action="store_true", help="keep the venv afterwards")
    parser.add_argument("--python", default=sys.executable, help="interpreter with torch and the peers")
    parser.add_argument("--write", action="store_true", help="write the tables to benchmarks/RESULTS.md")
    parser.add_argument(
        "--only", choices=["224", "deep", "1024"], action="append", help="run only these scenarios (repeatable)"
    )
    args = parser.parse_args()

    print("# Peers: cold-process speed and memory\n")
    print(_util.machine_line())
    env = bench_startup.clean_env()
    work = Path(tempfile.mkdtemp(prefix="cnncalc-peers-"))
    venv = args.venv or work / "venv"
    try:
        if not (venv / "bin" / "cnncalc").exists():
            bench_startup.make_venv(venv, False, bench_startup.clean_env(), work)
        for line in bench_startup.check_install(venv, bench_startup.clean_env(), work):
            print(f"  {line}")
        snapshot = snapshot_checkout(work)
        envs = {True: env, False: {**env, "PYTHONPATH": str(snapshot)}}
        deep = work / "flat_resnet_1000.yaml"
        deep.write_text(generate_spec(1000))
        resnet50 = snapshot / "specs" / "resnet50.yaml"
        scenarios = [
            Scenario("resnet50, 3x224x224, batch 1", resnet50, "3x224x224", 1, args.runs),
            Scenario("1000-layer network, 3x224x224, batch 1", deep, "3x224x224", 1, args.runs),
            Scenario("resnet50, 3x1024x1024, batch 8", resnet50, "3x1024x1024", 8, args.heavy_runs),
        ]
        if args.only:
            keys = ["224", "deep", "1024"]
            scenarios = [scenario for key, scenario in zip(keys, scenarios, strict=True) if key in args.only]
        cnncalc = venv / "bin" / "cnncalc"
        sections = []
        for index, scenario in enumerate(scenarios):
            scenario.commands = commands_for(scenario, cnncalc, args.python)
            samples = measure(scenario, envs, work, warmup=1 if index == 0 else 0)
            table, ratios = report(scenario, samples)
            target = TARGET_SPEED_1024 if scenario.batch == 8 else TARGET_SPEED_224
            speed_ok = ratios["speed"] >= target
            memory_ok = ratios["memory"] >= TARGET_MEMORY
            verdict = (
                f"Fastest peer ({ratios['fastest']}) / cnncalc: **{ratios['speed']:.1f}x** (target >= {target}x: "
                f"{'MET' if speed_ok else 'MISSED'}; {ratios['speed_json']:.1f}x against `--format json`); "
                f"leanest peer ({ratios['leanest']}) / cnncalc peak memory: **{ratios['memory']:.1f}x** "
                f"(target >= {TARGET_MEMORY}x: {'MET' if memory_ok else 'MISSED'})."
            )
            sections.append(f"**{scenario.title}**\n\n{table}\n\n{verdict}")
            print(f"\n## {scenario.title}\n\n{table}\n\n{verdict}", flush=True)
        body = "\n\n".join(
            [
                "Command: `python benchmarks/peers/speed.py --write` "
                f"({args.runs} rounds, {args.heavy_runs} at 1024x1024 batch 8).",
                _util.machine_line(),
                "Cold processes that print the network's summary, measured side by side (rotating order); "
                "cnncalc from a non-editable install in a fresh venv; each peer imports torch and the tool, "
                "builds the network with cnncalc's torch bridge on the CPU and prints its summary under "
                "torch.no_grad(). Ratios divide the fastest (or leanest) peer by `cnncalc analyze` "
                "(default table output).",
                *sections,
            ]
        )
        if args.write:
            write_subsection("Speed and memory", body)
            print(f"\nwritten to {_util.REPO / 'benchmarks' / 'RESULTS.md'}")
    finally:
        if args.keep and not args.venv:
            print(f"(venv kept at {venv})")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
