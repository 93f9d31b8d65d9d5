"""`cnncalc diff`: layers aligned by path (added, removed, changed, in network order), totals side by side with
the change and the ratio, every format, and exit codes a CI job can test (0 equal, 1 different, 2 trouble)."""

from __future__ import annotations

import csv
import io
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from clirunner import invoke
from terminal import run_in_terminal, without_escapes

from cnncalc.api.diff import TotalDiff
from cnncalc.compare.align import merge_order
from cnncalc.compare.networks import LAYER_FIGURES, TOTAL_FIGURES
from cnncalc.engine.analysis import InputOverrides, analyze_file
from cnncalc.language.zoo import resolve_spec
from cnncalc.render.diff_table import FIGURE_TITLES, TOTAL_TITLES

RESNET18 = analyze_file(resolve_spec("resnet18"))
RESNET34 = analyze_file(resolve_spec("resnet34"))

SMALL = """input: {shape: [3, 32, 32]}
layers:
  - {name: stem, type: conv2d, out: 16, kernel: 3, padding: 1}
  - {name: act, type: relu}
  - {name: head, type: conv2d, out: 8, kernel: 1}
"""


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# --------------------------------------------------------------------------------------- alignment


def test_an_inserted_layer_appears_where_it_was_inserted() -> None:
    assert merge_order(["a", "b", "c"], ["a", "x", "b", "c", "y"]) == [
        (0, 0), (None, 1), (1, 2), (2, 3), (None, 4)
    ]  # fmt: skip


def test_removed_layers_come_before_the_added_ones_between_two_shared_layers() -> None:
    assert merge_order(["a", "old", "c"], ["a", "new", "c"]) == [(0, 0), (1, None), (None, 1), (2, 2)]


def test_a_moved_layer_is_still_compared_at_its_new_place() -> None:
    # b and c swap: one of them keeps the order (an anchor), the other is compared where the second list has it
    assert merge_order(["a", "b", "c", "d"], ["a", "c", "b", "d"]) == [(0, 0), (2, 1), (1, 2), (3, 3)]


def test_every_layer_of_both_lists_appears_once() -> None:
    first = [f"l{index}" for index in range(0, 40, 2)] + ["z"]
    second = ["z"] + [f"l{index}" for index in range(0, 40, 3)]
    pairs = merge_order(first, second)
    assert sorted(i for i, _ in pairs if i is not None) == list(range(len(first)))
    assert sorted(j for _, j in pairs if j is not None) == list(range(len(second)))
    assert all(i is None or j is None or first[i] == second[j] for i, j in pairs)


def test_every_figure_and_total_has_a_title() -> None:
    assert set(FIGURE_TITLES) == set(LAYER_FIGURES)
    assert set(TOTAL_TITLES) == set(TOTAL_FIGURES)


# ---------------------------------------------------------------------------------- resnet18 vs 34


@pytest.fixture(scope="module")
def resnets() -> dict[str, Any]:
    run = invoke("diff", "resnet18", "resnet34", "--format", "json")
    assert run.code == 1, run.output
    return run.json()


def test_resnet34_adds_its_extra_blocks_in_network_order(resnets: dict[str, Any]) -> None:
    added = [layer["name"] for layer in resnets["layers"] if layer["status"] == "added"]
    blocks = ["layer1.2", "layer2.2", "layer2.3", *(f"layer3.{index}" for index in range(2, 6)), "layer4.2"]
    parts = ["conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu"]
    assert added == [f"{block}.{part}" for block in blocks for part in parts]
    # the merged order is resnet34's: every resnet18 path is in it, none removed
    assert [layer["name"] for layer in resnets["layers"]] == [row.path for row in RESNET34.layers]
    assert resnets["summary"] == {"added": 56, "removed": 0, "changed": 48, "unchanged": 21}
    first = next(layer for layer in resnets["layers"] if layer["status"] == "added")
    assert first["a"] is None and first["changed"] == []
    assert first["b"]["type"] == "conv2d" and first["b"]["params"] == 36_864 and first["b"]["macs"] == 115_605_504


