"""The Python API: `cnncalc.analyze`, `cnncalc.summary` and the result they return, on specs (torch-free).

What needs the PyTorch importer (modules as sources, `to_spec`) is in tests/test_api_modules.py.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import subprocess
import sys
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import readme_examples
from clirunner import ROOT, invoke

import cnncalc
from cnncalc.api import reference
from cnncalc.render.view import plain_number

SMALL = """\
name: small
input: {shape: [3, 32, 32]}
layers:
  - {type: conv2d, out: 16, kernel: 3, padding: 1}
  - {type: relu}
  - {type: global_avgpool}
  - {type: linear, out: 10}
"""
MISALIGNED = """\
input: {shape: [3, 8, 8]}
layers:
  - {name: a, type: conv2d, out: 4, kernel: 3, padding: [[0, 2], [0, 2]]}
  - {name: b, type: conv2d, out: 4, kernel: 1, from: input}
  - {name: sum, type: add, from: [a, b]}
"""


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter that imports this checkout's cnncalc."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, env=_environment()
    )


def _environment() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT)}


# --- import cnncalc: nothing loads until it is used ---------------------------------------------------------------


def test_import_cnncalc_loads_nothing_else():
    completed = _python(
        "import sys\nbefore = set(sys.modules)\nimport cnncalc\nprint(sorted(set(sys.modules) - before))\n"
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "['cnncalc']"


def test_the_api_imports_neither_torch_nor_rich_for_a_spec():
    completed = _python(
        "import sys\n"
        "import cnncalc\n"
        "result = cnncalc.analyze('resnet50', convention='torchinfo', depth=1)\n"
        "text = str(result), result._repr_html_(), result._repr_markdown_(), result.to_dict()\n"
        "cnncalc.summary('resnet18', verbose=1)\n"
        "assert 'torch' not in sys.modules, 'torch'\n"
        "assert 'rich' not in sys.modules, 'rich'\n"
    )
    assert completed.returncode == 0, completed.stderr
    assert "resnet18" in completed.stdout


def test_public_names_resolve_lazily_and_only_those():
    assert set(reference.PUBLIC) | {"__version__"} == set(cnncalc.__all__)
    for name in cnncalc.__all__:
        assert getattr(cnncalc, name) is not None
        assert name in dir(cnncalc)
    from cnncalc import analyze

    assert analyze is cnncalc.analyze
    with pytest.raises(AttributeError, match="no attribute 'analyse'"):
        cnncalc.analyse  # noqa: B018


def test_the_errors_are_one_family():
    for name in ("SpecError", "SpecPathError", "UsageError", "ModelImportError"):
        assert issubclass(getattr(cnncalc, name), cnncalc.CnncalcError)
    assert issubclass(cnncalc.UsageError, ValueError)


# --- sources -----------------------------------------------------------------------------------------------------


def test_every_kind_of_source_gives_the_same_network(tmp_path, monkeypatch):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    monkeypatch.chdir(tmp_path)
    import yaml

    sources = [str(path), path, "small.yaml", SMALL, SMALL.replace("\n", "\r\n"), yaml.safe_load(SMALL)]
    totals = {cnncalc.analyze(source).totals for source in sources}
    assert len(totals) == 1
    assert totals.pop().params == 618


def test_a_bundled_name_with_or_without_its_suffix():
    by_name = cnncalc.analyze("resnet18")
    assert by_name.totals.params == 11_689_512
    assert Path(by_name.file) == ROOT / "specs" / "resnet18.yaml"
    assert cnncalc.analyze("resnet18.yaml").totals == by_name.totals


def test_an_existing_path_wins_over_a_bundled_name(tmp_path, monkeypatch):
    (tmp_path / "resnet18").write_text(SMALL)
    monkeypatch.chdir(tmp_path)
    assert cnncalc.analyze("resnet18").totals.params == 618


def test_one_line_yaml_is_text():
    flow = "{input: {shape: [3, 8, 8]}, layers: [{type: conv2d, out: 4, kernel: 3}]}"
    result = cnncalc.analyze(flow)
    assert result.file == "<spec>"
    assert result.output_shape == (1, 4, 6, 6)
    long_flow = "{input: {shape: [3, 8, 8]}, layers: [" + ", ".join(["{type: relu}"] * 100) + "]}"
    assert len(cnncalc.analyze(long_flow).layers) == 100  # too long for a file name: still text
    with pytest.raises(cnncalc.SpecError, match=r"<spec>:1:1: error: missing required field 'layers'"):
        cnncalc.analyze("input: {shape: [3, 8, 8]}")


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        ("resnt50", "did you mean 'resnet50'?"),
        ("specs/resnt50.yaml", "did you mean 'resnet50'?"),
        ("nothing/at/all.yaml", "a path must exist"),
        ("C:\\specs\\net.yaml", "a path must exist"),
        ("-", "a path must exist"),
        ("", "an empty string"),
        ("   ", "an empty string"),
    ],
)
def test_a_string_that_is_no_source_is_a_usage_error(source, hint):
    with pytest.raises(cnncalc.UsageError) as caught:
        cnncalc.analyze(source)
    assert hint in str(caught.value)
    assert source.strip() == "" or "is neither an existing file, a bundled spec nor YAML text" in str(caught.value)


def test_a_path_object_is_always_a_file(tmp_path):
    with pytest.raises(cnncalc.SpecPathError, match="resnet50"):
        cnncalc.analyze(Path("resnet50"))  # not the bundled spec: there is no such file
    with pytest.raises(cnncalc.SpecPathError, match="directory"):
        cnncalc.analyze(tmp_path)


@pytest.mark.parametrize("source", [42, None, b"input: {}", 3.5, ["resnet50"]])
def test_a_source_of_another_type_is_a_type_error(source):
    with pytest.raises(TypeError, match="source must be"):
        cnncalc.analyze(source)


# --- input, batch, dtype -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "batch"),
    [
        ({"input": "3x128x128"}, 1),
        ({"input": "3,128,128"}, 1),
        ({"input": (3, 128, 128)}, 1),
        ({"input": [3, 128, 128], "batch": 4}, 4),
        ({"input": (4, 3, 128, 128)}, 4),
        ({"input": "4x3x128x128"}, 4),
        ({"input": (4, 3, 128, 128), "batch": 4}, 4),
    ],
)
def test_input_with_or_without_its_batch(given, batch):
    result = cnncalc.analyze("resnet18", **given)
    assert result.input_shape == (batch, 3, 128, 128)
    assert result.batch == batch == result.to_dict()["batch"]


def test_the_rank_of_the_spec_decides_where_the_batch_is():
    one_d = "input: {shape: [2, 100]}\nlayers:\n  - {type: conv1d, out: 4, kernel: 3}\n"
    assert cnncalc.analyze(one_d, input=(3, 50)).input_shape == (1, 3, 50)
    assert cnncalc.analyze(one_d, input=(8, 3, 50)).input_shape == (8, 3, 50)
    three_d = "input: {shape: [3, 8, 32, 32]}\nlayers:\n  - {type: conv3d, out: 4, kernel: 3}\n"
    assert cnncalc.analyze(three_d, input=(3, 16, 64, 64)).input_shape == (1, 3, 16, 64, 64)
    assert cnncalc.analyze(three_d, input=(2, 3, 16, 64, 64)).input_shape == (2, 3, 16, 64, 64)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"input": (224, 224)}, r"input=\(224, 224\) has 2 axes; resnet18 has 2 spatial axes"),
        ({"input": (1, 1, 3, 224, 224)}, "has 5 axes"),
        ({"input": "3x224xa"}, "is not a shape"),
        ({"input": "3x224x"}, "is not a shape"),
        ({"input": (3.0, 224, 224)}, "3.0 is not a size"),
        ({"input": (True, 224, 224)}, "True is not a size"),
        ({"input": ("3", 224, 224)}, "'3' is not a size"),
        ({"input": [(3, 224, 224)]}, "one input only"),
        ({"input": 224}, "must be a shape"),
        ({"input": (0, 224, 224)}, "size 0 is out of range"),
        ({"input": (3, 224, 2**31)}, "is out of range"),
        ({"input": (2, 3, 224, 224), "batch": 4}, "batch=4 disagrees with the batch axis of input"),
        ({"batch": 0}, "out of range"),
        ({"batch": True}, "batch must be an integer"),
        ({"batch": 2.0}, "batch must be an integer"),
        ({"dtype": "float8"}, "unknown dtype 'float8'"),
        ({"dtype": 4}, "unknown dtype"),
        ({"convention": "torchinf"}, "did you mean 'torchinfo'"),
        ({"convention": "TorchInfo"}, "unknown convention"),
        ({"depth": 0}, "shows no layer"),
        ({"depth": "1"}, "depth must be an integer"),
        ({"columns": "nme"}, "did you mean 'name'"),
        ({"columns": ""}, "at least one column"),
        ({"columns": [1]}, "is not a column name"),
    ],
)
def test_an_argument_that_cannot_be_used_is_a_usage_error(given, message):
    with pytest.raises(cnncalc.UsageError, match=message):
        cnncalc.analyze("resnet18", **given)


def test_an_invalid_spec_is_located_as_the_command_line_locates_it(spec_file):
    path = spec_file(
        "input: {shape: [3, 8, 8]}\nlayers:\n  - {type: conv2d, out: 4, kernel: 9}\n  - {type: linear, out: 0}\n"
    )
    run = invoke("analyze", str(path))
    assert run.code == 1
    with pytest.raises(cnncalc.SpecError) as caught:
        cnncalc.analyze(path)
    reported = [line for line in run.stderr.splitlines() if ": error: " in line]
    assert [line for line in str(caught.value).splitlines() if ": error: " in line] == reported
    assert reported[0].startswith(f"{path}:3:5: error: ")
    assert [f"{issue.location.line}:{issue.location.column}" for issue in caught.value.issues] == ["3:5", "4:25"]


def test_an_input_the_network_cannot_take_is_located_at_input():
    grouped = "name: grouped\ninput: {shape: [3, 32, 32]}\nlayers:\n  - {type: conv2d, out: 6, kernel: 3, groups: 3}\n"
    with pytest.raises(cnncalc.SpecError) as caught:
        cnncalc.analyze(grouped, input=(4, 32, 32))
    [issue] = caught.value.issues
    assert str(issue.location) == "input"
    assert issue.message.startswith("input 4x32x32 has C = 4; grouped is written for C = 3")


def test_dtype_names_and_torch_dtypes():
    import torch

    sizes = {name: cnncalc.analyze("lenet5", dtype=name).totals.param_bytes for name in ("float32", "FP16", "bf16")}
    assert sizes["float32"] == 2 * sizes["FP16"] == 2 * sizes["bf16"]
    assert cnncalc.analyze("lenet5", dtype=torch.float16).dtype == "float16"
    assert cnncalc.analyze("lenet5", dtype=torch.half).totals.param_bytes == sizes["FP16"]
    with pytest.raises(cnncalc.UsageError, match="unknown dtype"):
        cnncalc.analyze("lenet5", dtype=torch.int32)


def test_torch_sizes_and_integer_like_values_are_shapes():
    import numpy
    import torch

    assert cnncalc.analyze("resnet18", input=torch.Size([2, 3, 64, 64])).input_shape == (2, 3, 64, 64)
    assert cnncalc.analyze("resnet18", input=(numpy.int64(3), 64, 64)).input_shape == (1, 3, 64, 64)


# --- the result: typed, frozen, and the JSON of the command line ------------------------------------------------

CASES = {  # the command line's arguments, and the same as the API's
    "plain": (["resnet50"], {}),
    "depth": (["resnet18", "--depth", "1"], {"depth": 1}),
    "overrides": (
        ["resnet50", "--input", "3x512x384", "--batch", "8", "--dtype", "float16"],
        {"input": "3x512x384", "batch": 8, "dtype": "float16"},
    ),
    "convention": (["vit_b_16", "--convention", "ptflops"], {"convention": "ptflops"}),
    "own convention": (["resnet18", "--convention", "cnncalc"], {"convention": "cnncalc"}),
    "a tool that fails": (["{pooling}", "--convention", "calflops"], {"convention": "calflops"}),
    "fractions": (["unet", "--depth", "2"], {"depth": 2}),
    "warnings": (["{misaligned}"], {}),
}


def _spec_argument(argument: str, tmp_path: Path) -> str:
    texts = {
        "{pooling}": "input: {shape: [3, 16, 16]}\nlayers:\n  - {type: maxpool, kernel: 2}\n",
        "{misaligned}": MISALIGNED,
    }
    if argument not in texts:
        return argument
    path = tmp_path / "spec.yaml"
    path.write_text(texts[argument])
    return str(path)


@pytest.mark.parametrize("case", CASES)
def test_to_dict_is_the_json_of_the_command_line(case, tmp_path):
    args, options = CASES[case]
    spec = _spec_argument(args[0], tmp_path)
    run = invoke("analyze", spec, *args[1:], "--format", "json")
    assert run.code == 0, run.output
    result = cnncalc.analyze(spec, **options)
    assert result.to_dict() == run.json()
    assert json.loads(json.dumps(result.to_dict())) == run.json()


def _as_json(value: Any) -> Any:
    """A typed result's value as the JSON writes it."""
    if dataclasses.is_dataclass(value):
        return {item.name: _as_json(getattr(value, item.name)) for item in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_as_json(item) for item in value]
    if isinstance(value, Fraction):
        return plain_number(value)
    return value


