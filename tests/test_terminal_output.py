"""Every table in a real pseudo-terminal 40 to 200 columns wide: no line wider than the terminal, and no figure
or shape ever cut. With NO_COLOR, and into a pipe, no escape sequence and no box drawing.

Each command runs as a user runs it (`python -m cnncalc ...` in a pty whose window size is set, COLUMNS
unset). The figures it must show whole come from the same command's JSON output: every grouped number the
terminal shows is well formed and is one of them, every shape it shows is a real one, and the essential
figures (those of columns that are never dropped) all appear.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from terminal import BOX_DRAWING, ESCAPE, run_in_terminal, without_escapes

from cnncalc.render.units import human

WIDTHS = (40, 60, 80, 100, 120, 200)
GROUPED = re.compile(r"(?<![\w,.])\d{1,3}(?:,\d+)+(?![\w,])")  # 9,408 or a cut 118,013,95
WELL_FORMED = re.compile(r"\d{1,3}(?:,\d{3})+")
SHAPE = re.compile(r"(?<![\w.])\d+(?:x\d+)+(?![\w.])")


def _integers(document: Any) -> Iterator[int]:
    if isinstance(document, bool):
        return
    if isinstance(document, int):
        yield document
    elif isinstance(document, dict):
        for value in document.values():
            yield from _integers(value)
    elif isinstance(document, list):
        for value in document:
            yield from _integers(value)


def _shapes(document: Any) -> Iterator[str]:
    """Every list of integers in the document, written as a shape (1x64x112x112)."""
    if isinstance(document, list) and document and all(type(value) is int for value in document):
        yield "x".join(str(value) for value in document)
    elif isinstance(document, dict):
        for value in document.values():
            yield from _shapes(value)
    elif isinstance(document, list):
        for value in document:
            yield from _shapes(value)
    elif isinstance(document, str):
        yield from SHAPE.findall(document)


@dataclass
class Case:
    id: str
    args: list[str]
    essential: Callable[[Any], list[str]] = field(default=lambda document: [])  # strings that must appear whole
    check_values: bool = True  # grouped numbers must be figures of the JSON output
    torch: bool = False
    json_args: list[str] = field(default_factory=lambda: ["--format", "json"])
    not_shapes: frozenset[str] = frozenset()  # "AxB" tokens that are not shapes (a kernel size in a title)


def _analyze_essentials(document: Any) -> list[str]:
    totals = document["totals"]
    return [f"{totals['params']:,}", f"{totals['macs']:,}", f"{totals['flops']:,}"] + [
        "x".join(map(str, layer["output_shape"])) for layer in document["layers"]
    ]


CASES = [
    Case("analyze-resnet18", ["analyze", "resnet18"], _analyze_essentials),
    Case("analyze-resnet50-depth1", ["analyze", "resnet50", "--depth", "1"], _analyze_essentials),
    Case(
        "analyze-many-columns",
        [
            "analyze",
            "resnet50",
            "--depth",
            "2",
            "--columns",
            "name,input,output,params,params_pct,macs,macs_pct,trainable",
        ],
        _analyze_essentials,
    ),
    Case("analyze-huge", ["analyze", "vgg16", "--input", "3x8192x8192", "--batch", "1024"], _analyze_essentials),
    Case(
        "analyze-train-bf16",
        ["analyze", "resnet18", "--mode", "train", "--precision", "bf16-mixed", "--batch", "32"],
        lambda document: [*_analyze_essentials(document), f"{document['totals']['backward_flops']:,}"],
    ),
    Case(
        "fit-bf16",
        ["fit", "resnet50", "--memory", "24GiB", "--precision", "bf16-mixed"],
        lambda document: [
            f"{document['at'][key]:,}"
            for key in ("saved_activation_bytes", "saved_weight_copy_bytes", "training_peak_bytes")
        ],
    ),
    Case(
        "conventions",
        ["conventions", "resnet50"],
        lambda document: [f"{row['headline']:,}" for row in document["conventions"] if row["headline"] is not None],
    ),
    Case(
        "zoo",
        ["zoo"],
        lambda document: [human(entry["params"]) for entry in document] + [human(entry["macs"]) for entry in document],
    ),
    Case("kinds", ["kinds"], lambda document: [entry["name"] for entry in document]),
    Case(
        "calc-conv",
        ["calc", "conv2d", "--input", "3x224x224", "--out", "64", "-k", "7", "-s", "2", "-p", "3", "--batch", "32"],
        _analyze_essentials,
        json_args=["--json"],
        not_shapes=frozenset({"7x7"}),
    ),
    Case(
        "calc-stack",
        ["calc", "stack", "conv7/2 p3 c64, pool3/2 p1, conv3 c128 x4, sep3 c256, conv3/2, gap, flatten, fc1000"],
        _analyze_essentials,
        json_args=["--json"],
    ),
    Case(
        "drill-stats",
        ["drill", "stats", "--db", "{db}"],
        lambda document: [topic["topic"] for topic in document["topics"]],
    ),
    Case(
        "verify",
        ["verify", "mobilenet_v2", "--device", "meta"],
        lambda document: [f"{layer['torch']['flops']:,}" for layer in document["layers"] if layer["torch"]["flops"]],
        torch=True,
    ),
    Case(
        "bench",
        ["bench", "lenet5", "--device", "cpu", "--target-time", "0.01"],
        lambda document: [str(run["batch"]) for run in document["runs"]],
        check_values=False,  # timings differ from run to run; well-formedness is still checked
        torch=True,
    ),
]
MODES = ("rich", "no_color")
# Cases that import torch take seconds each: their plain layout is checked at one width (the rich one at all).
TORCH_PLAIN_WIDTHS = (80,)


def _runs_at(case: Case, mode: str) -> tuple[int, ...]:
    return TORCH_PLAIN_WIDTHS if case.torch and mode == "no_color" else WIDTHS


@pytest.fixture(scope="module")
def drill_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A progress database with a few answered questions, right and wrong, for `drill stats`."""
    path = tmp_path_factory.mktemp("drill") / "drill.sqlite3"
    answers = "\n".join(["9472", "1", "2", "3", "4", "5"]) + "\n"
    for seed in (1, 2):
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "cnncalc",
                "drill",
                "--json",
                "--count",
                "6",
                "--seed",
                str(seed),
                "--db",
                str(path),
            ],
            input=answers.encode(),
            capture_output=True,
            timeout=60,
        )
        assert completed.returncode == 0, completed.stderr.decode()
    return str(path)


