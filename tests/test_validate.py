"""`cnncalc validate`: every error of a spec, at file:line:column, with a hint; JSON output; exit codes.

The specs are written here with known positions: `HEAD` takes lines 1-2, so the first layer entry is line 3,
and its `{` is column 5 (`  - {`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli.app import app
from cnncalc.language.zoo import zoo_specs

runner = CliRunner()
HEAD = "input: {shape: [3, 32, 32]}\nlayers:\n"
SPECS_DIR = Path(__file__).resolve().parent.parent / "specs"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def invoke(*args: str) -> Result:
    result = runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "160"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"cnncalc {' '.join(args)} raised {result.exception!r}") from result.exception
    assert "Traceback" not in result.stderr
    return Result(result.exit_code, result.stdout, result.stderr)


def validate_json(*paths: Path | str) -> tuple[int, dict]:
    result = invoke("validate", "--format", "json", *map(str, paths))
    return result.code, json.loads(result.stdout)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def located_lines(text: str, severities: str = "error|warning") -> list[str]:
    """The `file:line:column: severity: message` lines of a text report."""
    return [line for line in text.splitlines() if re.match(rf"\S+:\d+:\d+: ({severities}): ", line)]


# ------------------------------------------------------------------------------------- one error, exactly placed
@dataclass(frozen=True)
class Bad:
    id: str
    text: str
    line: int
    column: int | tuple[int, ...]  # a tuple: any of these columns is right
    message: str  # regex
    hint: str | None = None  # regex the hint must match; None: no requirement


BLOCKS = """\
input: {shape: [3, 32, 32]}
blocks:
  bottleneck:
    args: {width: null, stride: 1}
    layers:
      - {type: conv2d, out: width, kernel: 3, stride: stride, padding: 1}