@pytest.mark.parametrize("case", ["plain", "convention", "a tool that fails", "fractions", "warnings"])
def test_the_attributes_are_the_keys_of_the_json(case, tmp_path):
    args, options = CASES[case]
    result = cnncalc.analyze(_spec_argument(args[0], tmp_path), **options)
    document = result.to_dict()
    for key in ("name", "file", "convention", "input_shape", "output_shape", "batch", "dtype", "receptive_field_layer"):
        assert _as_json(getattr(result, key)) == document[key], key
    assert _as_json(result.receptive_field) == document["receptive_field"]
    layers = [_as_json(layer) for layer in result.layers]
    # figures of another mode (a training step's) are None in the API and absent from the JSON, as for totals
    assert [
        {key: value for key, value in layer.items() if key in row}
        for layer, row in zip(layers, document["layers"], strict=True)
    ] == document["layers"]
    assert all(
        value is None
        for layer, row in zip(layers, document["layers"], strict=True)
        for key, value in layer.items()
        if key not in row
    )
    assert [issue.as_dict() for issue in result.warnings] == document["warnings"]
    assert [_as_json(item) for item in result.uncounted] == document["uncounted"]
    totals = _as_json(result.totals)
    assert {key: value for key, value in totals.items() if key in document["totals"]} == document["totals"]
    assert all(value is None for key, value in totals.items() if key not in document["totals"])


