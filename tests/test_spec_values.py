"""How a spec's YAML values are read: the same numbers whatever YAML library is installed, YAML 1.2 rules for
plain scalars, no booleans or non-finite floats where numbers go, and located errors with hints otherwise.

Every spec is checked through the command line (`validate --format json`, `analyze`), as a user meets it.
`HEAD` takes lines 1-2, so the first layer entry is on line 3 and its `{` is column 5 (`  - {`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from clirunner import HEAD, checked_spec, write_spec

from cnncalc.base import limits
from cnncalc.engine import analyze_text
from cnncalc.language import yaml_source

LOADERS = [
    pytest.param(
        getattr(yaml, "CSafeLoader", None),
        id="libyaml",
        marks=pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML without libyaml"),
    ),
    pytest.param(yaml.SafeLoader, id="pure-python"),
]


@pytest.fixture(params=LOADERS)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> type:
    """Each YAML loader in turn, as the one cnncalc reads specs with."""
    monkeypatch.setattr(yaml_source, "_Loader", request.param)
    return request.param


@dataclass
class Outcome:
    code: int
    errors: list[dict]
    warnings: list[dict]


def check(tmp_path: Path, text: str) -> Outcome:
    """`validate --format json` and `analyze` on one spec; both must agree on the exit code."""
    code, entry = checked_spec(write_spec(tmp_path, text))
    return Outcome(code, entry["errors"], entry["warnings"])


def only_error(outcome: Outcome) -> dict:
    assert outcome.code == 1, outcome
    assert len(outcome.errors) == 1, outcome.errors
    return outcome.errors[0]


def place(error: dict) -> tuple[int, int]:
    return error["line"], error["column"]


def value_column(entry: str, key: str) -> int:
    """1-based column of the value of `key: ` in a layer line written as `  - {...}`."""
    return len("  - ") + entry.index(f"{key}: ") + len(key) + 2 + 1


# ------------------------------------------------------------------------ nesting, whatever the parser (item 1)
DEPTH = limits.MAX_YAML_DEPTH
DEEP = [
    # (id, text, line, column where the nesting passes the limit: the first bracket beyond it)
    ("flow_list_10000", "x: " + "[" * 10_000 + "]" * 10_000 + "\n", 1, 3 + DEPTH),
    ("flow_list_1001", "x: " + "[" * 1_001 + "]" * 1_001 + "\n", 1, 3 + DEPTH),
    # the root mapping is level 1, `{` level 2, the k-th `[` level k + 2: level 65 is the 63rd `[`, at column 11 + 62
    ("after_valid_lines", HEAD + "  - {type: relu}\n" + "vars: {x: " + "[" * 5_000 + "}\n", 4, 11 + DEPTH - 2),
    ("mixed_brackets", "x: " + "[{a: " * 2_000 + "\n", 1, 4 + 5 * (DEPTH // 2 - 1) + 1),
]


@pytest.mark.parametrize(("text", "line", "column"), [case[1:] for case in DEEP], ids=[case[0] for case in DEEP])
def test_nesting_limit_is_cnncalcs_whatever_the_parser(
    loader: type, text: str, line: int, column: int, tmp_path: Path
) -> None:
    error = only_error(check(tmp_path, text))
    assert error["message"] == f"values are nested more than {DEPTH} levels deep"
    assert place(error) == (line, column)
    assert error["hint"] == "flatten the structure; real specs nest a few levels"


def test_nesting_refused_far_into_a_long_file(loader: type, tmp_path: Path) -> None:
    """Past the re-reading limit the nesting error keeps cnncalc's wording and line, wherever the parser stopped."""
    filler = "".join(f"# comment line {index} " + "." * 60 + "\n" for index in range(5_000))
    assert len(filler) > yaml_source._REPARSE_LIMIT_CHARS
    error = only_error(check(tmp_path, HEAD + "  - {type: relu}\n" + filler + "x: " + "[" * 3_000 + "\n"))
    assert error["message"] == f"values are nested more than {DEPTH} levels deep"
    assert error["line"] == 4 + 5_000
    # pure Python: the first bracket beyond the limit; libyaml: where it refused, 1,000 levels in (too far on
    # to re-read and place the error exactly)
    assert error["column"] == (3 + DEPTH if loader is yaml.SafeLoader else 3 + 1_000)


# ---------------------------------------------------------------------------------------- tabs (item 3)
TABS = [
    ("tab_before_key", "input:\n\tshape: [3, 32, 32]\nlayers:\n  - {type: relu}\n", 2, 1),
    ("tab_after_spaces", "input:\n  \tshape: [3, 32, 32]\nlayers:\n  - {type: relu}\n", 2, 3),
    ("tab_in_a_layer", "input: {shape: [3, 32, 32]}\nlayers:\n  - type: relu\n\t  inplace: true\n", 4, 1),
]


