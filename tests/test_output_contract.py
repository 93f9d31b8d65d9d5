"""The output contract every command keeps: --format table|json|csv|markdown (or a refusal that says why),
--color and the colour environment, one way of writing shapes, `-` for standard input, directories for
validate, --columns, shell completion and help texts that read as paragraphs."""

from __future__ import annotations

import csv
import inspect
import io
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clirunner import invoke as run_cli_in_process
from terminal import BOX_DRAWING, ESCAPE, run_in_terminal

from cnncalc.bridge.timing import Timing, reliability_warnings
from cnncalc.cli.app import COMMANDS, LAZY_GROUPS, command_function
from cnncalc.language.zoo import resolve_spec
from cnncalc.render.style import ColorChoice, wants_rich

ROOT = Path(__file__).resolve().parents[1]
LENET = str(resolve_spec("lenet5"))


def invoke(*args: str, stdin: str | None = None, env: dict[str, str] | None = None):
    """`cnncalc ARGS` in-process, as a pipe sees it (no COLUMNS, no colour)."""
    return run_cli_in_process(*args, stdin=stdin, env=env, columns=None)


@pytest.fixture(scope="module")
def drill_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("drill") / "drill.sqlite3"
    result = invoke("drill", "--json", "--count", "3", "--seed", "4", "--db", str(path), stdin="1\n2\n3\n")
    assert result.code == 0, result.output
    return str(path)


# Every command that prints results, with arguments that make it quick.
RESULT_COMMANDS = {
    "analyze": ["analyze", "lenet5"],
    "fit": ["fit", "lenet5", "--memory", "1MiB"],
    "validate": ["validate", "lenet5"],
    "diff": ["diff", "lenet5", "lenet5"],  # equal: exit 0 (different networks exit 1, tests/test_diff.py)
    "sweep": ["sweep", "lenet5", "--batch", "1,2"],
    "zoo": ["zoo"],
    "kinds": ["kinds"],
    "conventions": ["conventions", "lenet5"],
    "verify": ["verify", "lenet5", "--device", "meta"],
    "bench": ["bench", "lenet5", "--device", "cpu", "--target-time", "0.01"],
    "drill stats": ["drill", "stats", "--db", "{db}"],
}


def _command(name: str, drill_db: str) -> list[str]:
    return [argument.replace("{db}", drill_db) for argument in RESULT_COMMANDS[name]]


@pytest.mark.parametrize("name", sorted(RESULT_COMMANDS))
def test_every_result_command_speaks_every_format(name: str, drill_db: str) -> None:
    args = _command(name, drill_db)
    outputs = {}
    for output_format in ("table", "json", "csv", "markdown"):
        result = invoke(*args, "--format", output_format)
        assert result.code == 0, (output_format, result.output)
        outputs[output_format] = result.stdout
    json.loads(outputs["json"])
    rows = list(csv.reader(io.StringIO(outputs["csv"])))
    assert rows and all(len(row) == len(rows[0]) for row in rows), outputs["csv"]
    assert len(rows) >= (1 if name == "validate" else 2), outputs["csv"]  # a valid spec has no issue to list
    assert "|---" in outputs["markdown"] or "- `" in outputs["markdown"], outputs["markdown"]  # a table, or a list
    assert outputs["table"].strip() and outputs["table"] != outputs["csv"]


def test_verify_csv_is_csv_not_the_table() -> None:
    result = invoke("verify", "lenet5", "--device", "meta", "--format", "csv")
    assert result.code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["name"] for row in rows][:3] == ["c1", "tanh1", "s2"]
    assert rows[0]["params_engine"] == rows[0]["params_torch"] == "156"
    assert rows[0]["shape_torch"] == "1x6x28x28" and rows[0]["ok"] == "True"


def test_a_format_that_makes_no_sense_is_refused_with_the_reason() -> None:
    result = invoke("bench", "lenet5", "--device", "cpu", "--per-layer", "--format", "csv")
    assert result.code == 2
    assert "bench --per-layer cannot print --format csv: CSV holds one table and --per-layer gives two" in (
        result.stderr
    )


def test_shapes_are_written_the_same_way_in_every_format() -> None:
    for output_format in ("table", "csv", "markdown"):
        text = invoke("analyze", "lenet5", "--format", output_format).stdout
        assert "1x6x28x28" in text and " x 6 x " not in text, output_format