def test_the_convention_sets_the_headline():
    own = cnncalc.analyze("resnet50").totals
    assert (own.convention, own.headline, own.headline_unit, own.headline_label) == ("cnncalc", own.macs, "MACs", None)
    ptflops = cnncalc.analyze("resnet50", convention="ptflops").totals
    assert (ptflops.convention, ptflops.headline, ptflops.headline_unit) == ("ptflops", 4_132_436_968, "MACs")
    assert ptflops.macs == own.macs  # the other figures stay cnncalc's
    torch = cnncalc.analyze("resnet50", convention="torch").totals
    assert (torch.headline, torch.headline_unit) == (8_178_368_512, "FLOPs")
    failed = cnncalc.analyze(
        "input: {shape: [3, 16, 16]}\nlayers:\n  - {type: maxpool, kernel: 2}\n", convention="calflops"
    ).totals
    assert failed.headline is None and "without parameters" in failed.headline_failure


def test_the_result_is_frozen():
    result = cnncalc.analyze("resnet18")
    for target, attribute in ((result, "name"), (result.totals, "params"), (result.layers[0], "params")):
        with pytest.raises((dataclasses.FrozenInstanceError, AttributeError)):
            setattr(target, attribute, 0)
    assert result.layers[0].receptive_field[0] == cnncalc.FieldAxis("H", 7, 2, 3, True, 7, 1)
    assert cnncalc.analyze("resnet18") == result


