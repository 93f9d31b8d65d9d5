"""`cnncalc validate`: every error of a spec, at file:line:column, with a hint; JSON output; exit codes.

The specs are written here with known positions: `HEAD` takes lines 1-2, so the first layer entry is line 3,
and its `{` is column 5 (`  - {`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from clirunner import HEAD, ROOT, invoke, validate_json

from cnncalc.language.zoo import zoo_specs

SPECS_DIR = ROOT / "specs"


SpecFile = Callable[..., Path]


def located_lines(text: str, severities: str = "error|warning") -> list[str]:
    """The `file:line:column: severity: message` lines of a text report."""
    return [line for line in text.splitlines() if re.match(rf"\S+:\d+:\d+: ({severities}): ", line)]


# ------------------------------------------------------------------------------------- one error, exactly placed
@dataclass(frozen=True)
class Bad:
    """A spec with one error at (line, column), its message and hint; `also`: the other errors it has."""

    id: str
    text: str
    line: int
    column: int
    message: str
    hint: str = ""  # none
    also: tuple[str, ...] = ()


KNOWN = " (known here: in_channels, in_features, index)"  # the variables a layer entry may use
EMPTY = "the output would be empty"


FUNCTIONAL_HINT = (
    "drop `functional`: parameters and buffers belong to a module; only stateless layers (activations, pooling, "
    "reshaping, a norm without affine weights or running statistics) are function calls"
)
FUNCTIONAL_PLACE = "put `functional: true` on the layers inside that PyTorch calls as functions"

BLOCKS = """\
input: {shape: [3, 32, 32]}
blocks:
  bottleneck:
    args: {width: null, stride: 1}
    layers:
      - {type: conv2d, out: width, kernel: 3, stride: stride, padding: 1}
