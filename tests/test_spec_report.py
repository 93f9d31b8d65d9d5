"""What `validate` and `analyze` report about a whole spec: every layer's field errors even after a layer fails,
warnings shared by many layers said once, a warning for linear on a feature map, and a bad `--input` blamed
on `--input` rather than on a line of the spec."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from clirunner import invoke, validate_json

from cnncalc.engine import InputOverrides, analyze_file, analyze_text, check_text
from cnncalc.language.zoo import resolve_spec, zoo_specs

NOT_SHAPE_CHECKED = "not-shape-checked"  # the code programs read in the JSON report
SpecFile = Callable[..., Path]


def validated(path: Path) -> tuple[int, dict]:
    """`validate --format json` of one spec: the exit code and its entry."""
    code, report = validate_json(path)
    [entry] = report["files"]
    return code, entry


def column(text: str, line: int, token: str) -> int:
    """1-based column of the first `token` on a 1-based line of `text`."""
    return text.splitlines()[line - 1].index(token) + 1


# ------------------------------------------------------------------------ every layer's fields (item 2)
AFTER_A_FAILURE = """\
input: {shape: [3, 32, 32]}
blocks:
  pair:
    args: {width: 8}
    layers:
      - {type: conv2d, out: width, kernel: 3, stride: 0}
      - {type: conv2d, out: "in_channels * 2", kernel: 1}
layers:
  - {name: stem, type: conv2d, out: 8, kernel: 64}
  - {name: pool, type: maxpool2d, kernel: 0}
  - {name: stage, block: pair, args: {width: 0}}
  - {name: wide, type: conv2d, out: "in_channels", kernel: 3, padding: 1}
  - {name: head, type: linear, out: true}
  - {name: acts, type: relu, repeat: 3}