# ------------------------------------------------------------------------------------------ colour


@pytest.mark.parametrize(
    ("choice", "environment", "terminal", "rich"),
    [
        (ColorChoice.auto, {}, True, True),
        (ColorChoice.auto, {}, False, False),
        (ColorChoice.auto, {"NO_COLOR": ""}, True, False),  # set, whatever its value
        (ColorChoice.auto, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),
        (ColorChoice.auto, {"FORCE_COLOR": "1"}, False, True),
        (ColorChoice.auto, {"FORCE_COLOR": "0"}, False, False),
        (ColorChoice.auto, {"TERM": "dumb"}, True, False),
        (ColorChoice.never, {}, True, False),
        (ColorChoice.always, {"NO_COLOR": "1"}, False, True),  # the command line beats the environment
    ],
)
def test_colour_decision(choice: ColorChoice, environment: dict[str, str], terminal: bool, rich: bool) -> None:
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return terminal

    assert wants_rich(choice, Stream(), environment) is rich


def test_color_never_on_a_terminal_draws_no_escape_and_no_box() -> None:
    raw = run_in_terminal(["analyze", "lenet5", "--color", "never"], 100)
    assert not ESCAPE.search(raw) and not BOX_DRAWING.search(raw), raw
    assert "117,600" in raw


@pytest.mark.parametrize(
    ("args", "environment"),
    [(["--color", "always"], {}), ([], {"FORCE_COLOR": "1"})],
)
def test_colour_can_be_forced_into_a_pipe(args: list[str], environment: dict[str, str]) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
    completed = subprocess.run(
        [sys.executable, "-m", "cnncalc", "analyze", "lenet5", *args],
        capture_output=True,
        env={**env, **environment},
        timeout=60,
    )
    assert completed.returncode == 0
    assert ESCAPE.search(completed.stdout.decode()) and BOX_DRAWING.search(completed.stdout.decode())


# -------------------------------------------------------------------------- standard input, directories


def test_dash_reads_the_spec_from_standard_input() -> None:
    text = Path(LENET).read_text()
    from_file = json.loads(invoke("analyze", LENET, "--format", "json").stdout)
    from_stdin = invoke("analyze", "-", "--format", "json", stdin=text)
    assert from_stdin.code == 0, from_stdin.output
    document = json.loads(from_stdin.stdout)
    assert document["file"] == "<stdin>"
    assert {**document, "file": LENET} == from_file
    assert invoke("validate", "-", stdin=text).stdout == "<stdin>: valid\n"
    assert invoke("conventions", "-", "--format", "json", stdin=text).code == 0


def test_errors_in_standard_input_point_at_stdin() -> None:
    result = invoke("analyze", "-", stdin="input: {shape: [3, 32, 32]}\nlayers:\n  - {type: conv2d, out: 8}\n")
    assert result.code == 1
    assert result.stderr.startswith("<stdin>:3:5: error: ")


def test_validate_checks_every_spec_under_a_directory(tmp_path: Path) -> None:
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / "good.yaml").write_text(Path(LENET).read_text())
    (tmp_path / "nested" / "deeper" / "bad.yml").write_text("input: {shape: [3, 8, 8]}\nlayers:\n  - {type: nope}\n")
    (tmp_path / "nested" / "notes.txt").write_text("not a spec")
    result = invoke("validate", str(tmp_path))
    assert result.code == 1
    assert result.stdout.splitlines() == [f"{tmp_path}/good.yaml: valid", f"{tmp_path}/nested/deeper/bad.yml: 1 error"]
    assert f"{tmp_path}/nested/deeper/bad.yml:3:12: error: unknown layer type 'nope'" in result.stderr


# -------------------------------------------------------------------------------------------- columns


def test_columns_choose_and_order_the_table() -> None:
    result = invoke("analyze", "resnet18", "--columns", "output,name,params_pct,params")
    assert result.code == 0, result.output
    header = result.stdout.splitlines()[1].split()
    assert header == ["Output", "shape", "Layer", "%", "params", "Params"]
    fc = next(line for line in result.stdout.splitlines() if line.split()[1:2] == ["fc"])
    assert fc.split() == ["1x1000", "fc", "4.4%", "513,000"]  # 513,000 / 11,689,512