layers:
"""  # block uses start on line 8

OPTIONAL_HINT = (
    "`null` in a block's `args:` means required; list an argument that may be left out under the block's "
    "`optional:`"
)
BAD = [
    # unknown layer types and fields, with "did you mean"
    Bad("type_with_space", HEAD + "  - {type: conv2 d, out: 8, kernel: 3}\n", 3, 12,
        "unknown layer type 'conv2 d'", "did you mean 'conv2d'?"),
    Bad("type_typo", HEAD + "  - {type: convv2d, out: 8, kernel: 3}\n", 3, 12,
        "unknown layer type 'convv2d'", "did you mean 'conv2d'?"),
    Bad("type_far_off", HEAD + "  - {type: quantum_xyz}\n", 3, 12,
        "unknown layer type 'quantum_xyz'", "run `cnncalc kinds` to list layer types"),
    Bad("field_typo", HEAD + "  - type: conv2d\n    out: 8\n    kernel: 3\n    strid: 2\n", 6, 5,
        "unknown field 'strid' for layer type 'conv2d'", "did you mean 'stride'?"),
    Bad("top_level_field_typo", "input: {shape: [3, 32, 32]}\nlayer:\n  - {type: relu}\n", 2, 1,
        "unknown field 'layer'", "did you mean 'layers'?",
        also=("missing required field 'layers'",)),
    Bad("input_field_typo", "input: {shape: [3, 32, 32], bach: 2}\nlayers:\n  - {type: relu}\n", 1, 29,
        "unknown field 'bach' in input", "did you mean 'batch'?"),
    Bad("missing_field", HEAD + "  - {type: conv2d, kernel: 3}\n", 3, 5,
        "0 (conv2d): missing required field 'out'"),
    Bad("missing_layers", "input: {shape: [3, 32, 32]}\n", 1, 1,
        "missing required field 'layers'"),
    # wrong types
    Bad("out_not_a_variable", HEAD + "  - {type: conv2d, out: abc, kernel: 3}\n", 3, 25,
        "0 (conv2d): out: cannot evaluate 'abc': unknown variable 'abc'" + KNOWN),
    Bad("variable_typo", "vars: {width: 16}\n" + HEAD + "  - {type: conv2d, out: widht, kernel: 3}\n", 4, 25,
        "0 (conv2d): out: cannot evaluate 'widht': unknown variable 'widht' (did you mean 'width'?)"),
    # the list [3, x] starts at column 36 (its `x` is at column 40): the error points at the list
    Bad("name_in_kernel_list", HEAD + "  - {type: conv2d, out: 8, kernel: [3, x]}\n", 3, 36,
        "0 (conv2d): kernel: cannot evaluate [3, 'x']: unknown variable 'x'" + KNOWN),
    Bad("kernel_mapping", HEAD + "  - {type: conv2d, out: 8, kernel: {h: 3}}\n", 3, 36,
        "0 (conv2d): kernel: should be a valid integer or should be a valid list"),
    Bad("kernel_item_zero", HEAD + "  - {type: conv2d, out: 8, kernel: [3, 0]}\n", 3, 40,
        "0 (conv2d): kernel.1: must be at least 1 (got 0)"),
    Bad("out_fraction", HEAD + "  - {type: conv2d, out: 2.5, kernel: 3}\n", 3, 25,
        "0 (conv2d): out: should be a valid integer, got a number with a fractional part (got 2.5)"),
    Bad("bias_not_bool", HEAD + "  - {type: conv2d, out: 8, kernel: 3, bias: [1]}\n", 3, 45,
        "0 (conv2d): bias: should be a valid boolean"),
    Bad("shape_as_text", "input: {shape: 3x32x32}\nlayers:\n  - {type: relu}\n", 1, 16,
        "input.shape: should be a valid list (got '3x32x32')"),
    Bad("shape_too_short", "input: {shape: [3]}\nlayers:\n  - {type: relu}\n", 1, 16,
        "input.shape: List should have at least 2 items after validation, not 1"),
    # impossible shapes (reported at the layer entry, with a hint)
    Bad("kernel_larger_than_input", "input: {shape: [3, 8, 8]}\nlayers:\n  - {type: conv2d, out: 8, kernel: 9}\n", 3, 5,
        "0 (conv2d): spatial axis 0 has size 8 (+0 padding), smaller than the effective kernel 9; " + EMPTY,
        "use a larger input, more padding, or a smaller kernel/dilation"),
    Bad("add_channel_mismatch", HEAD + "  - {name: a, type: conv2d, out: 16, kernel: 1}\n"
        "  - {name: b, type: conv2d, out: 32, kernel: 1, from: input}\n"
        "  - {name: sum, type: add, from: [a, b]}\n", 5, 5,
        "sum (add): input shapes (1, 16, 32, 32) and (1, 32, 32, 32) do not match",
        "channels differ (16 vs 32): give the shortcut a projection (a 1x1 conv to the same channels, strided if the "
        "resolution changes too)"),
    Bad("concat_spatial_mismatch", HEAD + "  - {name: a, type: conv2d, out: 16, kernel: 1}\n"
        "  - {name: b, type: maxpool, kernel: 2, from: input}\n"
        "  - {name: cat, type: concat, from: [a, b]}\n", 5, 5,
        "cat (concat): concat along dim 1: (1, 16, 32, 32) and (1, 3, 16, 16) differ on axis 2",
        "all inputs must match on every axis but the one concatenated; resample one path first"),
    Bad("groups_do_not_divide", HEAD + "  - {type: conv2d, out: 8, kernel: 3, groups: 2}\n", 3, 5,
        "0 (conv2d): groups=2 does not divide the 3 input channels", "choose groups among the divisors of 3"),
    # values PyTorch refuses (its verify would stop with a traceback)
    Bad("batchnorm_eps_zero", HEAD + "  - {type: batchnorm, eps: 0}\n", 3, 28,
        "0 (batchnorm): eps: must be greater than 0.0 (got 0)"),
    Bad("batchnorm_eps_negative", HEAD + "  - {type: batchnorm2d, eps: -1.0e-5}\n", 3, 30,
        "0 (batchnorm2d): eps: must be greater than 0.0 (got -1e-05)"),
    Bad("layernorm_eps_zero", HEAD + "  - {type: layernorm, eps: 0.0}\n", 3, 28,
        "0 (layernorm): eps: must be greater than 0.0 (got 0.0)"),
    Bad("groupnorm_eps_negative", HEAD + "  - {type: groupnorm, groups: 1, eps: -1}\n", 3, 39,
        "0 (groupnorm): eps: must be greater than 0.0 (got -1)"),
    Bad("instancenorm_eps_zero", HEAD + "  - {type: instancenorm, eps: 0}\n", 3, 31,
        "0 (instancenorm): eps: must be greater than 0.0 (got 0)"),
    Bad("hardtanh_bounds_reversed", HEAD + "  - {type: hardtanh, min_val: 1, max_val: -1}\n", 3, 5,
        "0 (hardtanh): hardtanh clamps to [min_val, max_val], but max_val -1.0 is not greater than min_val 1.0",
        "PyTorch's Hardtanh refuses this; swap the two, or make max_val larger"),
    Bad("avgpool1d_divisor_override", "input: {shape: [3, 32]}\nlayers:\n"
        "  - {type: avgpool1d, kernel: 2, divisor_override: 2}\n", 3, 5,
        "0 (avgpool1d): avgpool1d on a 1-d input has no divisor_override: PyTorch's AvgPool1d and avg_pool1d have none",
        "remove divisor_override (2-d and 3-d average pooling take it)"),
    Bad("avgpool_1d_input_divisor_override", "input: {shape: [3, 32]}\nlayers:\n"
        "  - {type: avgpool, kernel: 2, divisor_override: 2}\n", 3, 5,
        "0 (avgpool): avgpool on a 1-d input has no divisor_override: PyTorch's AvgPool1d and avg_pool1d have none",
        "remove divisor_override (2-d and 3-d average pooling take it)"),
    # references, cycles, names
    Bad("unknown_reference",
        HEAD + "  - {name: conv1, type: conv2d, out: 8, kernel: 3}\n  - {type: relu, from: conv1x}\n", 4, 24,
        "unknown reference 'conv1x'",
        "did you mean 'conv1'?"),
    Bad("unknown_reference_in_list",
        HEAD + "  - {name: conv1, type: conv2d, out: 8, kernel: 1}\n  - {type: add, from: [conv1, inptu]}\n", 4, 31,
        "unknown reference 'inptu'",
        "did you mean 'input'?"),
    Bad("cycle", HEAD + "  - {name: a, type: relu, from: b}\n  - {name: b, type: relu, from: a}\n", 3, 5,
        "these entries read each other in a cycle: a -> b -> a",
        "an entry without `from:` reads the entry before it; break the cycle by changing a `from:`"),
    Bad("duplicate_name", HEAD + "  - {name: p, type: relu}\n  - {name: p, type: relu}\n", 4, 12,
        "name 'p' is already used in this scope", "names must be unique among the entries of one list"),
    Bad("reserved_name", HEAD + "  - {name: input, type: relu}\n", 3, 12,
        "'input' is a reserved name", "choose another name"),
    # blocks
    Bad("unknown_block", BLOCKS + "  - {block: botleneck, args: {width: 8}}\n", 8, 13,
        "unknown block 'botleneck'", "did you mean 'bottleneck'?"),
    Bad("unknown_block_no_blocks", HEAD + "  - {block: bottleneck}\n", 3, 13,
        "unknown block 'bottleneck'", "define it under `blocks:` at the top level"),
    Bad("missing_block_arg", BLOCKS + "  - {block: bottleneck, args: {stride: 2}}\n", 8, 31,
        "block 'bottleneck' needs argument 'width'", OPTIONAL_HINT),
    Bad("missing_block_args", BLOCKS + "  - {block: bottleneck}\n", 8, 5,
        "block 'bottleneck' needs argument 'width'", OPTIONAL_HINT),
    Bad("unknown_block_arg", BLOCKS + "  - {block: bottleneck, args: {width: 8, strid: 2}}\n", 8, 42,
        "block 'bottleneck' has no argument 'strid'", "did you mean 'stride'?"),
    # an error in an instance of a block is shown in the block's definition
    Bad("error_inside_block_use", BLOCKS + "  - {name: stage, block: bottleneck, args: {width: 0}}\n", 6, 29,
        "stage.0 (conv2d): out: must be at least 1 (got 0)"),
    # `functional: true`: a function call in forward, so a single layer without parameters or buffers
    Bad("functional_with_parameters", HEAD + "  - {type: conv2d, out: 8, kernel: 3, functional: true}\n", 3, 51,
        "0 (conv2d): `functional: true` needs a layer without parameters or buffers; this conv2d has 224 parameters",
        FUNCTIONAL_HINT),
    Bad("functional_with_buffers", HEAD + "  - {type: batchnorm, affine: false, functional: true}\n", 3, 50,
        "0 (batchnorm): `functional: true` needs a layer without parameters or buffers; this batchnorm has 6 "
        "buffers", FUNCTIONAL_HINT),
    Bad("functional_not_bool", HEAD + "  - {type: relu, functional: yes}\n", 3, 30,
        "`functional` must be true or false"),
    Bad("functional_typo", HEAD + "  - {type: relu, functionl: true}\n", 3, 18,
        "unknown field 'functionl' for layer type 'relu'", "did you mean 'functional'?"),
    Bad("functional_on_a_group", HEAD + "  - {name: head, functional: true, layers: [{type: relu}]}\n", 3, 18,
        "`functional` marks a single layer, not a group", FUNCTIONAL_PLACE),
    Bad("functional_on_a_block_use", BLOCKS + "  - {block: bottleneck, args: {width: 8}, functional: true}\n", 8, 43,
        "`functional` marks a single layer, not a block use", FUNCTIONAL_PLACE),
    Bad("functional_on_a_composite", HEAD + "  - {type: separable, out: 8, kernel: 3, functional: true}\n", 3, 42,
        "`functional` marks a single layer, not layer type 'separable', which expands to several layers",
        FUNCTIONAL_PLACE),
    Bad("error_inside_block_shape", "input: {shape: [3, 4, 4]}\nblocks:\n  pair:\n    args: {kernel: 3}\n    layers:\n"
        "      - {name: conv, type: conv2d, out: 8, kernel: kernel}\n"
        "layers:\n  - {name: small, block: pair}\n  - {name: large, block: pair, args: {kernel: 7}, from: input}\n",
        6, 9,
        "large.conv (conv2d): spatial axis 0 has size 4 (+0 padding), smaller than the effective kernel 7; " + EMPTY,
        "use a larger input, more padding, or a smaller kernel/dilation"),
]


@pytest.mark.parametrize("bad", BAD, ids=[bad.id for bad in BAD])
def test_error_is_located_with_message_and_hint(bad: Bad, spec_file: SpecFile) -> None:
    path = spec_file(bad.text, bad.id)
    code, report = validate_json(path)
    assert code == 1
    errors = report["files"][0]["errors"]
    assert sorted(e["message"] for e in errors) == sorted([bad.message, *bad.also])
    [error] = [e for e in errors if e["message"] == bad.message]
    located = {key: value for key, value in error.items() if key not in ("layer", "type", "field")}
    assert located == {
        "severity": "error",
        "file": str(path),
        "line": bad.line,
        "column": bad.column,
        "message": bad.message,
        "hint": bad.hint,
    }
    if "layer" in error:  # an issue about one layer names it as data, as its message names it for people
        assert bad.message.startswith(f"{error['layer']} ({error['type']}): ")


@pytest.mark.parametrize("bad", BAD, ids=[bad.id for bad in BAD])
def test_text_report_and_analyze_agree(bad: Bad, spec_file: SpecFile) -> None:
    """validate (text) and analyze print the same located errors, each with the source line and a caret
    (validate also says how many layers it could not shape-check: a warning, which a failed analyze omits)."""
    path = spec_file(bad.text, bad.id)
    checked = invoke("validate", str(path))
    analyzed = invoke("analyze", str(path))
    assert (checked.code, analyzed.code) == (1, 1)
    assert analyzed.stdout == ""
    lines = located_lines(checked.stderr, "error")
    assert len(lines) == 1 + len(bad.also)
    assert sorted(lines) == sorted(located_lines(analyzed.stderr))
    assert all(line.startswith(f"{path}:") for line in lines)
    assert f"{path}: {len(lines)} error" in checked.stdout


def test_caret_points_at_the_column(spec_file: SpecFile) -> None:
    path = spec_file(HEAD + "  - {type: conv2d, out: 8, kernel: 3, strid: 2}\n", "caret")
    result = invoke("validate", str(path))
    report = result.stderr.splitlines()
    assert report[0] == f"{path}:3:39: error: unknown field 'strid' for layer type 'conv2d'"
    assert report[1] == "  3 |   - {type: conv2d, out: 8, kernel: 3, strid: 2}"
    assert report[2] == "    | " + " " * 38 + "^"
    assert report[3] == "  hint: did you mean 'stride'?"


# ------------------------------------------------------------------------------------ every error, not the first
SEVERAL = """\
input: {shape: [3, 32, 32]}
blocks:
  unused:
    args: {width: 16}
    layers:
      - {type: conv2d, out: width, kernal: 3}