@pytest.mark.parametrize(("text", "line", "column"), [case[1:] for case in TABS], ids=[case[0] for case in TABS])
def test_tab_in_indentation_gets_a_hint(loader: type, text: str, line: int, column: int, tmp_path: Path) -> None:
    error = only_error(check(tmp_path, text))
    assert place(error) == (line, column)
    assert error["message"].startswith("invalid YAML: ")
    assert error["hint"] == "YAML does not allow tabs in indentation: replace tabs with spaces"


def test_tab_inside_a_value_keeps_the_general_hint(tmp_path: Path) -> None:
    error = only_error(check(tmp_path, HEAD + "  - {type: relu, name: [a\tb}\n"))
    assert error["hint"] == "check indentation, colons and brackets near this position"


# ------------------------------------------------------------------------------- zero where 1 is the least (4)
ZERO_FIELDS = [
    # (layer, field)
    ("{type: conv2d, out: 8, kernel: 3, stride: 0}", "stride"),
    ("{type: conv2d, out: 8, kernel: 0}", "kernel"),
    ("{type: conv2d, out: 8, kernel: 3, dilation: 0}", "dilation"),
    ("{type: conv2d, out: 8, kernel: 3, groups: 0}", "groups"),
    ("{type: conv2d, out: 0, kernel: 3}", "out"),
    ("{type: maxpool2d, kernel: 2, stride: 0}", "stride"),
    ("{type: maxpool2d, kernel: 0}", "kernel"),
    ("{type: linear, out: 0}", "out"),
]


@pytest.mark.parametrize(("layer", "field"), ZERO_FIELDS, ids=[f"{c[0][7:13]}-{c[1]}" for c in ZERO_FIELDS])
def test_zero_says_must_be_at_least_one(layer: str, field: str, tmp_path: Path) -> None:
    error = only_error(check(tmp_path, HEAD + f"  - {layer}\n"))
    assert error["message"] == f"0 ({layer[7:].split(',')[0]}): {field}: must be at least 1 (got 0)"
    assert error["hint"] == ""
    assert place(error) == (3, value_column(layer, field))


def test_zero_in_a_list_points_at_the_item(tmp_path: Path) -> None:
    error = only_error(check(tmp_path, HEAD + "  - {type: conv2d, out: 8, kernel: [3, 0]}\n"))
    assert error["message"] == "0 (conv2d): kernel.1: must be at least 1 (got 0)"
    assert place(error) == (3, len("  - {type: conv2d, out: 8, kernel: [3, ") + 1)


def test_too_large_says_must_be_at_most(tmp_path: Path) -> None:
    error = only_error(check(tmp_path, "input: {shape: [3, 32, 32], batch: 3000000000}\nlayers:\n  - {type: relu}\n"))
    assert error["message"] == f"input.batch: must be at most {limits.MAX_DIMENSION} (got 3000000000)"
    assert place(error) == (1, 36)


# ------------------------------------------------------------------------------ non-finite numbers (item 9)
@pytest.mark.parametrize("literal", [".inf", "-.inf", ".NaN", ".nan", "+.Inf", "1e400"])
def test_non_finite_float_literal_is_a_located_error(literal: str, tmp_path: Path) -> None:
    error = only_error(check(tmp_path, HEAD + f"  - {{type: upsample, scale: {literal}}}\n"))
    assert error["message"] == f"{literal!r} is not a finite number"
    assert place(error) == (3, 29)


NON_FINITE_HINT = "write a finite number; YAML reads .inf, .nan and numbers beyond 1.8e308 as non-finite floats"
ONE_ERROR = [
    # (id, spec, message, hint, (line, column))
    ("non_finite_anywhere", "input: {shape: [3, 32, .inf]}\nlayers:\n  - {type: relu}\n",
     "'.inf' is not a finite number", NON_FINITE_HINT, (1, 24)),
    # an expression beyond any network is refused before it overflows
    ("expression_overflow", HEAD + '  - {type: upsample, scale: "1e308*10"}\n',
     "0 (upsample): scale: cannot evaluate '1e308*10': the result is too large for any real network", "", (3, 29)),
    # YAML 1.1 surprises (item 11)
    ("leading_zero", HEAD + "  - {type: conv2d, out: 010, kernel: 3}\n", "the number '010' has a leading zero",
     "a leading zero is read as octal by YAML 1.1 and as decimal by YAML 1.2; write 10 (or 0o10 for octal)",
     (3, 25)),
    ("base_60", HEAD + "  - {type: conv2d, out: 8, kernel: 1:30}\n",
     "0 (conv2d): kernel: cannot evaluate '1:30': '1:30' is not a valid expression",
     "YAML 1.1 reads 1:30 as a base-60 number; cnncalc reads YAML 1.2, where it is text: write the number itself",
     (3, 36)),
]


