"""Start-up: wall time of `cnncalc analyze resnet50 --format json` as a fresh process, as a user gets it, and of
`python -c "import cnncalc"` (what a program using the Python API pays before its first call).

Target (from the issue): median <= 0.3 s (on a 2-core machine), over at least 15 runs.

How it is measured:
- cnncalc is installed the way a user installs it: `pip install <repo>` (NOT editable) into a fresh
  virtual environment in a temporary directory; pip compiles the .pyc files at install time.
- The venv's `cnncalc` console script is run directly (no pyenv shim, no `python -m`), from a neutral
  working directory, with PYTHON* environment variables removed, stdout to /dev/null.
- Side by side, in the same loop, two floors: `python -c pass` (interpreter start-up) and
  `python -c "import typer, yaml; from pydantic import BaseModel"` (the dependencies every command
  needs), both with the venv's python. Each round runs the three commands once, in rotating order,
  after 3 warm-up rounds (so the OS file cache is warm; every timed run is still a new process).
- `python -X importtime -m cnncalc analyze resnet50 --format json` (and the same through the console
  script) lists every module imported on that path; the script checks that torch and rich are not among
  them and prints the slowest imports. It also lists what `import cnncalc` alone loads (cnncalc only: the
  Python API's names load the engine when first used).

    python benchmarks/bench_startup.py                  # fresh venv in a temp dir, removed afterwards
    python benchmarks/bench_startup.py --runs 41
    python benchmarks/bench_startup.py --with-torch     # install cnncalc[torch] too, so that the
                                                        # "torch is not imported" check has teeth
    python benchmarks/bench_startup.py --venv /tmp/cv --keep   # keep the venv; reuse it next time
    python benchmarks/bench_startup.py --profile        # plus a cProfile of one in-process command
    python benchmarks/bench_startup.py --baseline REF   # also REF (a git ref) installed in its own venv,
                                                        # timed in the same rounds: before/after in one run
                                                        # (repeat --baseline to time several refs)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _util

TARGET_S = 0.3
ARGS = ["analyze", "resnet50", "--format", "json"]
IMPORT_FLOOR = "import typer, yaml; from pydantic import BaseModel"
IMPORT_PACKAGE = "import cnncalc"
LOADED_BY_IMPORT = "import sys; before = set(sys.modules); import cnncalc; print(*sorted(set(sys.modules) - before))"
FORBIDDEN = ("torch", "rich")

PROFILE_SNIPPET = """
import cProfile, gc, io, pstats, sys
profiler = cProfile.Profile()
profiler.enable()
gc.disable()
from cnncalc.cli.startup import run
gc.freeze()
gc.enable()
code = run({args!r})
profiler.disable()
sys.stdout.flush()
out = io.StringIO()
stats = pstats.Stats(profiler, stream=out).strip_dirs()
out.write("--- top {top} by cumulative time ---\\n")
stats.sort_stats("cumulative").print_stats({top})
out.write("--- top {top} by own time (tottime) ---\\n")
stats.sort_stats("tottime").print_stats({top})
sys.stderr.write(out.getvalue())
sys.exit(code)
"""


def clean_env() -> dict[str, str]:
    """The caller's environment without PYTHON* variables (PYTHONPATH would shadow the install)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"command failed ({result.returncode}): {' '.join(cmd)}")
    return result


def make_venv(
    venv: Path, with_torch: bool, env: dict[str, str], cwd: Path, source: Path = _util.REPO
) -> tuple[float, float]:
    start = time.perf_counter()
    run([sys.executable, "-m", "venv", str(venv)], cwd, env)
    created = time.perf_counter() - start
    requirement = f"{source}[torch]" if with_torch else str(source)
    start = time.perf_counter()
    run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
        cwd,
        env,
    )
    return created, time.perf_counter() - start


def check_install(venv: Path, env: dict[str, str], cwd: Path) -> list[str]:
    """Where cnncalc is imported from, that it is not editable, that its .pyc files exist; what is installed."""
    python = str(venv / "bin" / "python")
    code = (
        "import cnncalc, importlib.util, sys, pydantic, typer, yaml; print(cnncalc.__file__); "
        "print(sys.implementation.cache_tag); "
        "print(*(m for m in ('torch', 'rich') if importlib.util.find_spec(m)), sep=','); "
        "print(f'typer {typer.__version__}, pydantic {pydantic.VERSION}, PyYAML {yaml.__version__} "
        "(libyaml: {yaml.__with_libyaml__})')"
    )
    out = run([python, "-c", code], cwd, env).stdout.splitlines()
    package = Path(out[0]).parent
    tag = out[1]
    installed = out[2] if len(out) > 2 else ""
    versions = out[3] if len(out) > 3 else ""
    if not package.is_relative_to(venv):
        raise SystemExit(f"cnncalc was imported from {package}, not from the venv {venv}")
    sources = [p for p in package.rglob("*.py")]
    missing = [p for p in sources if not (p.parent / "__pycache__" / f"{p.stem}.{tag}.pyc").exists()]
    direct_url = list(package.parent.glob("cnncalc-*.dist-info/direct_url.json"))
    editable = any('"editable": true' in p.read_text().replace(" ", "").replace('":t', '": t') for p in direct_url)
    return [
        f"cnncalc imported from {package}",
        f"editable install: {'yes' if editable else 'no'}",
        f".pyc files compiled at install: {len(sources) - len(missing)}/{len(sources)} modules"
        + (f" (missing: {', '.join(p.name for p in missing[:5])})" if missing else ""),
        f"dependencies: {versions}",
        f"optional packages installed in the venv: {installed or 'none'} (torch and rich are checked below)",
    ]