layers:
  - {name: conv1, type: conv2d, out: 16, kernel: 3, padding: 1, strid: 1}
  - {name: act, type: rellu, from: input}
  - {name: pool, type: maxpool, kernel: 2, from: input}
  - {name: head, type: conv2d, out: 10, kernel: 1, from: pol}
  - {name: wide, type: conv2d, out: 8, kernel: 64, from: input}
"""
SEVERAL_ERRORS = {
    (6, 36): r"unknown field 'kernal'",  # in a block that no layer uses
    (8, 65): r"unknown field 'strid'",
    (9, 23): r"unknown layer type 'rellu'",
    (11, 58): r"unknown reference 'pol'",
    (12, 5): r"wide \(conv2d\): .*kernel 64",
}


def test_validate_reports_every_error_of_a_file(spec_file: SpecFile) -> None:
    path = spec_file(SEVERAL, "several")
    code, report = validate_json(path)
    assert code == 1
    errors = report["files"][0]["errors"]
    assert {(e["line"], e["column"]) for e in errors} == set(SEVERAL_ERRORS), errors
    for error in errors:
        assert re.search(SEVERAL_ERRORS[error["line"], error["column"]], error["message"]), error
    hints = {(e["line"], e["column"]): e["hint"] for e in errors}
    assert hints[6, 36] == "did you mean 'kernel'?"
    assert hints[8, 65] == "did you mean 'stride'?"
    assert hints[9, 23] == "did you mean 'relu'?"
    assert hints[11, 58] == "did you mean 'pool'?"


def test_analyze_reports_every_error_at_the_same_places(spec_file: SpecFile) -> None:
    path = spec_file(SEVERAL, "several")
    result = invoke("analyze", str(path))
    assert result.code == 1
    places = {tuple(map(int, line[len(str(path)) + 1 :].split(":")[:2])) for line in located_lines(result.stderr)}
    assert places == set(SEVERAL_ERRORS)


# ------------------------------------------------------------------------------------------------- JSON output
def test_json_structure(spec_file: SpecFile) -> None:
    bad = spec_file(HEAD + "  - {type: conv2d, out: 8, kernel: 3, strid: 2}\n", "bad")
    good = spec_file(HEAD + "  - {type: conv2d, out: 8, kernel: 3}\n", "good")
    code, report = validate_json(good, bad)
    assert code == 1
    assert set(report) == {"valid", "files"}
    assert report["valid"] is False
    assert [entry["file"] for entry in report["files"]] == [str(good), str(bad)]  # in the order given
    for entry in report["files"]:
        assert set(entry) == {"file", "valid", "errors", "warnings"}
        assert isinstance(entry["errors"], list) and isinstance(entry["warnings"], list)
    good_entry, bad_entry = report["files"]
    assert good_entry["valid"] is True and good_entry["errors"] == []
    assert bad_entry["valid"] is False
    [error] = bad_entry["errors"]
    assert error == {
        "severity": "error",
        "file": str(bad),
        "line": 3,
        "column": 39,
        "message": "unknown field 'strid' for layer type 'conv2d'",
        "hint": "did you mean 'stride'?",
    }


def test_json_warnings_do_not_make_a_spec_invalid(spec_file: SpecFile) -> None:
    path = spec_file("input: {shape: [3, 30, 30]}\nlayers:\n  - {type: patch_embed, patch: 16, dim: 8}\n", "warn")
    code, report = validate_json(path)
    assert code == 0
    assert report["valid"] is True
    entry = report["files"][0]
    assert entry["valid"] is True and entry["errors"] == []
    assert entry["warnings"] == [
        {
            "severity": "warning",
            "file": str(path),
            "line": 3,
            "column": 5,
            "message": f"0 (patch_embed): axis {axis} (30) is not a multiple of the patch (16); the remainder is "
            "dropped",
            "hint": "",
            "layer": "0",
            "type": "patch_embed",
        }
        for axis in (0, 1)
    ]


def test_json_for_files_that_cannot_be_read(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"name: \xff\xfe\n")
    missing = tmp_path / "missing.yaml"
    code, report = validate_json(binary, missing)
    assert code == 2  # a path that does not exist is a usage error, whatever else is wrong
    def refused(path: Path, line: int, column: int, message: str, hint: str) -> dict:
        error = {"severity": "error", "file": str(path), "line": line, "column": column, "message": message}
        return {"file": str(path), "valid": False, "errors": [error | {"hint": hint}], "warnings": []}

    assert report["files"] == [
        refused(binary, 1, 7, "the file is not UTF-8 text (byte 0xff cannot be decoded)",
                "save the spec as UTF-8; binary files are not specs"),
        refused(missing, 0, 0, "no such file or bundled spec", ""),  # no line: the file is not there
    ]


# --------------------------------------------------------------------------------------- several files, exit codes
def test_several_files_in_one_call(spec_file: SpecFile) -> None:
    first = spec_file(HEAD + "  - {type: relu}\n", "first")
    second = spec_file(HEAD + "  - {type: rellu}\n  - {type: conv2d, out: 8, kernel: 3, strid: 1}\n", "second")
    third = spec_file(HEAD + "  - {type: conv2d, out: 8, kernel: 3}\n", "third")
    result = invoke("validate", str(first), str(second), str(third))
    assert result.code == 1
    assert result.stdout.splitlines() == [f"{first}: valid", f"{second}: 2 errors", f"{third}: valid"]
    assert [line.split(": error: ")[0] for line in located_lines(result.stderr)] == [
        f"{second}:3:12",
        f"{second}:4:39",
    ]


def test_exit_codes(spec_file: SpecFile) -> None:
    good = spec_file(HEAD + "  - {type: relu}\n", "good")
    bad = spec_file(HEAD + "  - {type: rellu}\n", "bad")
    missing = good.parent / "missing.yaml"
    assert invoke("validate", str(good)).code == 0
    assert invoke("validate", str(good), "resnet18").code == 0
    assert invoke("validate", str(bad)).code == 1
    assert invoke("validate", str(good), str(bad)).code == 1
    assert invoke("validate", str(missing)).code == 2
    assert invoke("validate", str(good), str(bad), str(missing)).code == 2
    assert invoke("validate").code == 2  # no spec given
    assert invoke("validate", "--format", "xml", str(good)).code == 2
    assert invoke("validate", "--input", "3xbig", str(good)).code == 2
    assert invoke("validate", "--bogus", str(good)).code == 2
    assert invoke("analyze", str(good)).code == 0
    assert invoke("analyze", str(bad)).code == 1
    assert invoke("analyze", str(missing)).code == 2
    assert invoke("analyze", str(good), "--input", "3x0x0").code == 2


def test_input_override_can_make_a_spec_invalid(spec_file: SpecFile) -> None:
    path = spec_file(HEAD + "  - {type: conv2d, out: 8, kernel: 7}\n", "conv")
    assert invoke("validate", str(path)).code == 0
    result = invoke("validate", "--input", "3x4x4", str(path))
    assert result.code == 1
    assert re.search(re.escape(f"{path}:3:5: error: ") + r".*kernel 7", result.stderr)


# ------------------------------------------------------------------------------------------------- the zoo
# Warnings that are the network as it is (the spec's comments explain them): LR-ASPP adds a score map
# upsampled by bilinear interpolation to one that is not, and their units are not centred alike (H and W).
ZOO_WARNINGS = {"lraspp_mobilenet_v3_large": ["classifier.add (add): add: the paths are not aligned"] * 2}


def test_every_bundled_spec_is_valid() -> None:
    paths = sorted(SPECS_DIR.glob("*.yaml"))
    assert [path.stem for path in paths] == sorted(zoo_specs())  # the files the zoo lists, and no other
    code, report = validate_json(*paths)
    for entry, path in zip(report["files"], paths, strict=True):
        warnings = [warning["message"][:52] for warning in entry["warnings"]]
        assert (entry["valid"], entry["errors"], warnings) == (True, [], ZOO_WARNINGS.get(path.stem, [])), path
    assert code == 0
    assert report["valid"] is True
    assert [entry["file"] for entry in report["files"]] == [str(path) for path in paths]


def test_bundled_specs_by_name() -> None:
    names = sorted(zoo_specs())
    assert {"resnet50", "unet"} <= set(names)
    result = invoke("validate", *names)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{SPECS_DIR / name}.yaml: valid" + (f", {len(ZOO_WARNINGS[name])} warnings" if name in ZOO_WARNINGS else "")
        for name in names
    ]


def test_field_error_in_a_block_names_the_block_use(spec_file: SpecFile) -> None:
    path = spec_file(BLOCKS + "  - {name: fine, block: bottleneck, args: {width: 8}}\n"
                     "  - {name: stage, block: bottleneck, args: {width: 0}, from: input}\n", "use")
    code, report = validate_json(path)
    assert code == 1
    [error] = report["files"][0]["errors"]
    assert (error["line"], error["column"]) == (6, 29)  # in the block's definition, named by the use
    assert (error["message"], error["hint"]) == ("stage.0 (conv2d): out: must be at least 1 (got 0)", "")


@pytest.mark.parametrize(
    ("value", "message", "hint"),
    [
        ("[relu]", "unknown layer type ['relu']", "did you mean 'relu'?"),
        ("{name: relu}", "unknown layer type {'name': 'relu'}", "run `cnncalc kinds` to list layer types"),
    ],
)
def test_layer_type_that_is_not_a_name(value: str, message: str, hint: str, spec_file: SpecFile) -> None:
    path = spec_file(HEAD + f"  - {{type: {value}}}\n", "type_list")
    code, report = validate_json(path)
    assert code == 1
    [error] = report["files"][0]["errors"]
    assert (error["line"], error["column"], error["message"], error["hint"]) == (3, 12, message, hint)
