"""Importing a model from PyTorch: cnncalc against torchinfo on the same model, and how import time grows.

Target (from the issue): cnncalc is faster than torchinfo both ways, and its import does not grow faster
than linearly with the number of modules.

What is measured, side by side in one run, rounds interleaved (every figure a median):
1. Cold processes: `cnncalc import torchvision:resnet50 --input 3x224x224 --output F` followed by
   `cnncalc analyze F` (two new processes, as a user runs them), against one new process running
   `torchinfo.summary(torchvision.models.resnet50(), (1, 3, 224, 224))`.
2. In one process, the model built once: `cnncalc.summary(model, (1, 3, 224, 224), verbose=0)` against
   `torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0)`.
3. `cnncalc.importer.import_module` on a chain of N residual blocks (N = 10, 100, 1,000; five layers each):
   time per block, and the ratio of 1,000 blocks to 100 (10 means linear).

torchvision's wheel on the package index is a CUDA build; beside a CPU torch its compiled operators do not
load and its import fails. Every process that imports torchvision here, cnncalc's and torchinfo's alike, goes
through tests/model_libraries.py first, which lets the import pass (nothing measured uses those operators).

    python benchmarks/bench_import.py            # ~1-2 minutes on 2 cores
    python benchmarks/bench_import.py --rounds 9
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

_util.use_working_tree()
TESTS = _util.REPO / "tests"
PRELUDE = (
    f"import sys; sys.path[:0] = [{str(_util.REPO)!r}, {str(TESTS)!r}]\n"
    "from model_libraries import import_model_library\n"
    "import_model_library('torchvision')\n"
)


def cold(script: str) -> float:
    """Wall time of `python -c SCRIPT` as a new process (its output discarded); a failure stops the run."""
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tempfile.gettempdir()
    )
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"failed: {script}\n{completed.stderr.decode()[-2000:]}")
    return seconds


def cold_processes(rounds: int) -> list[list[object]]:
    spec = Path(tempfile.mkdtemp()) / "resnet50.yaml"
    commands = {
        "cnncalc import": PRELUDE
        + "from cnncalc.cli.startup import main\n"
        + f"sys.argv = ['cnncalc', 'import', 'torchvision:resnet50', '-i', '3x224x224', '-o', {str(spec)!r}]\n"
        + "main()\n",
        "cnncalc analyze": f"import sys; sys.path.insert(0, {str(_util.REPO)!r})\n"
        + "from cnncalc.cli.startup import main\n"
        + f"sys.argv = ['cnncalc', 'analyze', {str(spec)!r}]\n"
        + "main()\n",
        "torchinfo.summary": PRELUDE
        + "import torchvision, torchinfo\n"
        + "torchinfo.summary(torchvision.models.resnet50(), (1, 3, 224, 224))\n",
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    cnncalc_order = ["cnncalc import", "cnncalc analyze"]  # analyze reads what import wrote
    for round_number in range(rounds + 1):
        # torchinfo first every other round, so that neither side always runs on a warmer machine
        order = ["torchinfo.summary", *cnncalc_order] if round_number % 2 else [*cnncalc_order, "torchinfo.summary"]
        for name in order:
            seconds = cold(commands[name])
            if round_number:  # the first round warms the file cache
                times[name].append(seconds)
    cnncalc = [a + b for a, b in zip(times["cnncalc import"], times["cnncalc analyze"], strict=True)]
    torchinfo = times["torchinfo.summary"]
    return [
        ["cnncalc import (new process)", _util.ms(_util.median(times["cnncalc import"])), ""],
        ["cnncalc analyze (new process)", _util.ms(_util.median(times["cnncalc analyze"])), ""],
        ["cnncalc import + analyze", _util.ms(_util.median(cnncalc)), ""],
        [
            "torchinfo.summary (new process)",
            _util.ms(_util.median(torchinfo)),
            f"cnncalc / torchinfo = {_util.median(cnncalc) / _util.median(torchinfo):.2f}",
        ],
    ]


def in_process(rounds: int) -> list[list[object]]:
    sys.path.insert(0, str(TESTS))
    from model_libraries import import_model_library

    torchvision = import_model_library("torchvision")
    import torchinfo

    import cnncalc

    model = torchvision.models.resnet50()
    runs = {
        "cnncalc.summary": lambda: cnncalc.summary(model, (1, 3, 224, 224), verbose=0),
        "torchinfo.summary": lambda: torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for round_number in range(rounds + 1):
        for name in list(runs)[:: 1 if round_number % 2 else -1]:
            seconds = _util.timed(runs[name])
            if round_number:
                times[name].append(seconds)
    ratio = _util.median(times["cnncalc.summary"]) / _util.median(times["torchinfo.summary"])
    return [
        ["cnncalc.summary(model)", _util.ms(_util.median(times["cnncalc.summary"])), ""],
        [
            "torchinfo.summary(model)",
            _util.ms(_util.median(times["torchinfo.summary"])),
            f"cnncalc / torchinfo = {ratio:.2f}",
        ],
    ]


def growth(repeats: int) -> list[list[object]]:
    import torch
    import torch.nn.functional as F
    from torch import nn

    from cnncalc.importer import import_module

    class Residual(nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(width, width, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(width)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.relu(x + self.bn(self.conv(x)))

    rows: list[list[object]] = []
    per_block: dict[int, float] = {}
    for blocks in (10, 100, 1000):
        with torch.device("meta"):
            model = nn.Sequential(*(Residual(16) for _ in range(blocks)))
        seconds = _util.median(
            [_util.timed(lambda model=model: import_module(model, (16, 8, 8))) for _ in range(repeats)]
        )
        per_block[blocks] = seconds
        rows.append(
            [
                f"{blocks:,} blocks ({blocks * 4 + 0:,} layers)",
                _util.ms(seconds),
                _util.ms(seconds / blocks) + " per block",
            ]
        )
    rows.append(["1,000 blocks / 100 blocks", f"{per_block[1000] / per_block[100]:.1f}x", "10x is linear"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    print("## Importing a model (`bench_import.py`)\n")
    print(_util.machine_line() + "\n")
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    print("### resnet50, new processes\n")
    print(_util.table(["what", "median", "ratio"], cold_processes(arguments.rounds)) + "\n")
    print("### resnet50, in one process (model built once)\n")
    print(_util.table(["what", "median", "ratio"], in_process(arguments.rounds)) + "\n")
    print("### Growth with the number of modules\n")
    print(_util.table(["model", "median", "per block"], growth(3)))


if __name__ == "__main__":
    main()