def test_columns_in_csv_are_machine_values() -> None:
    result = invoke("analyze", "resnet18", "--format", "csv", "--columns", "name,input,params,params_pct,trainable")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["name", "input_shape", "params", "params_pct", "trainable_params"]
    add = next(row for row in rows if row["name"] == "layer1.0.add")
    assert add["input_shape"] == "1x64x56x56 + 1x64x56x56"
    assert sum(float(row["params_pct"]) for row in rows) == pytest.approx(100, abs=0.01)
    assert sum(int(row["params"]) for row in rows) == 11_689_512


def test_trainable_column_shows_frozen_layers(tmp_path: Path) -> None:
    spec = tmp_path / "frozen.yaml"
    spec.write_text(
        "input: {shape: [3, 8, 8]}\nlayers:\n"
        "  - name: stem\n    frozen: true\n"
        "    layers: [{type: conv2d, out: 4, kernel: 3}, {type: conv2d, out: 4, kernel: 1}]\n"
        "  - {name: head, type: conv2d, out: 2, kernel: 1}\n"
    )
    result = invoke("analyze", str(spec), "--depth", "1", "--columns", "name,params,trainable")
    lines = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[3:5]}
    assert lines == {"stem": ["132", "no"], "head": ["10", "yes"]}


def test_an_unknown_column_is_a_usage_error_with_a_suggestion() -> None:
    result = invoke("analyze", "lenet5", "--columns", "name,parms")
    assert result.code == 2
    assert "--columns: unknown column 'parms'" in result.stderr and "params" in result.stderr


# --------------------------------------------------------------------------------- verify and bench


def test_verify_refuses_a_network_larger_than_free_memory_before_allocating() -> None:
    result = invoke("verify", "resnet18", "--device", "cpu", "--input", "3x100000x100000")
    assert result.code == 2
    assert "resnet18 at input 1x3x100000x100000 needs about 1.16 TiB on cpu" in result.stderr
    assert "--device meta" in result.stderr


@pytest.mark.parametrize(("name", "precision"), [("half", "fp16"), ("bfloat16", "bf16"), ("float32", "fp32")])
def test_bench_takes_the_dtype_names_of_analyze(name: str, precision: str) -> None:
    result = invoke("bench", "lenet5", "--device", "cpu", "--target-time", "0.01", "--dtype", name, "--format", "json")
    assert result.code == 0, result.output
    assert json.loads(result.stdout)["runs"][0]["dtype"] == precision


def test_noisy_or_short_timings_are_warned_about() -> None:
    steady = Timing((1.00, 1.01, 0.99, 1.00, 1.02, 0.98))
    noisy = Timing((1.0, 1.5, 0.7, 1.2, 0.9, 1.4))
    short = Timing((1.0, 1.0, 1.0))
    assert reliability_warnings(steady) == []
    assert [message for message, _ in reliability_warnings(noisy)] == [
        f"the iteration times vary by {noisy.cv:.0%} (coefficient of variation over 10%)"
    ]
    assert noisy.cv > 0.10 > steady.cv
    assert [message for message, _ in reliability_warnings(short)] == ["only 3 iteration(s) were timed (fewer than 5)"]


# ------------------------------------------------------------------------------ completion and help


def _complete(words: str) -> list[str]:
    environment = {**os.environ, "_CNNCALC_COMPLETE": "complete_bash", "COMP_WORDS": words}
    environment["COMP_CWORD"] = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    completed = subprocess.run([sys.executable, "-m", "cnncalc"], env=environment, capture_output=True, timeout=60)
    return completed.stdout.decode().split()


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("cnncalc ", {"analyze", "calc", "drill", "verify", "bench", "zoo"}),
        ("cnncalc calc ", {"conv2d", "stack", "separable", "patch-embed"}),
        ("cnncalc drill ", {"stats", "topics"}),
        ("cnncalc analyze res", {"resnet18", "resnet50"}),
        ("cnncalc analyze lenet5 --convention pt", {"ptflops"}),
        ("cnncalc analyze lenet5 --format ", {"table", "json", "csv", "markdown"}),
        ("cnncalc analyze lenet5 --dtype b", {"bfloat16", "bf16"}),
        ("cnncalc verify lenet5 --device ", {"auto", "cuda", "cpu", "meta"}),
        ("cnncalc drill --topic rf,conv-", {"rf,conv-output", "rf,conv-params"}),
    ],
)
def test_shell_completion(words: str, expected: set[str]) -> None:
    assert expected <= set(_complete(words))


