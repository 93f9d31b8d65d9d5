"""The command line: output formats and their stable keys, options, exit codes, golden output."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from clirunner import invoke, run_cli, run_python

from cnncalc import __version__

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("CNNCALC_UPDATE_GOLDEN") == "1"


def analyze_json(*args: str) -> dict:
    run = invoke("analyze", *args, "--format", "json")
    assert run.code == 0, run.stderr
    return run.json()


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path}; create it with CNNCALC_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(), f"output differs from {path}; rerun with CNNCALC_UPDATE_GOLDEN=1 if intended"


def test_json_has_the_documented_stable_keys():
    document = analyze_json("resnet50")
    assert {"input_shape", "output_shape", "totals", "receptive_field", "layers"} <= set(document)
    assert {"params", "trainable_params", "buffers", "macs", "flops", "param_bytes", "activation_bytes"} <= set(
        document["totals"]
    )
    assert document["input_shape"] == [1, 3, 224, 224]
    assert document["output_shape"] == [1, 1000]
    totals = document["totals"]
    assert totals["params"] == totals["trainable_params"] == 25_557_032
    assert totals["buffers"] == 53_120
    assert totals["macs"] == 4_089_184_256
    assert totals["flops"] == 8_178_368_512
    assert totals["param_bytes"] == 4 * 25_557_032
    assert document["receptive_field"] == [
        {"axis": "H", "size": 427, "jump": 32, "start": 213, "exact": True, "size_min": 427, "period": 1},
        {"axis": "W", "size": 427, "jump": 32, "start": 213, "exact": True, "size_min": 427, "period": 1},
    ]
    first = document["layers"][0]
    assert {"name", "type", "output_shape", "params", "macs", "flops", "receptive_field"} <= set(first)
    assert first["name"] == "conv1"
    assert first["type"] == "conv2d"
    assert first["output_shape"] == [1, 64, 112, 112]
    assert first["params"] == 9_408
    assert first["macs"] == 118_013_952
    assert first["flops"] == 2 * 118_013_952
    assert first["receptive_field"][0] == {
        "axis": "H", "size": 7, "jump": 2, "start": 3, "exact": True, "size_min": 7, "period": 1
    }


@pytest.mark.parametrize("depth", [None, "1", "2"])
def test_rows_sum_to_the_totals(depth):
    args = ["resnet50"] + (["--depth", depth] if depth else [])
    document = analyze_json(*args)
    layers = document["layers"]
    for key in ("params", "macs", "flops", "buffers", "activation_bytes"):
        assert sum(layer[key] for layer in layers) == document["totals"][key]


def test_depth_collapses_blocks():
    document = analyze_json("resnet50", "--depth", "1")
    names = [layer["name"] for layer in document["layers"]]
    assert names == [
        "conv1",
        "bn1",
        "relu",
        "maxpool",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "avgpool",
        "flatten",
        "fc",
    ]
    layer1 = document["layers"][4]
    assert layer1["type"] == "bottleneck x3"
    assert layer1["params"] == 215_808
    assert layer1["output_shape"] == [1, 256, 56, 56]
    assert layer1["receptive_field"][0]["size"] == 35
    deeper = analyze_json("resnet50", "--depth", "2")
    assert "layer1.0" in [layer["name"] for layer in deeper["layers"]]


def test_input_batch_and_dtype_overrides():
    base = analyze_json("resnet50")
    big = analyze_json("resnet50", "--input", "3x512x512", "--batch", "8", "--dtype", "float16")
    assert big["input_shape"] == [8, 3, 512, 512]
    assert big["output_shape"] == [8, 1000]
    assert big["totals"]["params"] == base["totals"]["params"]
    assert big["totals"]["param_bytes"] == 2 * base["totals"]["params"]
    conv1 = big["layers"][0]
    assert conv1["output_shape"] == [8, 64, 256, 256]
    assert conv1["macs"] == 8 * 64 * 256 * 256 * 3 * 49
    assert big["totals"]["macs_per_sample"] * 8 == big["totals"]["macs"]


def test_huge_input_is_exact_and_fast():
    document = analyze_json("resnet50", "--input", "3x8192x8192", "--batch", "1024")
    assert document["layers"][0]["macs"] == 1024 * 64 * 4096 * 4096 * 3 * 49
    assert document["layers"][0]["output_shape"] == [1024, 64, 4096, 4096]


def test_csv_and_markdown_golden():
    run = invoke("analyze", "lenet5", "--format", "csv")
    assert run.code == 0
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert rows[0]["name"] == "c1"
    assert sum(int(row["params"]) for row in rows) == 61_706
    check_golden("lenet5.csv", run.stdout)
    run = invoke("analyze", "lenet5", "--format", "markdown")
    assert run.code == 0
    check_golden("lenet5.md", run.stdout.replace(str(Path("specs").resolve()), "<specs>"))


def test_table_output_is_plain_when_piped():
    run = invoke("analyze", "resnet18")
    assert run.code == 0, run.stderr
    out = run.stdout
    assert "\x1b[" not in out  # NO_COLOR and a non-terminal: no escape codes
    assert "11,689,512" in out
    assert "layer4.1.relu" in out
    assert "435/32/217" in out
    assert "Convention" in out


def test_zoo_lists_bundled_specs():
    run = invoke("zoo", "--format", "json")
    assert run.code == 0
    entries = {entry["name"]: entry for entry in run.json()}
    assert entries["resnet50"]["params"] == 25_557_032
    assert entries["vgg16"]["receptive_field"] == "212/32/90"


def test_version_and_help():
    run = invoke("--version")
    assert run.code == 0
    assert run.stdout == f"cnncalc {__version__}\n"
    for command in ("analyze", "validate", "zoo", "kinds"):
        run = invoke(command, "--help")
        assert run.code == 0
        assert run.stdout.lstrip().startswith(f"Usage: cnncalc {command} [OPTIONS]"), run.stdout[:200]


def test_kinds_lists_every_layer_type():
    from cnncalc.kinds import all_kind_names

    run = invoke("kinds")
    assert run.code == 0
    for name in all_kind_names():
        assert f"\n{name} " in "\n" + run.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("analyze", "no_such_network"), "error: 'no_such_network' is neither a file nor a bundled spec"),
        (("analyze", "resnet50", "--format", "xml"), "'xml' is not one of 'table', 'json', 'csv', 'markdown'"),
        (("analyze", "resnet50", "--input", "3xbig"), "error: --input '3xbig' is not a shape"),
        (("analyze", "resnet50", "--batch", "0"), "Invalid value for '--batch' / '-b': Input should be greater"),
        (("frobnicate",), "Error: No such command 'frobnicate'."),
    ],
    ids=["unknown_spec", "format", "input", "batch", "command"],
)
def test_usage_errors_exit_2(args, message):
    run = invoke(*args)
    assert run.code == 2
    assert message in run.stderr, run.stderr
    assert run.stdout == ""


def test_invalid_input_override_is_a_located_spec_error():
    run = invoke("analyze", "lenet5", "--input", "1x8x8")
    assert run.code == 1
    assert "specs/lenet5.yaml:" in run.stderr
    assert "c3 (conv2d): spatial axis 0 has size 2" in run.stderr


def test_python_dash_m_and_no_torch_on_the_analysis_path():
    script = (
        "import sys\n"
        "from cnncalc.cli.startup import run\n"
        "code = run(['analyze', 'resnet50', '--format', 'json'])\n"
        "assert code == 0\n"
        "leaked = [name for name in ('torch', 'rich', 'numpy') if name in sys.modules]\n"
        "assert not leaked, leaked\n"
        "from cnncalc.cli.app import COMMANDS\n"
        "others = [name for name, _ in COMMANDS.values() if name in sys.modules and name != 'cnncalc.cli.analyze']\n"
        "assert not others, others  # a command imports only its own module\n"
    )
    run = run_python(script)
    assert run.code == 0, run.stderr
    assert run.json()["totals"]["params"] == 25_557_032
    run = run_cli("--version")
    assert run.code == 0
    assert run.stdout == f"cnncalc {__version__}\n"


def test_importing_the_engine_does_not_import_torch():
    script = "import sys, cnncalc.engine\nfrom cnncalc.engine import analyze_file\nassert 'torch' not in sys.modules"
    run = run_python(script)
    assert run.code == 0, run.stderr
