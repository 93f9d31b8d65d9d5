"""Training mode: `analyze --mode train` against a plain (inference) `analyze` of the same spec.

Target (from the issue): `analyze --mode train` costs at most 1.5x an inference `analyze` of the same spec.

Two measurements, each side by side in one run:

- in-process: `cnncalc.analyze(spec)` against `cnncalc.analyze(spec, mode="train")` (the API equivalent of
  `analyze SPEC --mode train`, default optimizer adamw), on several zoo specs; one warm-up call of each, then
  `--runs` rounds, each timing both calls of every spec, in alternating order (inference first in even rounds,
  training first in odd ones), each call after `gc.collect()`. Medians and their ratio per spec.
- cold processes: `python -m cnncalc analyze SPEC --format json` against the same with `--mode train`, each a
  new process (output to /dev/null, from a neutral directory), alternating, `--cli-runs` rounds. Medians and
  their ratio per spec.

A spec whose in-process ratio exceeds the target gets a cProfile of one training-mode call (also with
`--profile`), and every spec a breakdown of the training call: the engine's analysis, the training rules
(`cnncalc.training.analyze_training`) and the rest (the API's rows and result).

    python benchmarks/bench_train.py
    python benchmarks/bench_train.py --specs resnet50 swin_t --runs 41 --cli-runs 9
    python benchmarks/bench_train.py --profile
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import _util

_util.use_working_tree()

import cnncalc  # noqa: E402
from cnncalc.engine.analysis import analyze_file  # noqa: E402
from cnncalc.language.zoo import zoo_specs  # noqa: E402
from cnncalc.training import TrainingOptions, analyze_training  # noqa: E402

TARGET_RATIO = 1.5
SPECS = ("resnet50", "vit_b_16", "efficientnet_b0", "unet", "swin_t", "densenet121", "convnext_tiny")


def collected(call: Callable[[], object]) -> float:
    """One timed call, from a collected heap (one call's garbage is not charged to the next)."""
    gc.collect()
    return _util.timed(call)


def in_process(specs: list[str], runs: int) -> dict[str, tuple[list[float], list[float]]]:
    times: dict[str, tuple[list[float], list[float]]] = {spec: ([], []) for spec in specs}
    calls = {
        spec: (lambda spec=spec: cnncalc.analyze(spec), lambda spec=spec: cnncalc.analyze(spec, mode="train"))
        for spec in specs
    }
    for infer, train in calls.values():  # warm-up: imports, the expression caches
        infer()
        train()
    for round_number in range(runs):
        for spec, (infer, train) in calls.items():
            inference, training = times[spec]
            if round_number % 2 == 0:
                inference.append(collected(infer))
                training.append(collected(train))
            else:
                training.append(collected(train))
                inference.append(collected(infer))
    return times


def breakdown(spec: str, runs: int) -> tuple[float, float, float]:
    """Medians of the engine's analysis of the spec file, of the training rules on its result, and of the whole
    API call in training mode (the rest is the API's rows and result)."""
    path = zoo_specs()[spec]
    engine, rules, whole = [], [], []
    for _ in range(runs):
        engine.append(collected(lambda: analyze_file(path)))
        result = analyze_file(path)
        rules.append(collected(lambda result=result: analyze_training(result, TrainingOptions())))
        whole.append(collected(lambda: cnncalc.analyze(spec, mode="train")))
    return _util.median(engine), _util.median(rules), _util.median(whole)


def cold(specs: list[str], runs: int) -> dict[str, tuple[list[float], list[float]]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PYTHONPATH"] = str(_util.REPO)
    times: dict[str, tuple[list[float], list[float]]] = {spec: ([], []) for spec in specs}
    with tempfile.TemporaryDirectory() as neutral:

        def run(arguments: list[str]) -> float:
            command = [sys.executable, "-m", "cnncalc", "analyze", *arguments, "--format", "json"]
            start = time.perf_counter()
            subprocess.run(command, cwd=neutral, env=env, stdout=subprocess.DEVNULL, check=True)
            return time.perf_counter() - start

        for spec in specs:  # warm-up: the page cache, the .pyc files
            run([spec])
            run([spec, "--mode", "train"])
        for round_number in range(runs):
            for spec in specs:
                inference, training = times[spec]
                if round_number % 2 == 0:
                    inference.append(run([spec]))
                    training.append(run([spec, "--mode", "train"]))
                else:
                    training.append(run([spec, "--mode", "train"]))
                    inference.append(run([spec]))
    return times


def ratio_rows(times: dict[str, tuple[list[float], list[float]]]) -> tuple[list[tuple[object, ...]], float]:
    rows = []
    worst = 0.0
    for spec, (inference, training) in times.items():
        ratio = _util.median(training) / _util.median(inference)
        worst = max(worst, ratio)
        rows.append(
            (
                spec,
                len(inference),
                _util.ms(_util.median(inference)),
                _util.ms(_util.median(training)),
                f"{_util.ms(min(inference))} / {_util.ms(min(training))}",
                f"{ratio:.2f}x",
                "MET" if ratio <= TARGET_RATIO else "MISSED",
            )
        )
    return rows, worst


HEADERS = ["spec", "runs", "inference median", "--mode train median", "min (inf / train)", "ratio", "<= 1.5x"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--specs", nargs="+", default=list(SPECS), help="zoo specs (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=31, help="in-process rounds (default 31)")
    parser.add_argument("--cli-runs", type=int, default=7, help="cold-process rounds (default 7; 0 skips them)")
    parser.add_argument("--profile", action="store_true", help="cProfile one training-mode call of every spec")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()

    print("# bench_train: `analyze --mode train` against a plain `analyze`\n")
    print(_util.machine_line())
    print(
        f"\n## In-process: cnncalc.analyze(spec) vs cnncalc.analyze(spec, mode='train') (adamw)\n\n"
        f"1 warm-up call each, then {args.runs} rounds; both calls of every spec in each round, in alternating "
        "order, each after gc.collect().\n"
    )
    times = in_process(args.specs, args.runs)
    rows, worst = ratio_rows(times)
    print(_util.table(HEADERS, rows))
    verdict = "MET" if worst <= TARGET_RATIO else "MISSED"
    print(f"\nTarget: training mode <= {TARGET_RATIO}x inference, in-process: worst ratio {worst:.2f}x -> {verdict}")

    print("\nWhere the training call's time goes (medians of 9 calls each, every call after gc.collect()):\n")
    parts = []
    for spec in args.specs:
        engine, rules, whole = breakdown(spec, 9)
        parts.append(
            (
                spec,
                _util.ms(whole),
                f"{_util.ms(engine)} ({engine / whole:.0%})",
                f"{_util.ms(rules)} ({rules / whole:.0%})",
                f"{_util.ms(whole - engine - rules)} ({(whole - engine - rules) / whole:.0%})",
            )
        )
    print(
        _util.table(
            ["spec", "analyze(mode='train')", "engine (analyze_file)", "training rules", "rest (rows, result)"],
            parts,
        )
    )

    if args.cli_runs:
        print(
            f"\n## Cold processes: `python -m cnncalc analyze SPEC --format json` vs the same with `--mode train`\n\n"
            f"{sys.executable}, PYTHONPATH={_util.REPO}; 1 warm-up run each, then {args.cli_runs} rounds, "
            "alternating; stdout to /dev/null.\n"
        )
        rows, cold_worst = ratio_rows(cold(args.specs, args.cli_runs))
        print(_util.table(HEADERS, rows))
        verdict = "MET" if cold_worst <= TARGET_RATIO else "MISSED"
        print(f"\nTarget, cold processes: worst ratio {cold_worst:.2f}x -> {verdict}")

    for spec, (inference, training) in times.items():
        if args.profile or _util.median(training) / _util.median(inference) > TARGET_RATIO:
            print(f"\n## cProfile of one cnncalc.analyze({spec!r}, mode='train')\n")
            print("```")
            print(_util.profile(lambda spec=spec: cnncalc.analyze(spec, mode="train"), args.top))
            print("```")


if __name__ == "__main__":
    main()