def test_resnet_totals_are_side_by_side_with_exact_deltas(resnets: dict[str, Any]) -> None:
    params = resnets["totals"]["params"]
    assert params == {"a": 11_689_512, "b": 21_797_672, "delta": 10_108_160, "ratio": 21_797_672 / 11_689_512}
    assert params["delta"] == RESNET34.totals.params - RESNET18.totals.params
    macs = resnets["totals"]["macs"]
    assert (macs["a"], macs["b"], macs["delta"]) == (1_814_073_344, 3_663_761_408, 1_849_688_064)
    assert resnets["totals"]["layers"] == {"a": 69, "b": 125, "delta": 56, "ratio": 125 / 69}
    assert resnets["totals"]["peak_activation_bytes"]["delta"] == 0
    assert resnets["equal"] is False and resnets["changed_settings"] == ["receptive_field"]


def test_shared_layers_after_an_inserted_block_change_only_their_receptive_field(resnets: dict[str, Any]) -> None:
    layer = next(layer for layer in resnets["layers"] if layer["name"] == "layer2.0.conv1")
    assert layer["status"] == "changed" and layer["changed"] == ["receptive_field"] and layer["delta"] == {}
    assert [axis["size"] for axis in layer["a"]["receptive_field"]] == [51, 51]
    assert [axis["size"] for axis in layer["b"]["receptive_field"]] == [67, 67]  # two more 3x3 convs at jump 4


def test_resnet_table_lists_added_layers_and_totals() -> None:
    run = invoke("diff", "resnet18", "resnet34")
    assert run.code == 1, run.output
    lines = run.stdout.splitlines()
    assert lines[2] == "layers compared by path: 56 added, 0 removed, 48 changed, 21 unchanged"
    assert lines[6].split() == ["+", "layer1.2.conv1", "type", "conv2d"]
    assert lines[7].split() == ["+", "layer1.2.conv1", "output", "1x64x56x56"]
    assert lines[8].split() == ["+", "layer1.2.conv1", "params", "36,864"]
    assert next(line for line in lines if line.startswith("params ")).split() == [
        "params", "11,689,512", "21,797,672", "+10,108,160", "1.865x"
    ]  # fmt: skip


def test_depth_compares_blocks() -> None:
    run = invoke("diff", "resnet18", "resnet34", "--depth", "2", "--format", "json")
    layers = run.json()["layers"]
    assert [layer["name"] for layer in layers if layer["status"] == "added"] == [
        "layer1.2", "layer2.2", "layer2.3", "layer3.2", "layer3.3", "layer3.4", "layer3.5", "layer4.2"
    ]  # fmt: skip
    block = next(layer for layer in layers if layer["name"] == "layer3.5")
    assert block["b"]["layers"] == 7 and block["b"]["params"] == 1_180_672  # 2 x (3x3x256x256) + 2 BatchNorms


# ------------------------------------------------------------------------------ one spec, two inputs


def test_one_spec_at_two_inputs_changes_shapes_and_macs_not_params() -> None:
    run = invoke("diff", "resnet18", "--input-b", "3x448x448", "--format", "json")
    assert run.code == 1, run.output
    document = run.json()
    assert document["a"]["input_shape"] == [1, 3, 224, 224] and document["b"]["input_shape"] == [1, 3, 448, 448]
    assert document["totals"]["params"] == {"a": 11_689_512, "b": 11_689_512, "delta": 0, "ratio": 1.0}
    macs = document["totals"]["macs"]
    # every convolution does 4x the work on 4x the positions; the classifier (512 x 1000) does the same
    assert macs["b"] == 4 * (macs["a"] - 512_000) + 512_000 == 7_254_757_376
    assert macs["ratio"] == macs["b"] / macs["a"]  # the float nearest to 1,771,181 / 442,889
    conv1 = document["layers"][0]
    assert conv1["name"] == "conv1" and conv1["changed"] == ["input_shapes", "output_shape", "macs", "activation_bytes"]
    assert (conv1["a"]["output_shape"], conv1["b"]["output_shape"]) == ([1, 64, 112, 112], [1, 64, 224, 224])
    assert conv1["delta"] == {"macs": 354_041_856, "activation_bytes": 9_633_792}
    assert document["summary"] == {
        "added": 0,
        "removed": 0,
        "changed": 67,
        "unchanged": 2,
    }  # flatten, fc: 1x512 either way