layers:
"""  # block uses start on line 8

BAD = [
    # unknown layer types and fields, with "did you mean"
    Bad("type_with_space", HEAD + "  - {type: conv2 d, out: 8, kernel: 3}\n", 3, 12,
        r"unknown layer type 'conv2 d'", r"did you mean 'conv2d'\?"),
    Bad("type_typo", HEAD + "  - {type: convv2d, out: 8, kernel: 3}\n", 3, 12,
        r"unknown layer type 'convv2d'", r"did you mean 'conv2d'\?"),
    Bad("type_far_off", HEAD + "  - {type: transformer_xl}\n", 3, 12,
        r"unknown layer type 'transformer_xl'", r"\S"),
    Bad("field_typo", HEAD + "  - type: conv2d\n    out: 8\n    kernel: 3\n    strid: 2\n", 6, 5,
        r"unknown field 'strid' for layer type 'conv2d'", r"did you mean 'stride'\?"),
    Bad("top_level_field_typo", "input: {shape: [3, 32, 32]}\nlayer:\n  - {type: relu}\n", 2, 1,
        r"unknown field 'layer'", r"did you mean 'layers'\?"),
    Bad("input_field_typo", "input: {shape: [3, 32, 32], bach: 2}\nlayers:\n  - {type: relu}\n", 1, 29,
        r"unknown field 'bach' in input", r"did you mean 'batch'\?"),
    Bad("missing_field", HEAD + "  - {type: conv2d, kernel: 3}\n", 3, 5, r"missing required field 'out'"),
    Bad("missing_layers", "input: {shape: [3, 32, 32]}\n", 1, 1, r"missing required field 'layers'"),
    # wrong types
    Bad("out_not_a_variable", HEAD + "  - {type: conv2d, out: abc, kernel: 3}\n", 3, 25,
        r"out: cannot evaluate 'abc': unknown variable 'abc' \(known here: .*\)"),
    Bad("variable_typo", "vars: {width: 16}\n" + HEAD + "  - {type: conv2d, out: widht, kernel: 3}\n", 4, 25,
        r"unknown variable 'widht' \(did you mean 'width'\?\)"),
    # the list [3, x] starts at column 36, its `x` is at column 40
    Bad("name_in_kernel_list", HEAD + "  - {type: conv2d, out: 8, kernel: [3, x]}\n", 3, (36, 40),
        r"kernel: cannot evaluate .*unknown variable 'x'"),
    Bad("kernel_mapping", HEAD + "  - {type: conv2d, out: 8, kernel: {h: 3}}\n", 3, 36,
        r"kernel: should be a valid integer or should be a valid list"),
    Bad("kernel_item_zero", HEAD + "  - {type: conv2d, out: 8, kernel: [3, 0]}\n", 3, 40,
        r"kernel.1: must be at least 1 \(got 0\)"),
    Bad("out_fraction", HEAD + "  - {type: conv2d, out: 2.5, kernel: 3}\n", 3, 25, r"out: .*integer.*\(got 2.5\)"),
    Bad("bias_not_bool", HEAD + "  - {type: conv2d, out: 8, kernel: 3, bias: [1]}\n", 3, 45, r"bias: .*bool"),
    Bad("shape_as_text", "input: {shape: 3x32x32}\nlayers:\n  - {type: relu}\n", 1, 16,
        r"input.shape: should be a valid list \(got '3x32x32'\)"),
    Bad("shape_too_short", "input: {shape: [3]}\nlayers:\n  - {type: relu}\n", 1, 16, r"input.shape: .*at least 2"),
    # impossible shapes (reported at the layer entry, with a hint)
    Bad("kernel_larger_than_input", "input: {shape: [3, 8, 8]}\nlayers:\n  - {type: conv2d, out: 8, kernel: 9}\n",
        3, 5, r"kernel", r"\S"),
    Bad("add_channel_mismatch",
        HEAD + "  - {name: a, type: conv2d, out: 16, kernel: 1}\n"
        "  - {name: b, type: conv2d, out: 32, kernel: 1, from: input}\n"
        "  - {name: sum, type: add, from: [a, b]}\n",
        5, 5, r"sum \(add\): .*\(1, 16, 32, 32\).*\(1, 32, 32, 32\)", r"channels differ \(16 vs 32\)"),
    Bad("concat_spatial_mismatch",
        HEAD + "  - {name: a, type: conv2d, out: 16, kernel: 1}\n"
        "  - {name: b, type: maxpool, kernel: 2, from: input}\n"
        "  - {name: cat, type: concat, from: [a, b]}\n",
        5, 5, r"cat \(concat\): .*differ on axis 2", r"\S"),
    Bad("groups_do_not_divide", HEAD + "  - {type: conv2d, out: 8, kernel: 3, groups: 2}\n", 3, 5,
        r"groups=2 does not divide the 3 input channels", r"divisors of 3"),
    # references, cycles, names
    Bad("unknown_reference",
        HEAD + "  - {name: conv1, type: conv2d, out: 8, kernel: 3}\n  - {type: relu, from: conv1x}\n", 4, 24,
        r"unknown reference 'conv1x'", r"did you mean 'conv1'\?"),
    Bad("unknown_reference_in_list",
        HEAD + "  - {name: conv1, type: conv2d, out: 8, kernel: 1}\n  - {type: add, from: [conv1, inptu]}\n", 4, 31,
        r"unknown reference 'inptu'", r"did you mean 'input'\?"),
    Bad("cycle",
        HEAD + "  - {name: a, type: relu, from: b}\n  - {name: b, type: relu, from: a}\n", 3, 5,
        r"cycle: a -> b -> a", r"\S"),
    Bad("duplicate_name", HEAD + "  - {name: p, type: relu}\n  - {name: p, type: relu}\n", 4, 12,
        r"name 'p' is already used", r"unique"),
    Bad("reserved_name", HEAD + "  - {name: input, type: relu}\n", 3, 12, r"'input' is a reserved name", r"\S"),
    # blocks
    Bad("unknown_block", BLOCKS + "  - {block: botleneck, args: {width: 8}}\n", 8, 13,
        r"unknown block 'botleneck'", r"did you mean 'bottleneck'\?"),
    Bad("unknown_block_no_blocks", HEAD + "  - {block: bottleneck}\n", 3, 13,
        r"unknown block 'bottleneck'", r"blocks:"),
    Bad("missing_block_arg", BLOCKS + "  - {block: bottleneck, args: {stride: 2}}\n", 8, 31,
        r"block 'bottleneck' needs argument 'width'"),
    Bad("missing_block_args", BLOCKS + "  - {block: bottleneck}\n", 8, 5, r"block 'bottleneck' needs argument 'width'"),
    Bad("unknown_block_arg", BLOCKS + "  - {block: bottleneck, args: {width: 8, strid: 2}}\n", 8, 42,
        r"block 'bottleneck' has no argument 'strid'", r"did you mean 'stride'\?"),
    # an error in an instance of a block is shown in the block's definition
    Bad("error_inside_block_use", BLOCKS + "  - {name: stage, block: bottleneck, args: {width: 0}}\n", 6, 29,
        r"out: must be at least 1 \(got 0\)"),
    Bad("error_inside_block_shape",
        "input: {shape: [3, 4, 4]}\nblocks:\n  pair:\n    args: {kernel: 3}\n    layers:\n"
        "      - {name: conv, type: conv2d, out: 8, kernel: kernel}\n"
        "layers:\n  - {name: small, block: pair}\n  - {name: large, block: pair, args: {kernel: 7}, from: input}\n",
        6, 9, r"large\.conv \(conv2d\): .*kernel 7", r"\S"),
]


@pytest.mark.parametrize("bad", BAD, ids=[bad.id for bad in BAD])
def test_error_is_located_with_message_and_hint(bad: Bad, tmp_path: Path) -> None:
    path = write(tmp_path, bad.id, bad.text)
    code, report = validate_json(path)
    assert code == 1
    errors = report["files"][0]["errors"]
    columns = bad.column if isinstance(bad.column, tuple) else (bad.column,)
    matching = [e for e in errors if re.search(bad.message, e["message"])]
    assert matching, f"no error matching {bad.message!r}: {errors}"
    error = matching[0]
    assert (error["line"], error["file"]) == (bad.line, str(path)), error
    assert error["column"] in columns, error
    if bad.hint is not None:
        assert re.search(bad.hint, error["hint"]), error


@pytest.mark.parametrize("bad", BAD, ids=[bad.id for bad in BAD])
def test_text_report_and_analyze_agree(bad: Bad, tmp_path: Path) -> None:
    """validate (text) and analyze print the same located errors, each with the source line and a caret
    (validate also says how many layers it could not shape-check: a warning, which a failed analyze omits)."""
    path = write(tmp_path, bad.id, bad.text)
    checked = invoke("validate", str(path))
    analyzed = invoke("analyze", str(path))
    assert (checked.code, analyzed.code) == (1, 1)
    assert analyzed.stdout == ""
    lines = located_lines(checked.stderr, "error")
    assert lines
    assert sorted(lines) == sorted(located_lines(analyzed.stderr))
    assert all(line.startswith(f"{path}:") for line in lines)
    assert f"{path}: {len(lines)} error" in checked.stdout


def test_caret_points_at_the_column(tmp_path: Path) -> None:
    path = write(tmp_path, "caret", HEAD + "  - {type: conv2d, out: 8, kernel: 3, strid: 2}\n")
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


def test_validate_reports_every_error_of_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, "several", SEVERAL)
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


def test_analyze_reports_every_error_at_the_same_places(tmp_path: Path) -> None:
    path = write(tmp_path, "several", SEVERAL)
    result = invoke("analyze", str(path))
    assert result.code == 1
    places = {tuple(map(int, line[len(str(path)) + 1 :].split(":")[:2])) for line in located_lines(result.stderr)}
    assert places == set(SEVERAL_ERRORS)


# ------------------------------------------------------------------------------------------------- JSON output
def test_json_structure(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad", HEAD + "  - {type: conv2d, out: 8, kernel: 3, strid: 2}\n")
    good = write(tmp_path, "good", HEAD + "  - {type: conv2d, out: 8, kernel: 3}\n")
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


def test_json_warnings_do_not_make_a_spec_invalid(tmp_path: Path) -> None:
    path = write(tmp_path, "warn", "input: {shape: [3, 30, 30]}\nlayers:\n  - {type: patch_embed, patch: 16, dim: 8}\n")
    code, report = validate_json(path)
    assert code == 0
    assert report["valid"] is True
    entry = report["files"][0]
    assert entry["valid"] is True and entry["errors"] == []
    assert entry["warnings"]
    for warning in entry["warnings"]:
        assert warning["severity"] == "warning"
        assert (warning["file"], warning["line"], warning["column"]) == (str(path), 3, 5)
        assert "not a multiple of the patch" in warning["message"]


def test_json_for_files_that_cannot_be_read(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"name: \xff\xfe\n")
    missing = tmp_path / "missing.yaml"
    code, report = validate_json(binary, missing)
    assert code == 2  # a path that does not exist is a usage error, whatever else is wrong
    by_file = {entry["file"]: entry for entry in report["files"]}
    assert by_file[str(binary)]["valid"] is False
    assert by_file[str(binary)]["errors"][0]["line"] == 1
    assert by_file[str(binary)]["errors"][0]["column"] == 7
    assert "not UTF-8" in by_file[str(binary)]["errors"][0]["message"]
    assert by_file[str(missing)]["valid"] is False
    assert "no such file" in by_file[str(missing)]["errors"][0]["message"]


# --------------------------------------------------------------------------------------- several files, exit codes
def test_several_files_in_one_call(tmp_path: Path) -> None:
    first = write(tmp_path, "first", HEAD + "  - {type: relu}\n")
    second = write(tmp_path, "second", HEAD + "  - {type: rellu}\n  - {type: conv2d, out: 8, kernel: 3, strid: 1}\n")
    third = write(tmp_path, "third", HEAD + "  - {type: conv2d, out: 8, kernel: 3}\n")
    result = invoke("validate", str(first), str(second), str(third))
    assert result.code == 1
    assert result.stdout.splitlines() == [f"{first}: valid", f"{second}: 2 errors", f"{third}: valid"]
    assert [line.split(": error: ")[0] for line in located_lines(result.stderr)] == [
        f"{second}:3:12",
        f"{second}:4:39",
    ]


def test_exit_codes(tmp_path: Path) -> None:
    good = write(tmp_path, "good", HEAD + "  - {type: relu}\n")
    bad = write(tmp_path, "bad", HEAD + "  - {type: rellu}\n")
    missing = tmp_path / "missing.yaml"
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


def test_input_override_can_make_a_spec_invalid(tmp_path: Path) -> None:
    path = write(tmp_path, "conv", HEAD + "  - {type: conv2d, out: 8, kernel: 7}\n")
    assert invoke("validate", str(path)).code == 0
    result = invoke("validate", "--input", "3x4x4", str(path))
    assert result.code == 1
    assert re.search(re.escape(f"{path}:3:5: error: ") + r".*kernel 7", result.stderr)


# ------------------------------------------------------------------------------------------------- the zoo
def test_every_bundled_spec_is_valid() -> None:
    paths = sorted(SPECS_DIR.glob("*.yaml"))
    assert len(paths) >= 20
    code, report = validate_json(*paths)
    for entry in report["files"]:
        assert entry["valid"], (entry["file"], entry["errors"])
        assert entry["errors"] == []
    assert code == 0
    assert report["valid"] is True
    assert [entry["file"] for entry in report["files"]] == [str(path) for path in paths]


def test_bundled_specs_by_name() -> None:
    names = sorted(zoo_specs())
    assert {"resnet50", "unet"} <= set(names)
    result = invoke("validate", *names)
    assert result.code == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(names)
    assert all(line.endswith(": valid") for line in result.stdout.splitlines())


def test_field_error_in_a_block_names_the_block_use(tmp_path: Path) -> None:
    path = write(tmp_path, "use", BLOCKS + "  - {name: fine, block: bottleneck, args: {width: 8}}\n"
                 "  - {name: stage, block: bottleneck, args: {width: 0}, from: input}\n")
    code, report = validate_json(path)
    assert code == 1
    [error] = report["files"][0]["errors"]
    assert (error["line"], error["column"]) == (6, 29)
    assert "stage" in error["message"] or "stage" in error["hint"], error


@pytest.mark.parametrize("value", ["[relu]", "{name: relu}"])
def test_layer_type_that_is_not_a_name(value: str, tmp_path: Path) -> None:
    path = write(tmp_path, "type_list", HEAD + f"  - {{type: {value}}}\n")
    code, report = validate_json(path)
    assert code == 1
    [error] = report["files"][0]["errors"]
    assert (error["line"], error["column"]) == (3, 12)
    assert "unknown layer type" in error["message"]