def test_the_fields_of_the_result_are_the_keys_of_the_json():
    result = cnncalc.analyze("resnet18")
    names = {item.name for item in dataclasses.fields(result)}
    keys = set(result.to_dict()) - {"cnncalc_version"}
    names -= {name for name in names - keys if getattr(result, name) is None}  # another mode's (training)
    assert not names - keys, f"attributes of cnncalc.Analysis that the JSON does not have: {names - keys}"
    assert not keys - names, (
        f"JSON keys without an attribute of cnncalc.Analysis (cnncalc/api/analysis.py): {keys - names}"
    )
    as_data = dataclasses.asdict(result)
    assert as_data["totals"]["params"] == result.totals.params
    assert as_data["layers"][0]["receptive_field"][0] == {
        "axis": "H", "size": 7, "jump": 2, "start": 3, "exact": True, "size_min": 7, "period": 1
    }
    import copy
    import pickle

    for clone in (copy.deepcopy(result), pickle.loads(pickle.dumps(result))):
        assert clone == result and str(clone) == str(result)


def test_exact_fractions_in_the_receptive_field():
    result = cnncalc.analyze("unet")
    # after the 2x2 stride-2 transposed convs, units differ: 188 to 204 pixels, repeating every 16 units
    axes = [(axis.size, axis.size_min, axis.period, axis.start) for axis in result.receptive_field]
    assert axes == [(204, 188, 16, 94)] * 2
    first = result.to_dict()["receptive_field"][0]
    assert (first["size"], first["size_min"], first["period"], first["start"]) == (204, 188, 16, 94)