def test_a_fully_convolutional_net_at_twice_the_side_does_exactly_four_times_the_work(tmp_path: Path) -> None:
    spec = _write(tmp_path, "small.yaml", SMALL)
    run = invoke("diff", spec, "--input-b", "3x64x64", "--format", "json")
    totals = run.json()["totals"]
    # stem: 3x3x3 x 16 = 432 per position, head: 16 x 8 = 128; at 32x32 positions, then 64x64
    assert totals["macs"] == {"a": 560 * 32 * 32, "b": 560 * 64 * 64, "delta": 1_720_320, "ratio": 4.0}
    assert totals["params"]["delta"] == 0


def test_settings_of_b_apply_over_the_shared_ones() -> None:
    run = invoke("diff", "lenet5", "--batch", "2", "--dtype-b", "float16", "--format", "json")
    document = run.json()
    assert document["a"]["batch"] == document["b"]["batch"] == 2
    assert (document["a"]["dtype"], document["b"]["dtype"]) == ("float32", "float16")
    assert document["totals"]["param_bytes"] == {"a": 246_824, "b": 123_412, "delta": -123_412, "ratio": 0.5}
    assert document["totals"]["macs"]["delta"] == 0
    assert document["changed_settings"] == ["dtype"]


def _unet_at_base(base: int) -> tuple[int, int]:
    """(params, MACs) of the bundled U-Net with its `base` variable written into the spec's text."""
    import cnncalc

    text = resolve_spec("unet").read_text()
    assert text.count("  base: 64 ") == 1
    totals = cnncalc.analyze(text.replace("  base: 64 ", f"  base: {base} ")).totals
    return totals.params, totals.macs


def test_set_b_compares_one_spec_at_two_values_of_a_variable() -> None:
    run = invoke("diff", "unet", "--set-b", "base=32", "--format", "json", "--totals-only")
    assert run.code == 1, run.output
    document = run.json()
    assert _unet_at_base(64) == (31_037_698, 48_171_581_440)
    assert (document["totals"]["params"]["a"], document["totals"]["macs"]["a"]) == _unet_at_base(64)
    assert (document["totals"]["params"]["b"], document["totals"]["macs"]["b"]) == _unet_at_base(32)
    assert document["totals"]["params"]["b"] == 7_763_074
    assert document["changed_settings"] == ["vars"]
    assert (document["a"]["vars"], document["b"]["vars"]) == ({"base": 64}, {"base": 32})
    table = invoke("diff", "unet", "--set-b", "base=32", "--totals-only").stdout
    assert re.search(r"^vars +base=64 +base=32 +changed$", table, re.MULTILINE), table


def test_set_applies_to_both_and_set_b_wins_for_b() -> None:
    document = invoke("diff", "unet", "--set", "base=16", "--set", "classes=3", "--set-b", "base=8", "--format",
                      "json", "--totals-only").json()  # fmt: skip
    text = resolve_spec("unet").read_text().replace("  classes: 2 ", "  classes: 3 ")
    import cnncalc

    for side, base in (("a", 16), ("b", 8)):
        expected = cnncalc.analyze(text.replace("  base: 64 ", f"  base: {base} ")).totals.params
        assert document["totals"]["params"][side] == expected
    assert (document["a"]["vars"], document["b"]["vars"]) == ({"base": 16, "classes": 3}, {"base": 8, "classes": 3})