HELP_COLUMNS = 100
HELP_WIDTH = HELP_COLUMNS - 2  # click's formatter keeps two columns free


def _help_of(args: list[str]) -> str:
    """Help as a user sees it (a real process: the test runner would force its own width)."""
    completed = subprocess.run(
        [sys.executable, "-m", "cnncalc", *args, "--help"],
        capture_output=True,
        env={**os.environ, "COLUMNS": str(HELP_COLUMNS)},
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr.decode()
    return completed.stdout.decode()


def _paragraphs(text: str) -> list[list[str]]:
    """The prose paragraphs of a help text: runs of lines indented by exactly two spaces (preformatted blocks,
    such as the calc stack syntax table, are indented further and left out)."""
    paragraphs: list[list[str]] = [[]]
    description = re.split(r"^(?:Arguments|Options|Commands):$", text, maxsplit=1, flags=re.M)[0]
    for line in description.splitlines():
        if re.match(r"  \S", line) and not line.lstrip().startswith("-"):
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [paragraph for paragraph in paragraphs if len(paragraph) > 1]


def _check_wrapped_as_paragraphs(text: str) -> None:
    """Every line of a paragraph but its last is full: the next word would not have fitted on it (a line that
    ends early is a line break kept from the source, mid-sentence)."""
    assert "<bool>" not in text and "-h, --help" in text
    for paragraph in _paragraphs(text):
        for line, following in itertools.pairwise(paragraph):
            assert len(line) + 1 + len(following.split()[0]) > HELP_WIDTH, f"broken early:\n{line}\n{following}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_reads_as_paragraphs(name: str) -> None:
    text = _help_of([name])
    _check_wrapped_as_paragraphs(text)
    if name in LAZY_GROUPS:  # their help is their own application's (tested below)
        return
    function = command_function(name)
    flat = " ".join(text.split())
    for paragraph in inspect.cleandoc(function.__doc__ or "").split("\n\n"):
        assert " ".join(paragraph.split()) in flat, (name, paragraph)


@pytest.mark.parametrize("sub", ["conv2d", "stack", "linear", "separable"])
def test_calculator_help_reads_as_paragraphs(sub: str) -> None:
    _check_wrapped_as_paragraphs(_help_of(["calc", sub]))


@pytest.mark.parametrize("sub", [[], ["stats"]])
def test_drill_help_reads_as_paragraphs(sub: list[str]) -> None:
    _check_wrapped_as_paragraphs(_help_of(["drill", *sub]))


def test_geometry_columns_show_what_the_engine_resolved(tmp_path: Path) -> None:
    """Kernel, stride, padding (per side where 'same' with a stride makes them differ), dilation, groups."""
    spec = tmp_path / "geometry.yaml"
    spec.write_text(
        "input: {shape: [8, 32, 32]}\nlayers:\n"
        "  - {name: same, type: conv2d, out: 8, kernel: [3, 5], stride: 2, padding: same}\n"
        "  - {name: dw, type: depthwise, kernel: 3, padding: 2, dilation: 2}\n"
        "  - {name: pool, type: maxpool, kernel: 2}\n"
        "  - {name: act, type: relu}\n"
    )
    result = invoke("analyze", str(spec), "--format", "csv", "--columns", "name,kernel,stride,padding,dilation,groups")
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    # 'same' at stride 2: total padding max((ceil(32/2) - 1) * 2 + k - 32, 0) = k - 2, the extra on the right
    assert rows["same"] == {
        "name": "same",
        "kernel": "3x5",
        "stride": "2x2",
        "padding": "0/1x1/2",
        "dilation": "1x1",
        "groups": "1",
    }
    assert rows["dw"] == {
        "name": "dw",
        "kernel": "3x3",
        "stride": "1x1",
        "padding": "2x2",
        "dilation": "2x2",
        "groups": "8",
    }
    assert rows["pool"]["stride"] == "2x2"  # PyTorch's default: the kernel
    assert rows["act"] == {"name": "act", "kernel": "", "stride": "", "padding": "", "dilation": "", "groups": ""}
    table = invoke("analyze", str(spec), "--columns", "name,kernel,stride,padding,groups").stdout
    assert table.splitlines()[3].split() == ["same", "3x5", "2", "0/1x1/2", "1"]