@pytest.mark.parametrize(("text", "message", "hint", "where"), [case[1:] for case in ONE_ERROR],
                         ids=[case[0] for case in ONE_ERROR])
def test_one_located_error_with_its_hint(text: str, message: str, hint: str, where: tuple[int, int],
                                         tmp_path: Path) -> None:
    error = only_error(check(tmp_path, text))
    assert (error["message"], error["hint"], place(error)) == (message, hint, where)


@pytest.mark.parametrize("word", ["yes", "no", "on", "off"])
def test_yaml_11_booleans_are_text(word: str, tmp_path: Path) -> None:
    error = only_error(check(tmp_path, HEAD + f"  - {{type: conv2d, out: 8, kernel: 3, bias: {word}}}\n"))
    assert error["message"] == (
        f"0 (conv2d): bias: cannot evaluate '{word}': unknown variable '{word}' "
        "(known here: in_channels, in_features, index)"
    )
    assert error["hint"] == f"{word} is true or false in YAML 1.1 but text in YAML 1.2: write true or false"
    assert place(error) == (3, 45)


def test_yaml_12_octal_and_hex_are_numbers() -> None:
    result = analyze_text(HEAD + "  - {type: conv2d, out: 0x10, kernel: 3, bias: false}\n"
                          "  - {type: conv2d, out: 0o17, kernel: 1, bias: false}\n")
    first, second = result.layers
    assert (first.output_shape[1], first.params) == (16, 16 * 3 * 3 * 3)
    assert (second.output_shape[1], second.params) == (15, 15 * 16)


def test_exponent_without_dot_is_a_number() -> None:
    result = analyze_text("input: {shape: [3, 8, 8]}\nlayers:\n  - {type: conv2d, out: 1e1, kernel: 1, bias: false}\n")
    assert result.layers[0].params == 10 * 3


BOOLEANS_FOR_NUMBERS = [
    # (layer, field, message)
    ("{type: conv2d, out: true, kernel: 3}", "out", "0 (conv2d): out: expected a number, got true"),
    ("{type: conv2d, out: 8, kernel: 3, stride: false}", "stride", "0 (conv2d): stride: expected a number, got false"),
    ("{type: conv2d, out: 8, kernel: [3, true]}", "kernel", "0 (conv2d): kernel: expected a number, got [3, True]"),
    ('{type: conv2d, out: "1 == 1", kernel: 3}', "out", "0 (conv2d): out: '1 == 1' gives true or false, not a number"),
    ("{type: dropout, p: true}", "p", "0 (dropout): p: expected a number, got true"),
    ("{type: flatten, start_dim: true}", "start_dim", "0 (flatten): start_dim: expected a number, got true"),
    ("{type: relu, repeat: true}", "repeat", "repeat must be a whole number from 1 to 10,000, got True"),
]


@pytest.mark.parametrize(("layer", "field", "message"), BOOLEANS_FOR_NUMBERS,
                         ids=[f"{case[0][7:13]}-{case[1]}" for case in BOOLEANS_FOR_NUMBERS])
def test_boolean_is_never_a_number(layer: str, field: str, message: str, tmp_path: Path) -> None:
    error = only_error(check(tmp_path, HEAD + f"  - {layer}\n"))
    assert error["message"] == message
    assert place(error) == (3, value_column(layer, field))


@pytest.mark.parametrize(("input_section", "message", "column"), [
    ("{shape: [3, 32, 32], batch: true}", "input.batch: should be a whole number, not true or false (got True)", 36),
    ("{shape: [true, 32, 32]}", "input.shape.0: should be a whole number, not true or false (got True)", 17),
])
def test_boolean_is_never_an_input_size(input_section: str, message: str, column: int, tmp_path: Path) -> None:
    outcome = check(tmp_path, f"input: {input_section}\nlayers:\n  - {{type: relu}}\n")
    error = only_error(outcome)
    assert (error["message"], place(error)) == (message, (1, column))


def test_genuine_booleans_keep_working(tmp_path: Path) -> None:
    text = (
        "input: {shape: [3, 9, 9]}\nlayers:\n"
        "  - {type: conv2d, out: 4, kernel: 3, bias: false, frozen: true}\n"
        "  - {type: conv2d, out: 4, kernel: 1, bias: true, when: false}\n"
        "  - {type: maxpool2d, kernel: 2, ceil_mode: true}\n"
        '  - {type: conv2d, out: 2, kernel: 1, bias: True, when: "in_channels == 4"}\n'
    )
    outcome = check(tmp_path, text)
    assert (outcome.code, outcome.errors) == (0, [])
    result = analyze_text(text)
    assert [row.params for row in result.layers] == [4 * 3 * 9, 0, 2 * 4 + 2]
    assert [row.trainable for row in result.layers] == [False, True, True]
    assert result.layers[1].output_shape == (1, 4, 4, 4)  # ceil((7 - 2) / 2) + 1 = 4 with ceil_mode