def test_a_variable_set_to_its_own_value_is_no_difference() -> None:
    run = invoke("diff", "unet", "--set-b", "base=64")
    assert run.code == 0, run.output


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (["unet", "--set-b", "bse=32"], "--set-b bse: the spec has no variable 'bse' in `vars:`",
         "did you mean 'base'?"),
        (["unet", "--set", "clases=3", "--input-b", "3x128x128"], "--set clases: the spec has no variable 'clases'",
         "did you mean 'classes'?"),
        (["resnet18", "resnet34", "--set", "width=2"], "--set width: A (resnet18) has no top-level `vars:`", ""),
        (["unet", "--set-b", "base"], "--set-b 'base' is not NAME=VALUE", "e.g. --set-b width=0.5"),
        (["unet", "--set", "=3"], "--set '=3' is not NAME=VALUE", ""),
        (["unet", "--set-b", "base=abc"], "--set-b base: 'abc' is not a number or a range", ""),
        (["unet", "--set-b", "base=16,32"], "--set-b 'base=16,32' gives 2 values; diff compares at one", ""),
        (["unet", "--set", "base=32", "--set-b", "base=32"], "diff needs two networks", ""),
    ],
)  # fmt: skip
def test_bad_variable_settings_exit_2(args: list[str], message: str, hint: str) -> None:
    run = invoke("diff", *args)
    assert run.code == 2 and run.stdout == "", run.output
    assert f"error: {message}" in run.stderr and hint in run.stderr and "Traceback" not in run.stderr


def test_python_api_sets_variables_by_name() -> None:
    import cnncalc

    narrow = cnncalc.diff("unet", vars_b={"base": 32})
    assert (narrow.totals["params"].a, narrow.totals["params"].b) == (_unet_at_base(64)[0], _unet_at_base(32)[0])
    assert narrow.to_dict()["changed_settings"] == ["vars"]
    both = cnncalc.diff("unet", vars={"base": 32}, input_b="3x128x128")
    assert both.totals["params"].a == both.totals["params"].b == _unet_at_base(32)[0]
    with pytest.raises(cnncalc.UsageError, match=r"vars_b bse: .*did you mean 'base'\?"):
        cnncalc.diff("unet", vars_b={"bse": 32})
    with pytest.raises(cnncalc.UsageError, match="diff needs two networks"):
        cnncalc.diff("unet", vars={"base": 32})


# --------------------------------------------------------------------------- equal, renamed, exit codes


def test_identical_specs_exit_0_with_no_differences() -> None:
    run = invoke("diff", "lenet5", "lenet5")
    assert run.code == 0, run.output
    assert (
        run.stdout.splitlines()[2] == "no differences: 0 added, 0 removed, 0 changed, 12 unchanged layers, same totals"
    )
    assert "Figure" not in run.stdout  # no per-layer table
    document = invoke("diff", "lenet5", "lenet5", "--format", "json").json()
    assert document["equal"] is True and document["summary"]["unchanged"] == 12
    assert all(total["delta"] == 0 for total in document["totals"].values())


def test_a_renamed_layer_is_removed_and_added_in_place(tmp_path: Path) -> None:
    first = _write(tmp_path, "a.yaml", SMALL)
    second = _write(tmp_path, "b.yaml", SMALL.replace("name: act", "name: activation"))
    run = invoke("diff", first, second, "--format", "json")
    assert run.code == 1
    assert [(layer["name"], layer["status"]) for layer in run.json()["layers"]] == [
        ("stem", "unchanged"), ("act", "removed"), ("activation", "added"), ("head", "unchanged")
    ]  # fmt: skip
    table = invoke("diff", first, second).stdout.splitlines()
    assert [line.split()[:4] for line in table[6:]][:4] == [
        ["-", "act", "type", "relu"],
        ["-", "act", "output", "1x16x32x32"],
        ["+", "activation", "type", "relu"],
        ["+", "activation", "output", "1x16x32x32"],
    ]