# --- how the result shows itself -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "options"),
    [
        ([], {}),
        (
            ["--depth", "1", "--columns", "name,input,params,macs_pct,kernel,stride"],
            {
                "depth": 1,
                "columns": "name,input,params,macs_pct,kernel,stride",
            },
        ),
        (["--convention", "fvcore"], {"convention": "fvcore"}),
    ],
)
def test_str_is_the_table_the_command_line_writes_into_a_file(args, options):
    run = invoke("analyze", "resnet50", *args, columns=None)
    assert str(cnncalc.analyze("resnet50", **options)) + "\n" == run.stdout


def test_str_of_a_spec_with_warnings(tmp_path):
    spec = _spec_argument("{misaligned}", tmp_path)
    assert str(cnncalc.analyze(spec)) + "\n" == invoke("analyze", spec, columns=None).stdout


def test_columns_of_torchinfo_and_the_name_first():
    result = cnncalc.analyze("resnet18", depth=1, columns=["output_size", "num_params", "mult_adds", "kernel_size"])
    header = str(result).splitlines()[1].split()
    assert header == ["Layer", "Output", "shape", "Params", "MACs", "Kernel"]
    assert str(cnncalc.analyze("resnet18", columns="params,name")).splitlines()[1].split() == ["Params", "Layer"]