def _args(case: Case, drill_db: str) -> list[str]:
    return [argument.replace("{db}", drill_db) for argument in case.args]


def _json_of(case: Case, drill_db: str) -> Any:
    completed = subprocess.run(
        [sys.executable, "-m", "cnncalc", *_args(case, drill_db), *case.json_args], capture_output=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr.decode()
    return json.loads(completed.stdout)


@pytest.fixture(scope="module")
def runs(drill_db: str) -> dict[tuple[str, int, str], str]:
    """Every case at every width in both modes, run concurrently (each is a separate process)."""
    jobs = {
        (case.id, width, mode): (_args(case, drill_db), width, {"NO_COLOR": "1"} if mode == "no_color" else {})
        for case in CASES
        for mode in MODES
        for width in _runs_at(case, mode)
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(run_in_terminal, *job) for key, job in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


@pytest.fixture(scope="module")
def documents(drill_db: str) -> dict[str, Any]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case.id: pool.submit(_json_of, case, drill_db) for case in CASES}
        return {name: future.result() for name, future in futures.items()}


def _check_figures(text: str, case: Case, document: Any, width: int) -> None:
    for line in text.splitlines():
        assert len(line) <= width, f"a line of {len(line)} characters in a {width}-column terminal:\n{line}"
    figures = {f"{value:,}" for value in _integers(document)}
    for token in GROUPED.findall(text):
        assert WELL_FORMED.fullmatch(token), f"cut figure {token!r} at width {width}:\n{text}"
        if case.check_values:
            assert token in figures, f"{token!r} is not a figure of the JSON output (width {width}):\n{text}"
    shapes = set(_shapes(document))
    for token in SHAPE.findall(text):
        assert token in shapes or token in case.not_shapes, (
            f"{token!r} is not a shape of the JSON output (width {width}):\n{text}"
        )
    tokens = set(re.findall(r"[^\s│┃·]+(?: [KMGTP](?=\s|$))?", text))
    for expected in case.essential(document):
        assert expected in tokens or expected in text.split(), f"{expected!r} missing at width {width}:\n{text}"


@pytest.mark.parametrize(
    ("case", "width", "mode"),
    [
        pytest.param(case, width, mode, id=f"{case.id}-{width}-{mode}")
        for case in CASES
        for mode in MODES
        for width in _runs_at(case, mode)
    ],
)
def test_no_figure_is_cut(case: Case, width: int, mode: str, runs, documents) -> None:
    raw = runs[(case.id, width, mode)]
    if mode == "no_color":
        assert not ESCAPE.search(raw), f"NO_COLOR output holds escape sequences: {raw[:200]!r}"
        assert not BOX_DRAWING.search(raw), f"NO_COLOR output holds box drawing:\n{raw}"
    else:
        assert ESCAPE.search(raw), "a terminal gets colour unless NO_COLOR is set"
    _check_figures(without_escapes(raw), case, documents[case.id], width)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_piped_output_is_plain_text(case: Case, drill_db: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "cnncalc", *_args(case, drill_db)],
        capture_output=True,
        timeout=120,
        env={key: value for key, value in __import__("os").environ.items() if key not in ("COLUMNS", "FORCE_COLOR")},
    )
    assert completed.returncode == 0, completed.stderr.decode()
    text = completed.stdout.decode()
    assert text.strip()
    assert not ESCAPE.search(text) and not BOX_DRAWING.search(text), text
    assert "Not shown at this width" not in text, "a pipe has no width: every column is shown"