def test_an_invalid_spec_exits_2_not_1(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.yaml", "input: {shape: [3, 32, 32]}\nlayers:\n  - {type: conv2d, out: 8}\n")
    run = invoke("diff", "lenet5", bad)
    assert run.code == 2 and run.stdout == ""
    assert run.stderr.startswith(f"{bad}:3:5: error: 0 (conv2d): missing required field 'kernel'")
    assert invoke("analyze", bad).code == 1  # other commands keep 1 for an invalid spec


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lenet5"], "diff needs two networks: a second SPEC, or a setting of B"),
        (["lenet5", "no_such_net"], "'no_such_net' is neither a file nor a bundled spec"),
        (["-", "-"], "only one of A and B can be read from standard input (-)"),
        (["resnet18", "--input-b", "3x32"], "--input-b 3x32 has 2 axes (C x L); resnet18 is written for 3"),
        (["lenet5", "--input-b", "1x2x2"], "lenet5.yaml:26:5: error: c1 (conv2d): spatial axis 0 has size 2"),
    ],
)
def test_what_stops_the_comparison_exits_2(args: list[str], message: str) -> None:
    run = invoke("diff", *args)
    assert run.code == 2, run.output
    assert message in run.stderr


def test_a_spec_from_standard_input_against_a_bundled_one() -> None:
    text = Path(resolve_spec("lenet5")).read_text()
    run = invoke("diff", "-", "lenet5", "--format", "json", stdin=text)
    assert run.code == 0, run.output
    assert run.json()["a"]["file"] == "<stdin>"


# ----------------------------------------------------------------------------------------- formats


LAYER_RECORD_KEYS = {"name", "status", "changed", "a", "b"}
FIGURE_KEYS = {
    "type", "input_shapes", "output_shape", "params", "trainable_params", "buffers", "macs", "flops",
    "activation_bytes", "receptive_field", "global_receptive_field", "layers",
}  # fmt: skip


def test_json_document_shape(resnets: dict[str, Any]) -> None:
    assert set(resnets) == {
        "cnncalc_version", "equal", "depth", "a", "b", "summary", "changed_settings", "totals", "layers"
    }  # fmt: skip
    for side in ("a", "b"):
        assert set(resnets[side]) == {
            "name", "file", "input_shape", "output_shape", "batch", "dtype", "receptive_field",
            "receptive_field_layer", "vars",
        }  # fmt: skip
        assert resnets[side]["vars"] == {}  # none set
    assert list(resnets["totals"]) == list(TOTAL_FIGURES)
    for total in resnets["totals"].values():
        assert set(total) == {"a", "b", "delta", "ratio"} and total["delta"] == total["b"] - total["a"]
    for layer in resnets["layers"]:
        status = layer["status"]
        assert status in {"added", "removed", "changed", "unchanged"}
        both = status in {"changed", "unchanged"}
        assert set(layer) == LAYER_RECORD_KEYS | ({"delta"} if both else set())
        assert (layer["a"] is None) == (status == "added") and (layer["b"] is None) == (status == "removed")
        for figures in (layer["a"], layer["b"]):
            assert figures is None or set(figures) == FIGURE_KEYS
        assert set(layer["changed"]) <= set(LAYER_FIGURES) and (status == "changed") == bool(layer["changed"])
    assert sum(resnets["summary"].values()) == len(resnets["layers"])


def test_totals_only_leaves_the_layers_out() -> None:
    document = invoke("diff", "resnet18", "resnet34", "--totals-only", "--format", "json").json()
    assert "layers" not in document and document["totals"]["params"]["delta"] == 10_108_160
    table = invoke("diff", "resnet18", "resnet34", "--totals-only").stdout
    assert "layer1.2.conv1" not in table and "+10,108,160" in table
    rows = list(csv.reader(io.StringIO(invoke("diff", "resnet18", "resnet34", "--totals-only", "-f", "csv").stdout)))
    assert rows[0] == ["total", "a", "b", "delta", "ratio"]
    assert rows[2][:4] == ["params", "11689512", "21797672", "10108160"]