def _rich_output(result: cnncalc.Analysis, width: int, **console: Any) -> str:
    import rich.console

    target = rich.console.Console(file=io.StringIO(), width=width, **console)
    target.print(result)
    return target.file.getvalue()


@pytest.mark.parametrize("width", [60, 120, 200])
def test_rich_print_draws_the_table_of_the_terminal(width):
    result = cnncalc.analyze("resnet50", depth=2, convention="thop")
    run = invoke("analyze", "resnet50", "--depth", "2", "--convention", "thop", "--color", "always", columns=width)
    drawn = _rich_output(result, width, force_terminal=True, color_system="truecolor")
    strip = re.compile(r"\x1b\[[0-9;]*m")
    assert strip.sub("", drawn) == strip.sub("", run.stdout)
    assert "┃" in drawn and "\x1b[" in drawn
    assert max(len(line) for line in strip.sub("", drawn).splitlines()) <= width


def test_rich_print_without_colour_is_the_plain_table(monkeypatch):
    result = cnncalc.analyze("resnet18")
    plain = invoke("analyze", "resnet18", columns=100).stdout
    assert _rich_output(result, 100, color_system=None) == plain
    assert _rich_output(result, 100, force_terminal=True, no_color=True) == plain
    monkeypatch.setenv("NO_COLOR", "1")
    assert _rich_output(result, 100, force_terminal=True) == plain


def test_the_global_rich_print(capsys, monkeypatch):
    import rich

    monkeypatch.setenv("COLUMNS", "150")
    monkeypatch.setattr(rich, "_console", None)  # rich.print makes its console anew, for this (captured) stdout
    rich.print(cnncalc.analyze("lenet5"))
    assert capsys.readouterr().out == invoke("analyze", "lenet5", columns=150).stdout


def test_markdown_for_notebooks_is_the_command_lines():
    result = cnncalc.analyze("resnet18", depth=1, convention="torchinfo", columns="name,type,params,macs")
    run = invoke(
        "analyze",
        "resnet18",
        "--depth",
        "1",
        "--convention",
        "torchinfo",
        "--columns",
        "name,type,params,macs",
        "--format",
        "markdown",
    )
    assert result._repr_markdown_() == run.stdout


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_html_for_notebooks_has_the_cells_of_the_table(tmp_path):
    spec = _spec_argument("{misaligned}", tmp_path)
    result = cnncalc.analyze(spec, columns="name,output,params,rf")
    parser = _Cells()
    parser.feed(result._repr_html_())
    markdown = invoke("analyze", spec, "--columns", "name,output,params,rf", "--format", "markdown").stdout
    table = [line for line in markdown.splitlines() if line.startswith("| ")]
    expected = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table]
    assert parser.rows[: len(expected)] == expected
    assert ["Params", "128 (128); trainable 128, non-trainable 0"] in parser.rows
    assert "warning: <code>" in result._repr_html_()


def test_html_escapes_what_it_shows():
    result = cnncalc.analyze(SMALL.replace("name: small", "name: <b>&"))
    html = result._repr_html_()
    assert "<strong>&lt;b&gt;&amp;</strong>" in html and "<b>&" not in html


def test_repr_is_one_line_and_ipython_shows_the_table():
    result = cnncalc.analyze("resnet50")
    assert repr(result).startswith("<cnncalc.Analysis resnet50: input 1x3x224x224, 25,557,032 params")
    assert "\n" not in repr(result)

    class Printer:  # what IPython hands to _repr_pretty_
        def __init__(self) -> None:
            self.parts: list[str] = []

        def text(self, text: str) -> None:
            self.parts.append(text)

    printer = Printer()
    result._repr_pretty_(printer, False)
    assert printer.parts == [str(result)]


# --- summary ----------------------------------------------------------------------------------------------------------