def import_list(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[list[tuple[int, int, str]], str]:
    """Run with -X importtime; the (self us, cumulative us, name) of every import, and stdout."""
    result = run(cmd, cwd, env)
    imports = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|")
        if self_us.strip().isdigit():
            imports.append((int(self_us), int(cumulative_us), name.rstrip()))
    return imports, result.stdout


def forbidden_imported(imports: list[tuple[int, int, str]]) -> dict[str, list[str]]:
    names = [name.strip() for _, _, name in imports]
    return {top: [n for n in names if n == top or n.startswith(top + ".")] for top in FORBIDDEN}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=31, help="timed rounds (default 31; at least 15)")
    parser.add_argument("--venv", type=Path, help="use (or create) the venv here instead of a temp dir")
    parser.add_argument("--keep", action="store_true", help="do not delete the venv afterwards")
    parser.add_argument("--with-torch", action="store_true", help="install cnncalc[torch] (the torch extra)")
    parser.add_argument("--profile", action="store_true", help="cProfile one in-process command (also on a miss)")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        help="a git ref to time side by side with the working tree (e.g. a release); may be repeated",
    )
    args = parser.parse_args()
    if args.runs < 15:
        parser.error("--runs must be at least 15")

    print("# bench_startup: cold-process `cnncalc analyze resnet50 --format json`\n")
    print(_util.machine_line())
    env = clean_env()
    work = Path(tempfile.mkdtemp(prefix="cnncalc-bench-"))
    venv = args.venv or work / "venv"
    try:
        if not (venv / "bin" / "cnncalc").exists():
            created, installed = make_venv(venv, args.with_torch, env, work)
            print(
                f"venv: {venv} (created in {created:.1f} s; `pip install {_util.REPO}"
                f"{'[torch]' if args.with_torch else ''}` in {installed:.1f} s, not editable)"
            )
        else:
            print(f"venv: {venv} (reused)")
        for line in check_install(venv, env, work):
            print(f"  {line}")

        python, cnncalc = str(venv / "bin" / "python"), str(venv / "bin" / "cnncalc")
        commands = {
            "cnncalc analyze resnet50 --format json": [cnncalc, *ARGS],
            "python -c pass": [python, "-c", "pass"],
            f'python -c "{IMPORT_FLOOR}"': [python, "-c", IMPORT_FLOOR],
            f'python -c "{IMPORT_PACKAGE}"': [python, "-c", IMPORT_PACKAGE],
        }
        import_labels = {"": f'python -c "{IMPORT_PACKAGE}"'}  # ref ("" for the working tree) -> its label
        baseline_labels: dict[str, str] = {}  # ref -> its label in `commands`
        for number, ref in enumerate(args.baseline):
            baseline_tree = work / f"baseline-{number}"
            baseline_tree.mkdir()
            archive = subprocess.run(["git", "-C", str(_util.REPO), "archive", ref], capture_output=True)
            if archive.returncode != 0:
                raise SystemExit(f"git archive {ref} failed: {archive.stderr.decode()[-500:]}")
            subprocess.run(["tar", "-x", "-C", str(baseline_tree)], input=archive.stdout, check=True)
            baseline_venv = work / f"baseline-{number}-venv"
            make_venv(baseline_venv, args.with_torch, env, work, baseline_tree)
            print(f"baseline: {ref} installed (not editable) in {baseline_venv}")
            baseline_labels[ref] = f"baseline {ref}: cnncalc analyze resnet50 --format json"
            commands[baseline_labels[ref]] = [str(baseline_venv / "bin" / "cnncalc"), *ARGS]
            import_labels[ref] = f'baseline {ref}: python -c "{IMPORT_PACKAGE}"'
            commands[import_labels[ref]] = [str(baseline_venv / "bin" / "python"), "-c", IMPORT_PACKAGE]
        # Warm-up rounds (also checks that every command works, and what cnncalc prints)
        output = run(commands["cnncalc analyze resnet50 --format json"], work, env).stdout
        params = json.loads(output)["totals"]["params"]
        for _ in range(3):
            for cmd in commands.values():
                run(cmd, work, env)

        times: dict[str, list[float]] = {label: [] for label in commands}
        labels = list(commands)
        for round_ in range(args.runs):
            order = labels[round_ % len(labels) :] + labels[: round_ % len(labels)]
            for label in order:
                start = time.perf_counter()
                code = subprocess.call(
                    commands[label], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                elapsed = time.perf_counter() - start
                if code != 0:
                    raise SystemExit(f"{label} exited with {code}")
                times[label].append(elapsed)

        medians = {label: _util.median(values) for label, values in times.items()}
        floor_pass, floor_import = medians[labels[1]], medians[labels[2]]
        rows = []
        for label in labels:
            values = sorted(times[label])
            p90 = values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]
            rows.append(
                (
                    f"`{label}`",
                    len(values),
                    _util.ms(medians[label]),
                    _util.ms(values[0]),
                    _util.ms(p90),
                    _util.ms(values[-1]),
                    f"{medians[label] / floor_pass:.1f}x",
                )
            )
        print(
            f"\n{args.runs} rounds after 3 warm-up rounds; each round runs every command once (rotating "
            "order); wall time per process from the parent (fork/exec/wait included).\n"
        )
        print(_util.table(["command (venv)", "runs", "median", "min", "p90", "max", "vs `python -c pass`"], rows))
        t = medians[labels[0]]
        print(
            f"\ncnncalc above `python -c pass`: {_util.ms(t - floor_pass)}; above the typer+yaml+pydantic import "
            f"floor: {_util.ms(t - floor_import)} (cnncalc's own imports, the analysis and JSON output)."
        )
        package = medians[import_labels[""]]
        print(f"`import cnncalc` above `python -c pass`: {_util.ms(package - floor_pass)}.")
        print(f"resnet50 params in the JSON output: {params:,}")
        verdict = "MET" if t <= TARGET_S else "MISSED"
        print(f"\nTarget median <= {TARGET_S} s: {t:.3f} s -> {verdict}")
        for ref, label in baseline_labels.items():
            before = medians[label]
            print(
                f"Against {ref} in the same rounds: {_util.ms(before)} before, {_util.ms(t)} now "
                f"(ratio now / before {t / before:.3f}); `import cnncalc` {_util.ms(medians[import_labels[ref]])} "
                f"before, {_util.ms(package)} now"
            )

        # What the command imports
        print("\n## Imports on this path (python -X importtime)\n")
        checks = {
            "python -X importtime -m cnncalc analyze resnet50 --format json": [
                python,
                "-X",
                "importtime",
                "-m",
                "cnncalc",
                *ARGS,
            ],
            "python -X importtime <venv>/bin/cnncalc analyze resnet50 --format json": [
                python,
                "-X",
                "importtime",
                cnncalc,
                *ARGS,
            ],
        }
        check_rows = []
        imports_main: list[tuple[int, int, str]] = []
        for label, cmd in checks.items():
            imports, stdout = import_list(cmd, env, work)
            json.loads(stdout)  # the command still did its job
            imports_main = imports_main or imports
            found = forbidden_imported(imports)
            check_rows.append(
                (
                    f"`{label}`",
                    len(imports),
                    *("NOT imported" if not found[m] else f"IMPORTED ({', '.join(found[m][:3])})" for m in FORBIDDEN),
                )
            )
        print(_util.table(["command", "modules imported", *FORBIDDEN], check_rows))
        by_package: dict[str, list[int]] = {}
        for own, _, name in imports_main:
            entry = by_package.setdefault(name.strip().split(".")[0], [0, 0])
            entry[0] += own
            entry[1] += 1
        print("\nImport time by top-level package (sum of -X importtime self times, which importtime inflates):\n")
        print(
            _util.table(
                ["package", "self time", "modules"],
                [
                    (package, f"{own / 1000:.1f} ms", count)
                    for package, (own, count) in sorted(by_package.items(), key=lambda item: -item[1][0])[:12]
                ],
            )
        )
        total_import = sum(own for own, _, _ in imports_main)
        print(f"\nSum of all import self-times: {total_import / 1000:.1f} ms over {len(imports_main)} modules.")
        loaded = run([python, "-c", LOADED_BY_IMPORT], work, env).stdout.split()
        print(f"\n`import cnncalc` alone loads: {', '.join(loaded)} ({len(loaded)} module{'s' * (len(loaded) != 1)}).")

        if args.profile or t > TARGET_S:
            snippet = PROFILE_SNIPPET.format(args=ARGS, top=args.top)
            result = run([python, "-c", snippet], work, env)
            print("\n## cProfile of one in-process command (imports included)\n")
            print("```")
            print(result.stderr.rstrip())
            print("```")
    finally:
        if args.keep or args.venv:
            print(f"\n(venv kept at {venv})")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