def test_csv_has_every_layer_with_both_sides() -> None:
    run = invoke("diff", "resnet18", "resnet34", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert len(rows) == 125 and [row["name"] for row in rows] == [row.path for row in RESNET34.layers]
    added = next(row for row in rows if row["name"] == "layer3.5.conv2")
    assert (added["status"], added["a_params"], added["b_params"], added["b_output_shape"]) == (
        "added", "", "589824", "1x256x14x14"
    )  # fmt: skip
    conv = next(row for row in rows if row["name"] == "layer4.0.conv1")
    assert conv["changed"] == "receptive_field" and (conv["a_rf_size"], conv["b_rf_size"]) == ("243x243", "579x579")
    # 243 + 2 convs 3x3 per extra block: layer1.2 at jump 4 (+16), 2 in layer2 at 8 (+64), 4 in layer3 at 16 (+256)


def test_markdown_has_both_tables() -> None:
    text = invoke("diff", "resnet18", "resnet34", "--format", "markdown").stdout
    assert text.startswith("## resnet18 → resnet34\n")
    assert "| + layer1.2.conv1 | params |  | 36,864 |  |" in text
    assert "| params | 11,689,512 | 21,797,672 | +10,108,160 | 1.865x |" in text


GROUPED = re.compile(r"(?<![\w,.])\d{1,3}(?:,\d+)+(?![\w,])")


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_the_table_fits_the_terminal_and_cuts_no_figure(width: int, resnets: dict[str, Any]) -> None:
    text = without_escapes(run_in_terminal(["diff", "resnet18", "resnet34"], width))
    assert all(len(line) <= width for line in text.splitlines()), text
    figures: set[int] = set()
    for total in resnets["totals"].values():
        figures |= {total["a"], total["b"], abs(total["delta"])}
    for layer in resnets["layers"]:
        for side in ("a", "b"):
            if layer[side] is not None:
                figures |= {value for value in layer[side].values() if type(value) is int}
        figures |= {abs(value) for value in layer.get("delta", {}).values()}
    shown = {f"{value:,}" for value in figures}
    for token in GROUPED.findall(text):
        assert token in shown, f"{token!r} at width {width}:\n{text}"
    assert "10,108,160" in text and "21,797,672" in text  # the params change and B's params, never dropped


def test_engine_and_command_agree_on_the_input_override() -> None:
    wide = analyze_file(resolve_spec("resnet18"), InputOverrides((3, 448, 448)))
    document = invoke("diff", "resnet18", "--input-b", "3x448x448", "--totals-only", "--format", "json").json()
    assert document["totals"]["peak_activation_bytes"]["b"] == wide.totals.peak_activation_bytes == 25_690_112


def test_the_readme_example_is_what_the_command_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Comparing networks: `cnncalc diff`") :]
    example = re.search(r"```text\n\$ cnncalc (?P<args>[^\n]*)\n(?P<output>.*?)```\n", section, re.S)
    assert example is not None
    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # the example names specs/...
    run = invoke(*example["args"].split(), columns=None)
    assert run.code == 1 and run.stdout == example["output"]


# ---------------------------------------------------------------------------------------- Python API


def test_python_api_returns_the_comparison_as_data() -> None:
    import cnncalc

    result = cnncalc.diff("resnet18", "resnet34")
    assert result.equal is False
    assert result.summary == {"added": 56, "removed": 0, "changed": 48, "unchanged": 21}
    assert result.totals["params"] == TotalDiff(
        11_689_512, 21_797_672, 10_108_160, Fraction(21_797_672, 11_689_512)
    )
    added = result.differences[0]
    assert (added.name, added.status, added.a) == ("layer1.2.conv1", "added", None)
    assert added.b is not None and added.b.params == 36_864
    assert result.to_dict() == invoke("diff", "resnet18", "resnet34", "--format", "json").json()
    assert str(result) + "\n" == invoke("diff", "resnet18", "resnet34").stdout


def test_python_api_compares_one_spec_at_two_inputs_and_names_the_argument_at_fault() -> None:
    import cnncalc

    wide = cnncalc.diff("resnet18", input_b=(3, 448, 448))
    assert wide.totals["macs"].ratio == Fraction(7_254_757_376, 1_814_073_344) and wide.totals["params"].delta == 0
    assert cnncalc.diff("lenet5", "lenet5").equal is True
    with pytest.raises(cnncalc.UsageError, match="diff needs two networks"):
        cnncalc.diff("lenet5")
    with pytest.raises(cnncalc.UsageError, match="input_b='3x32' has 2 axes"):
        cnncalc.diff("resnet18", input_b="3x32")