"""


def test_fields_of_every_layer_are_checked_after_a_shape_error(spec_file: SpecFile) -> None:
    path = spec_file(AFTER_A_FAILURE, "after")
    code, entry = validated(path)
    assert code == 1
    got = [(e["line"], e["column"], e["message"]) for e in entry["errors"]]
    assert got == [
        (9, 5, "stem (conv2d): spatial axis 0 has size 32 (+0 padding), smaller than the effective kernel 64; "
               "the output would be empty"),
        (10, column(AFTER_A_FAILURE, 10, "0}"), "pool (maxpool2d): kernel: must be at least 1 (got 0)"),
        (6, column(AFTER_A_FAILURE, 6, "width"), "stage.0 (conv2d): out: must be at least 1 (got 0)"),
        (6, column(AFTER_A_FAILURE, 6, "0}"), "stage.0 (conv2d): stride: must be at least 1 (got 0)"),
        (13, column(AFTER_A_FAILURE, 13, "true"), "head (linear): out: expected a number, got true"),
    ]
    # pool, stage.0, stage.1, wide, head and the three relu copies: their shapes depend on stem's output
    [note] = entry["warnings"]
    assert note == {
        "severity": "warning",
        "file": str(path),
        "line": 9,
        "column": 5,
        "message": "8 layers after stem (conv2d) were not shape-checked: their input shape is unknown",
        "hint": "fix the errors above, then check again",
        "code": NOT_SHAPE_CHECKED,
    }


def test_analyze_reports_the_same_errors(spec_file: SpecFile) -> None:
    path = spec_file(AFTER_A_FAILURE, "after")
    analyzed = invoke("analyze", str(path))
    assert analyzed.code == 1
    errors = [line for line in analyzed.stderr.splitlines() if ": error: " in line]
    checked = [issue for issue in check_text(AFTER_A_FAILURE, str(path)) if issue.severity == "error"]
    assert errors == [f"{issue.location}: error: {issue.message}" for issue in checked]
    assert len(errors) == 5


def test_fields_after_an_unknown_reference_are_checked() -> None:
    text = "input: {shape: [3, 8, 8]}\nlayers:\n  - {type: relu, from: nowhere}\n"
    text += "  - {type: conv2d, out: 0, kernel: 1}\n"
    issues = check_text(text, "spec.yaml")
    assert [(issue.severity, str(issue.location), issue.message) for issue in issues] == [
        ("error", "spec.yaml:3:24", "unknown reference 'nowhere'"),
        ("error", "spec.yaml:4:25", "1 (conv2d): out: must be at least 1 (got 0)"),
        ("warning", "spec.yaml:3:3", "2 layers were not shape-checked: their input shape is unknown"),
    ]


def test_invalid_input_section_does_not_hide_layer_errors(spec_file: SpecFile) -> None:
    text = (
        "input: {shape: [3, 32, 32], batch: 0}\nlayers:\n"
        "  - {type: conv2d, out: 8, kernel: 3, stride: 0}\n"
        "  - {type: conv2d, out: in_channels, kernel: 3}\n"
        "  - {type: linear, out: 0}\n"
    )
    path = spec_file(text, "batch0")
    code, entry = validated(path)
    assert code == 1
    assert [(e["line"], e["column"], e["message"]) for e in entry["errors"]] == [
        (1, column(text, 1, "0}"), "input.batch: must be at least 1 (got 0)"),
        (3, column(text, 3, "0}"), "0 (conv2d): stride: must be at least 1 (got 0)"),
        (5, column(text, 5, "0}"), "2 (linear): out: must be at least 1 (got 0)"),
    ]
    [note] = entry["warnings"]
    assert (note["line"], note["message"]) == (1, "3 layers were not shape-checked: the input is invalid")
    assert invoke("analyze", str(path)).code == 1


def test_other_top_level_errors_still_stop_early(spec_file: SpecFile) -> None:
    path = spec_file("input: {shape: [3, 32, 32], batch: 0}\nlayer:\n  - {type: conv2d, out: 0, kernel: 3}\n", "typo")
    code, entry = validated(path)
    assert code == 1
    assert sorted(e["message"] for e in entry["errors"]) == [
        "input.batch: must be at least 1 (got 0)",
        "missing required field 'layers'",
        "unknown field 'layer'",
    ]


def test_valid_zoo_specs_have_no_note() -> None:
    for name, path in sorted(zoo_specs().items()):
        issues = check_text(path.read_text(), str(path))
        assert not [issue for issue in issues if issue.as_dict().get("code") == NOT_SHAPE_CHECKED], name


# ----------------------------------------------------------------------- linear on a feature map (item 5)
def test_linear_on_a_feature_map_warns_but_computes() -> None:
    result = analyze_text("input: {shape: [3, 8, 6]}\nlayers:\n  - {type: conv2d, out: 4, kernel: 1}\n"
                          "  - {name: fc, type: linear, out: 10}\n")
    fc = result.layers[1]
    assert (fc.output_shape, fc.params) == ((1, 4, 8, 10), 6 * 10 + 10)  # torch.nn.Linear on the last axis (6)
    [warning] = result.warnings
    assert warning.message == (
        "fc (linear): linear on the feature map (1, 4, 8, 6) acts on its last axis only (6 values along a "
        "spatial axis), not on the channels or the whole map"
    )
    assert warning.hint == (
        "add `- {type: flatten}` before it to use every value, or use a 1x1 conv (`pointwise`) to mix channels"
    )
    assert (warning.location.line, warning.location.column) == (4, 5)


@pytest.mark.parametrize("layers", [
    "  - {type: flatten}\n  - {type: linear, out: 10}\n",  # (B, C*H*W)
    "  - {type: global_avgpool}\n  - {type: flatten}\n  - {type: linear, out: 10}\n",
    "  - {type: permute, dims: [0, 2, 3, 1]}\n  - {type: linear, out: 10}\n",  # channels last: on the channels
    "  - {type: conv1d, out: 4, kernel: 1}\n  - {type: linear, out: 10}\n",  # a sequence (B, C, L): token mixing
])
def test_linear_where_it_is_meant_does_not_warn(layers: str) -> None:
    shape = "[3, 16]" if "conv1d" in layers else "[3, 8, 8]"
    result = analyze_text(f"input: {{shape: {shape}}}\nlayers:\n" + layers)
    assert result.warnings == ()


def test_linear_warning_through_validate(spec_file: SpecFile) -> None:
    path = spec_file("input: {shape: [3, 8, 8]}\nlayers:\n  - {type: linear, out: 10}\n", "fc")
    code, entry = validated(path)
    assert code == 0
    [warning] = entry["warnings"]
    assert warning["message"].startswith("0 (linear): linear on the feature map (1, 3, 8, 8) acts on its last axis")


# ---------------------------------------------------------------- one warning for many layers (item 6)
def batchnorms_at_one_value(result) -> list[str]:
    return [row.path for row in result.layers
            if row.kind == "batchnorm" and row.output_shape[0] * row.output_shape[2] * row.output_shape[3] == 1]


def test_same_warning_of_many_layers_is_one_issue() -> None:
    result = analyze_file(zoo_specs()["resnet50"], InputOverrides(shape=(3, 16, 16)))
    paths = batchnorms_at_one_value(result)
    # 16x16 in: layer3 and layer4 run at 1x1. layer3.0: bn2, bn3, downsample.1; layer3.1-5: 3 each; layer4.0: bn1,
    # bn2, bn3, downsample.1; layer4.1-2: 3 each. 3 + 15 + 4 + 6 = 28
    assert len(paths) == 28
    assert paths[:3] == ["layer3.0.bn2", "layer3.0.bn3", "layer3.0.downsample.1"]
    [warning] = result.warnings
    assert warning.count == len(paths)
    assert warning.layers == tuple(paths)
    assert warning.message == (
        f"batchnorm in {len(paths)} layers ({', '.join(paths[:3])}, ...): batchnorm: one value per channel at "
        "(1, C, 1, 1): fine at inference, but PyTorch refuses to train it (batch statistics need more than one value)"
    )
    first = next(row for row in result.layers if row.path == paths[0])
    assert warning.location == first.location
    assert warning.as_dict()["layers"] == paths and warning.as_dict()["count"] == len(paths)


def test_collapsed_warning_in_every_output() -> None:
    analyzed = invoke("analyze", "resnet50", "--input", "3x16x16")
    assert analyzed.code == 0
    [line] = [line for line in analyzed.stdout.splitlines() if line.startswith("warning:")]
    assert line.startswith(
        f"warning: {resolve_spec('resnet50')}:33:9: batchnorm in 28 layers (layer3.0.bn2, layer3.0.bn3, "
        "layer3.0.downsample.1, ...): batchnorm: one value per"
    ), line
    checked = invoke("validate", "--input", "3x16x16", "resnet50")
    assert checked.code == 0
    assert checked.stdout == f"{resolve_spec('resnet50')}: valid, 1 warning\n"
    machine = invoke("analyze", "resnet50", "--input", "3x16x16", "--format", "json").json()
    [warning] = machine["warnings"]
    assert warning["count"] == len(warning["layers"]) == 28


def test_a_warning_of_one_layer_keeps_its_form() -> None:
    result = analyze_text(
        "input: {shape: [3, 30, 30]}\nlayers:\n  - {name: embed, type: patch_embed, patch: 16, dim: 8}\n"
    )
    messages = [warning.message for warning in result.warnings]
    assert messages == [
        f"embed (patch_embed): axis {axis} (30) is not a multiple of the patch (16); the remainder is dropped"
        for axis in (0, 1)
    ]
    assert all(warning.count == 1 and warning.layers == () for warning in result.warnings)
    assert "count" not in result.warnings[0].as_dict()


# ---------------------------------------------------------------------------- --input blamed (item 12)
def test_input_with_fewer_axes_is_an_error_about_input() -> None:
    for command in ("analyze", "validate"):
        result = invoke(command, "resnet50", "--input", "224x224")
        assert result.code == 1, command
        lines = result.stderr.splitlines()
        assert lines[0] == (
            "--input: error: --input 224x224 has 2 axes (C x L); resnet50 is written for 3 (C x H x W) with "
            "C = 3 (input.shape [3, 224, 224])"
        ), command
        assert lines[1] == (
            f"  hint: with it the spec fails at {resolve_spec('resnet50')}:49:5: conv1 (conv2d): conv2d works on 2 "
            "spatial axes but its input (1, 224, 224) has 1"
        ), command
        assert not [line for line in lines if re.match(r"\S+\.yaml:\d+:\d+: error", line)], command


GROUPED = "name: grouped\ninput: {shape: [3, 32, 32]}\nlayers:\n  - {type: conv2d, out: 6, kernel: 3, groups: 3}\n"


def test_input_with_other_channels_is_blamed_when_the_spec_then_fails(spec_file: SpecFile) -> None:
    path = spec_file(GROUPED, "grouped")
    for command in ("analyze", "validate"):
        result = invoke(command, str(path), "--input", "4x32x32")
        assert result.code == 1
        lines = result.stderr.splitlines()
        assert lines[0] == (
            "--input: error: --input 4x32x32 has C = 4; grouped is written for C = 3 (input.shape [3, 32, 32])"
        )
        assert lines[1] == (
            f"  hint: with it the spec fails at {path}:4:5: 0 (conv2d): groups=3 does not divide the 4 input channels"
        )


def test_input_with_other_channels_that_works_is_fine(spec_file: SpecFile) -> None:
    result = analyze_file(zoo_specs()["resnet50"], InputOverrides(shape=(1, 64, 64)))
    assert result.input_shape == (1, 1, 64, 64)
    path = spec_file(GROUPED, "grouped")
    assert invoke("analyze", str(path), "--input", "6x32x32").code == 0  # 3 groups divide 6 channels


def test_input_of_the_same_kind_still_blames_the_layer(spec_file: SpecFile) -> None:
    path = spec_file("input: {shape: [3, 32, 32]}\nlayers:\n  - {type: conv2d, out: 8, kernel: 7}\n", "small")
    result = invoke("validate", "--input", "3x4x4", str(path))
    assert result.code == 1
    assert result.stderr.splitlines()[0] == (
        f"{path}:3:5: error: 0 (conv2d): spatial axis 0 has size 4 (+0 padding), smaller than the effective kernel 7; "
        "the output would be empty"
    )
