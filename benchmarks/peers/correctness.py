"""Correctness: every zoo network, built by cnncalc's torch bridge, fed to each peer tool; the number the
tool reports must equal cnncalc's `--convention` figure exactly.

Tools: torchinfo, fvcore, ptflops (its default `pytorch` backend), thop, torch's FlopCounterMode, and
DeepSpeed's flops profiler and calflops. Each runs in this process on a freshly built module (CPU, the
spec's own input and batch), with whatever it monkey-patches in torch put back afterwards. A cell shows
the matching figure, MISMATCH with both figures, or why the tool cannot count the network (and whether
the convention predicted it).

    python benchmarks/peers/correctness.py                 # all zoo specs, all tools
    python benchmarks/peers/correctness.py --write         # and write the table to benchmarks/RESULTS.md
    python benchmarks/peers/correctness.py --specs resnet50 vit_b_16 --tools ptflops thop
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import _util  # noqa: E402
from _results import write_subsection  # noqa: E402

_util.use_working_tree()

from cnncalc.bridge.module import build_module  # noqa: E402
from cnncalc.conventions import count_as  # noqa: E402
from cnncalc.engine.analysis import analyze_file  # noqa: E402
from cnncalc.engine.result import AnalysisResult  # noqa: E402
from cnncalc.language.zoo import zoo_specs  # noqa: E402
from cnncalc.peers import PEER_TOOLS, installed_version, run_peer  # noqa: E402


def check(tool: str, result: AnalysisResult) -> tuple[str, bool]:
    """The table cell for one tool on one network, and whether it agrees with the convention."""
    expected = count_as(result, PEER_TOOLS[tool].convention)
    module = build_module(result, "cpu")
    try:
        measured = run_peer(tool, module, result.input_shape)
    except Exception as error:  # a tool that cannot handle the network: say so
        reason = f"{type(error).__name__}: {error}".splitlines()[0][:80]
        if expected.failure:
            return f"fails, as predicted ({reason})", True
        return f"tool fails ({reason}); cnncalc says {expected.headline:,}", False
    if expected.failure:
        return f"MISMATCH: tool {measured:,}, cnncalc predicted a failure", False
    if measured == expected.headline:
        return f"= {measured:,}", True
    return f"MISMATCH: tool {measured:,} vs cnncalc {expected.headline:,}", False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--specs", nargs="+", help="zoo specs to check (default: all)")
    parser.add_argument("--tools", nargs="+", choices=list(PEER_TOOLS), help="tools to run (default: all)")
    parser.add_argument("--write", action="store_true", help="write the table to benchmarks/RESULTS.md")
    args = parser.parse_args()

    specs = zoo_specs()
    names = args.specs or list(specs)
    tools = args.tools or list(PEER_TOOLS)
    available = [tool for tool in tools if installed_version(PEER_TOOLS[tool].distribution)]
    missing = [tool for tool in tools if tool not in available]

    print("# Peers: each tool's total against cnncalc --convention\n")
    print(_util.machine_line())
    rows = []
    agreed = checked = 0
    start = time.perf_counter()
    for name in names:
        result = analyze_file(specs[name])
        cells = []
        for tool in available:
            cell, ok = check(tool, result)
            cells.append(cell)
            checked += 1
            agreed += ok
        shape = "x".join(str(size) for size in result.input_shape)
        rows.append((name, shape, *cells))
        print(f"  {name}: {'; '.join(f'{tool} {cell}' for tool, cell in zip(available, cells, strict=True))}")
    elapsed = time.perf_counter() - start

    versions = ", ".join(f"{tool} {installed_version(PEER_TOOLS[tool].distribution)}" for tool in available)
    header = ["spec", "input", *(f"{tool} (--convention {PEER_TOOLS[tool].convention})" for tool in available)]
    table = _util.table(header, rows)
    summary = f"{agreed} of {checked} (network, tool) pairs agree exactly with cnncalc's --convention figure."
    if missing:
        summary += f" Not installed, so not checked: {', '.join(missing)}."
    body = "\n\n".join(
        [
            "Command: `python benchmarks/peers/correctness.py --write`.",
            f"{_util.machine_line()}; {versions}; {elapsed:.0f} s.",
            "Every zoo spec at its own input and batch, built by cnncalc's torch bridge as the spec says (function "
            "calls where it has `functional: true`, attention with the spec's `need_weights`) and fed to each "
            "tool; a cell shows the tool's headline when it equals `cnncalc analyze SPEC --convention NAME` "
            "exactly.",
            table,
            summary,
        ]
    )
    print(f"\n{table}\n\n{summary}")
    if args.write:
        write_subsection("Correctness", body)
        print(f"\nwritten to {_util.REPO / 'benchmarks' / 'RESULTS.md'}")
    if agreed != checked:
        sys.exit(1)


if __name__ == "__main__":
    main()