def test_summary_mirrors_torchinfo_depth():
    stats = cnncalc.summary("resnet50", verbose=0)
    assert max(layer.depth for layer in stats.layers) == 3  # torchinfo's default depth
    assert stats.to_dict() == invoke("analyze", "resnet50", "--depth", "3", "--format", "json").json()
    for depth in (1, 2, 3, None):
        rows = cnncalc.summary("resnet50", depth=depth, verbose=0).layers
        assert sum(layer.params for layer in rows) == stats.totals.params
        assert sum(layer.macs for layer in rows) == stats.totals.macs
    assert [layer.name for layer in cnncalc.summary("resnet50", depth=1, verbose=0).layers][4:8] == [
        "layer1",
        "layer2",
        "layer3",
        "layer4",
    ]


def test_summary_prints_and_returns(capsys, monkeypatch):
    for variable in ("COLUMNS", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(variable, raising=False)
    stats = cnncalc.summary("resnet18", (2, 3, 224, 224), depth=1, verbose=1)
    assert capsys.readouterr().out == str(stats) + "\n"
    assert stats.batch == 2
    cnncalc.summary("resnet18", verbose=0)
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "90")
    cnncalc.summary("resnet18", verbose=1)
    assert "┃" in capsys.readouterr().out  # as the command line: colour and boxes when forced


def test_summary_is_quiet_by_default_in_an_interactive_session(capsys, monkeypatch):
    cnncalc.summary("lenet5")
    assert "lenet5" in capsys.readouterr().out
    monkeypatch.setattr(sys, "ps1", ">>> ", raising=False)
    cnncalc.summary("lenet5")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("verbose", [2, -1, 0.5, "1"])
def test_summary_verbose_is_0_or_1(verbose):
    with pytest.raises(cnncalc.UsageError, match="verbose must be 0"):
        cnncalc.summary("lenet5", verbose=verbose)


def test_summary_input_size_is_read_as_analyze_input():
    assert cnncalc.summary("resnet18", (1, 3, 64, 64), verbose=0).input_shape == (1, 3, 64, 64)
    assert cnncalc.summary("resnet18", "3x64x64", batch=2, verbose=0).input_shape == (2, 3, 64, 64)
    with pytest.raises(cnncalc.UsageError, match=r"input_size=\(64, 64\) has 2 axes"):
        cnncalc.summary("resnet18", (64, 64), verbose=0)


# --- a module, without the importer ---------------------------------------------------------------------------------


def test_the_rank_of_a_module_comes_from_its_first_convolution_or_pooling():
    from torch import nn

    from cnncalc.api.modules import is_module, spatial_rank
    from cnncalc.api.shapes import read_input

    assert is_module(nn.Linear(2, 2)) and not is_module("resnet50") and not is_module(nn.Linear)
    assert spatial_rank(nn.Sequential(nn.Conv1d(3, 4, 3), nn.ReLU())) == 1
    assert spatial_rank(nn.Sequential(nn.Flatten(), nn.Sequential(nn.MaxPool2d(2)))) == 2
    assert spatial_rank(nn.Sequential(nn.Conv3d(3, 4, 3), nn.Conv2d(4, 4, 3))) == 3
    assert spatial_rank(nn.Sequential(nn.Linear(3, 4))) is None
    assert read_input((3, 16, 112, 112), 3) == ((3, 16, 112, 112), None)
    assert read_input((3, 16, 112, 112), 2) == ((16, 112, 112), 3)
    assert read_input((8, 3, 100), 1) == ((3, 100), 8)
    assert read_input((3, 100), None) == ((3, 100), None)
    assert read_input((1, 3, 16, 112, 112), None) == ((3, 16, 112, 112), 1)


