"""Expressions in specs: each distinct text is parsed once however often it is used, and an expression that
YAML cut at a comma is reported as such, with the quoted expression as the hint."""

from __future__ import annotations

from pathlib import Path

import pytest
from clirunner import HEAD, checked_spec, write_spec

from cnncalc.engine import analyze_text, check_text
from cnncalc.language import expressions

# ------------------------------------------------------------------------------ parse once per text (item 10)
OUT = "make_divisible(width * 2 + in_channels // 4, 8)"
KERNEL = "3 if width % 16 == 0 else 1"
PADDING = "(3 if width % 16 == 0 else 1) // 2"
WIDTH = "8 * (index % 4 + 1)"
REPEATS = 40
REPEATED_BLOCK = f"""\
input: {{shape: [8, 16, 16]}}
blocks:
  unit:
    args: {{width: 8}}
    layers:
      - {{type: conv2d, out: "{OUT}", kernel: "{KERNEL}", padding: "{PADDING}", bias: false}}
      - {{type: conv2d, out: "{OUT}", kernel: 1, bias: false}}
      - {{type: conv2d, out: 8, kernel: "{KERNEL}", padding: "{PADDING}", bias: false}}
layers:
  - {{block: unit, repeat: {REPEATS}, args: {{width: "{WIDTH}"}}}}
"""


@pytest.fixture
def parse_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text handed to the expression parser, from an empty cache on."""
    cache = getattr(expressions, "checked_tree", None)
    if cache is not None:
        cache.cache_clear()
    calls: list[str] = []
    parse = expressions._parse

    def counting(text: str):
        calls.append(text)
        return parse(text)

    monkeypatch.setattr(expressions, "_parse", counting)
    yield calls
    if cache is not None:
        cache.cache_clear()  # the trees parsed by the counting parser are fine, but start the next test clean


def test_each_expression_text_is_parsed_once(parse_calls: list[str]) -> None:
    result = analyze_text(REPEATED_BLOCK)
    assert len(result.layers) == 3 * REPEATS
    assert sorted(parse_calls) == sorted({OUT, KERNEL, PADDING, WIDTH})


def test_cached_expressions_still_see_their_own_variables(parse_calls: list[str]) -> None:
    """The cache keeps syntax trees, never values: each instance evaluates with its own index and input."""
    result = analyze_text(REPEATED_BLOCK)
    outs = set()
    for index in range(REPEATS):
        first, second, third = result.layers[3 * index : 3 * index + 3]
        width = 8 * (index % 4 + 1)
        kernel = 3 if width % 16 == 0 else 1
        out1 = expressions.make_divisible(width * 2 + 8 // 4, 8)  # each block instance reads 8 channels
        out2 = expressions.make_divisible(width * 2 + out1 // 4, 8)
        assert first.output_shape == (1, out1, 16, 16), index
        assert (first.params, second.params, third.params) == (
            out1 * 8 * kernel * kernel,
            out2 * out1,
            8 * out2 * kernel * kernel,
        ), index
        outs.add(out1)
    assert len(outs) == 4  # the instances really differ
    assert len(parse_calls) == 4


def test_a_refused_expression_is_refused_every_time(parse_calls: list[str]) -> None:
    text = HEAD + '  - {type: conv2d, out: "1 << 3", kernel: 1}\n'
    text += '  - {type: conv2d, out: "1 << 3", kernel: 1, from: input}\n'
    errors = [issue for issue in check_text(text) if issue.severity == "error"]
    assert [(issue.location.line, issue.message) for issue in errors] == [
        (3, "0 (conv2d): out: cannot evaluate '1 << 3': operator << is not allowed in expressions"),
        (4, "1 (conv2d): out: cannot evaluate '1 << 3': operator << is not allowed in expressions"),
    ]


# --------------------------------------------------------------------- expressions cut at a comma (item 7)
def validate(tmp_path: Path, text: str) -> tuple[int, list[dict]]:
    code, entry = checked_spec(write_spec(tmp_path, text))
    return code, entry["errors"]


CUT = [
    # (entry, field, the stray keys as the message names them, the expression as written)
    ("{type: conv2d, out: make_divisible(30, 8), kernel: 3}", "out", "'8)' as a field of its own",
     "make_divisible(30, 8)"),
    ("{type: conv2d, out: max(1, min(4, 8)), kernel: 3}", "out", "'min(4', '8))' as fields of their own",
     "max(1, min(4, 8))"),
    ("{type: conv2d, kernel: 3, out: make_divisible(30, 8, 16)}", "out", "'8', '16)' as fields of their own",
     "make_divisible(30, 8, 16)"),
]


@pytest.mark.parametrize(("entry", "field", "strays", "expression"), CUT, ids=["two_args", "nested", "three_args"])
def test_expression_cut_at_a_comma_is_reported_at_its_field(
    entry: str, field: str, strays: str, expression: str, tmp_path: Path
) -> None:
    code, errors = validate(tmp_path, HEAD + f"  - {entry}\n")
    assert code == 1
    [error] = errors
    assert error["message"] == f"the expression of {field!r} is cut at a comma: YAML reads {strays}"
    assert error["hint"] == f'quote the expression: {field}: "{expression}"'
    assert (error["line"], error["column"]) == (3, len("  - ") + entry.index(f"{field}: ") + len(field) + 3)


def test_quoted_expression_with_a_comma_works() -> None:
    result = analyze_text(HEAD + '  - {type: conv2d, out: "make_divisible(30, 8)", kernel: 3, bias: false}\n')
    assert result.layers[0].output_shape[1] == 32  # 30 rounds to the nearest multiple of 8


def test_expression_cut_in_block_arguments(tmp_path: Path) -> None:
    text = (
        "input: {shape: [3, 32, 32]}\nblocks:\n  b:\n    args: {width: 8}\n    layers:\n"
        "      - {type: conv2d, out: width, kernel: 1}\nlayers:\n"
        "  - {block: b, args: {width: make_divisible(30, 8)}}\n"
    )
    code, errors = validate(tmp_path, text)
    assert code == 1
    [error] = errors
    assert error["message"] == "the expression of 'width' is cut at a comma: YAML reads '8)' as a field of its own"
    assert error["hint"] == 'quote the expression: width: "make_divisible(30, 8)"'
    assert (error["line"], error["column"]) == (8, text.splitlines()[7].index("make_") + 1)


def test_expression_cut_in_a_list_gets_a_hint(tmp_path: Path) -> None:
    code, errors = validate(tmp_path, HEAD + "  - {type: conv2d, out: 8, kernel: [max(1, 2), 3]}\n")
    assert code == 1
    [error] = errors
    assert error["message"] == (
        "0 (conv2d): kernel: cannot evaluate ['max(1', '2)', 3]: 'max(1' is not a valid expression"
    )
    assert error["hint"] == (
        "inside `{...}` and `[...]` an unquoted expression ends at its first comma: quote the expression"
    )


def test_unknown_field_that_closes_nothing_is_still_an_unknown_field(tmp_path: Path) -> None:
    code, errors = validate(tmp_path, HEAD + "  - {type: conv2d, out: 8, kernel: 3, x)}\n")
    assert code == 1
    [error] = errors
    assert error["message"] == "unknown field 'x)' for layer type 'conv2d'"