def test_the_importer_is_given_a_copy_of_shapes_only():
    import itertools

    import torch
    from torch import nn

    from cnncalc.api.modules import shape_copy

    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 4), nn.Linear(4, 4))
    model[3].weight.requires_grad_(False)
    model[4].weight = model[3].weight  # tied: one parameter, counted once
    model = model.to(torch.float64).train()
    weights = [tensor.clone() for tensor in model.state_dict().values()]
    copied = shape_copy(model)
    assert all(tensor.is_meta for tensor in itertools.chain(copied.parameters(), copied.buffers()))

    def described(module: nn.Module) -> list[tuple[Any, ...]]:
        named = itertools.chain(module.named_parameters(), module.named_buffers())
        return [(name, tensor.shape, tensor.dtype, tensor.requires_grad) for name, tensor in named]

    assert described(copied) == described(model)
    assert copied[4].weight is copied[3].weight
    copied.eval().to("meta")
    assert model.training and all(not tensor.is_meta for tensor in model.state_dict().values())
    assert all(torch.equal(a, b) for a, b in zip(weights, model.state_dict().values(), strict=True))


def test_a_module_needs_an_input_size():
    from torch import nn

    with pytest.raises(cnncalc.UsageError, match="a module needs input="):
        cnncalc.analyze(nn.Conv2d(3, 4, 3))
    with pytest.raises(cnncalc.UsageError, match=r"input=\(224, 224\) has 2 axes; Conv2d has 2 spatial axes"):
        cnncalc.analyze(nn.Conv2d(3, 4, 3), input=(224, 224))
    with pytest.raises(cnncalc.UsageError, match="a module needs input_size="):
        cnncalc.summary(nn.Conv2d(3, 4, 3))
    with pytest.raises(cnncalc.UsageError, match=r"input_size=\(224, 224\) has 2 axes"):
        cnncalc.to_spec(nn.Conv2d(3, 4, 3), (224, 224))
    with pytest.raises(cnncalc.UsageError, match="disagrees"):
        cnncalc.to_spec(nn.Conv2d(3, 4, 3), (2, 3, 8, 8), batch=3)
    with pytest.raises(TypeError, match=r"to_spec needs a torch\.nn\.Module"):
        cnncalc.to_spec("resnet50", (1, 3, 224, 224))


# --- documentation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", reference.PUBLIC)
def test_every_public_name_has_a_full_docstring(name):
    value = getattr(cnncalc, name)
    doc = value.__doc__ or ""
    assert len(doc) >= 200 or (isinstance(value, type) and len(doc) >= 80), f"cnncalc.{name} needs a full docstring"
    if callable(value) and not isinstance(value, type):
        missing = [parameter for parameter in _parameters(value) if f"`{parameter}`" not in doc]
        assert not missing, f"cnncalc.{name}'s docstring does not describe {missing}"


def _parameters(function: Any) -> list[str]:
    import inspect

    return list(inspect.signature(function).parameters)


def test_the_readme_names_every_public_name():
    readme = (ROOT / "README.md").read_text()
    section, _ = readme_examples.readme_section()
    for name in reference.PUBLIC:
        assert f"### `cnncalc.{name}`" in readme, name
    for name in ("analyze", "summary", "to_spec", "SpecError", "CnncalcError", "UsageError"):
        assert f"cnncalc.{name}" in section, name


def test_the_readme_holds_the_reference_written_from_the_docstrings():
    import os

    path = ROOT / "README.md"
    readme = path.read_text()
    start, end = readme.index(reference.START), readme.index(reference.END) + len(reference.END) + 1
    written = reference.reference()
    if os.environ.get("CNNCALC_UPDATE_GOLDEN") == "1":
        path.write_text(readme[:start] + written + readme[end:])
        readme = path.read_text()
    assert readme[start : start + len(written)] == written, (
        "the README's API reference differs from the docstrings: rerun with CNNCALC_UPDATE_GOLDEN=1"
    )


def test_the_readme_python_examples_run(monkeypatch):
    for variable in ("COLUMNS", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(ROOT)
    examples = readme_examples.examples(needs_importer=False)
    assert len(examples) >= 4
    namespace: dict[str, Any] = {}
    for example in examples:
        readme_examples.run(example, namespace)
    assert readme_examples.examples(needs_importer=True), "the module example is no longer marked"
