"""The spec language's reads of other layers and its list and optional values ("Write any modern vision
network"): `size: spatial(input)`, `shape(layer1)[1]`; `kernel: [1, 7]` as a block argument, indexing;
`optional:` block arguments that are `none` when not given; `group.input` inside a group. Each misuse ends
with a located error and a hint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from clirunner import checked_spec, write_spec

from cnncalc.base.errors import SpecError
from cnncalc.engine import InputOverrides, analyze_text, check_text
from cnncalc.language import expressions


def _errors(text: str) -> list[tuple[int, int, str, str]]:
    """(line, column, message, hint) of each error of a spec."""
    issues = check_text(text, "spec.yaml")
    return [(i.location.line, i.location.column, i.message, i.hint) for i in issues if i.severity == "error"]


def _shapes(text: str, input_shape: tuple[int, ...] | None = None) -> dict[str, tuple[int, ...]]:
    overrides = InputOverrides(shape=input_shape) if input_shape else InputOverrides()
    return {row.path: row.output_shape for row in analyze_text(text, "spec.yaml", overrides).layers}


# ------------------------------------------------------------------------------- sizes from other layers
# A DeepLab-like head: an output-stride-8 backbone, an image-pooling branch spread back over the map, and
# scores upsampled to the input's size. With `size: 64` written as a number it holds at 512 only.
DEEPLAB_LIKE = """\
input: {shape: [3, 512, 512]}
blocks:
  aspp:
    args: {rates: [2, 3]}
    layers:
      - {name: a, from: input, type: conv2d, out: 8, kernel: 1}
      - {name: b, from: input, type: conv2d, out: 8, kernel: 3, padding: "rates[0]", dilation: "rates[0]"}
      - {name: c, from: input, type: conv2d, out: 8, kernel: 3, padding: "rates[1]", dilation: "rates[1]"}
      - name: pool
        from: input
        layers:
          - {type: adaptive_avgpool2d, output_size: 1}
          - {type: conv2d, out: 8, kernel: 1}
          - {type: upsample, size: spatial(input), mode: bilinear}
      - {type: concat, from: [a, b, c, pool]}
layers:
  - name: backbone
    layers:
      - {type: conv2d, out: 16, kernel: 3, stride: 2, padding: 1}
      - {type: conv2d, out: 32, kernel: 3, stride: 2, padding: 1}
      - {name: low, type: conv2d, out: 32, kernel: 3, stride: 2, padding: 1}
  - {name: head, block: aspp}
  - {name: scores, type: conv2d, out: 21, kernel: 1}
  - {name: out, type: upsample, size: spatial(input), mode: bilinear}
"""


@pytest.mark.parametrize(("side", "low"), [(512, 64), (97, 13)])
def test_a_deeplab_like_head_upsamples_to_the_input_at_any_size(side: int, low: int) -> None:
    shapes = _shapes(DEEPLAB_LIKE, (3, side, side + 2))
    assert shapes["backbone.low"] == (1, 32, low, (side + 2 + 7) // 8)
    assert shapes["head.pool.2"] == (*shapes["head.a"][:1], 8, *shapes["backbone.low"][2:])
    assert shapes["head.4"] == (1, 32, *shapes["backbone.low"][2:])
    assert shapes["out"] == (1, 21, side, side + 2)


def test_shape_and_spatial_read_any_earlier_layer_with_from_names() -> None:
    spec = """\
input: {shape: [3, 33, 17], batch: 2}
layers:
  - name: stage
    layers:
      - {name: conv, type: conv2d, out: 6, kernel: 3, stride: 2, padding: 1}
  - {type: conv2d, out: "shape(stage.conv)[1] * 2", kernel: 1, stride: 2}
  - {name: back, type: upsample, size: "spatial(stage.conv)", mode: nearest}
  - {type: conv2d, out: "shape(input)[0] + len(shape(back))", kernel: "[1, spatial(input)[1] // 17]"}
"""
    shapes = _shapes(spec)
    assert shapes["stage.conv"] == (2, 6, 17, 9)
    assert shapes["1"] == (2, 12, 9, 5)
    assert shapes["back"] == (2, 12, 17, 9)
    assert shapes["3"] == (2, 6, 17, 9)  # 2 + 4 channels; kernel [1, 1]


def test_an_entry_runs_after_the_layer_whose_shape_it_reads() -> None:
    """As with `from:`, reading a layer written further down makes the entry run after it."""
    spec = """\
input: {shape: [3, 16, 16]}
layers:
  - {name: up, type: upsample, size: spatial(mid), from: small}
  - {name: small, type: maxpool, kernel: 4, from: input}
  - {name: mid, type: maxpool, kernel: 2, from: input}
"""
    assert _shapes(spec) == {"small": (1, 3, 4, 4), "up": (1, 3, 8, 8), "mid": (1, 3, 8, 8)}


def test_validate_without_shapes_still_checks_the_names() -> None:
    """An invalid input leaves every shape unknown: shape() reads are skipped quietly, counted as not
    shape-checked; a name that is nowhere is still an error."""
    spec = DEEPLAB_LIKE.replace("shape: [3, 512, 512]", "shape: [3, 512, 512], batch: 0")
    issues = check_text(spec, "spec.yaml")
    errors = [issue.message for issue in issues if issue.severity == "error"]
    assert errors == ["input.batch: must be at least 1 (got 0)"]
    assert any("not shape-checked: the input is invalid" in issue.message for issue in issues)
    before, _, after = spec.rpartition("spatial(input)")  # the last layer's
    wrong = f"{before}spatial(scorez){after}"
    errors = _errors(wrong)
    assert errors[1] == (
        24, 39, "out (upsample): size: cannot evaluate 'spatial(scorez)': unknown reference 'scorez'",
        "did you mean 'scores'?",
    )  # fmt: skip


def test_a_name_inside_a_block_reads_the_blocks_names() -> None:
    spec = """\
input: {shape: [3, 16, 16]}
blocks:
  b:
    layers:
      - {name: down, type: maxpool, kernel: 2}
      - {type: upsample, size: spatial(up)}
layers:
  - {name: up, type: upsample, scale: 2}
  - {block: b}
"""
    [(line, column, message, hint)] = _errors(spec)
    assert (line, column) == (6, 32)
    assert message == "1.1 (upsample): size: cannot evaluate 'spatial(up)': unknown reference 'up'"
    assert hint == "expected one of: down, input"


SHAPE_ERRORS = [
    ("index", "{type: upsample, size: \"spatial(input)[2]\"}", 3,
     "0 (upsample): size: cannot evaluate 'spatial(input)[2]': index 2 is out of range for [32, 32] (2 items)",
     "indexes count from 0; negative ones from the end (-1 is the last item)"),
    ("arithmetic", "{type: upsample, size: \"spatial(input) * 2\"}", 3,
     "0 (upsample): size: cannot evaluate 'spatial(input) * 2': cannot apply mult to [32, 32]",
     "arithmetic takes numbers: pick an item of a list (`kernel[0]`); test for none with "
     "`x if x != none else default`"),
    ("no_name", "{type: upsample, size: \"spatial(1 + 2)\"}", 3,
     "0 (upsample): size: cannot evaluate 'spatial(1 + 2)': spatial() takes the name of one earlier layer",
     "e.g. spatial(input) or spatial(layer1.0.conv1)"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "entry", "line", "message", "hint"), SHAPE_ERRORS, ids=[c[0] for c in SHAPE_ERRORS])
def test_misuses_of_shape_reads_are_located(case: str, entry: str, line: int, message: str, hint: str) -> None:
    spec = f"input: {{shape: [3, 32, 32]}}\nlayers:\n  - {entry}\n"
    errors = _errors(spec)
    assert [(e[0], e[2], e[3]) for e in errors] == [(line, message, hint)]
    with pytest.raises(SpecError):  # the same error, never a traceback
        analyze_text(spec, "spec.yaml")


def test_a_cycle_through_shape_reads_is_named_with_its_hint() -> None:
    spec = """\
input: {shape: [3, 16, 16]}
layers:
  - {name: a, type: upsample, size: spatial(b)}
  - {name: b, type: relu}
"""
    assert _errors(spec) == [(
        3, 5, "these entries read each other in a cycle: a -> b -> a",
        "an entry without `from:` reads the entry before it, and one with shape(NAME) or spatial(NAME) reads NAME; "
        "break the cycle by changing a `from:` or a shape()",
    )]  # fmt: skip


def test_a_blocks_vars_cannot_read_its_own_layers() -> None:
    spec = """\
input: {shape: [3, 16, 16]}
blocks:
  b:
    vars: {side: "spatial(conv)[0]"}
    layers:
      - {name: conv, type: conv2d, out: 4, kernel: 3}
      - {type: upsample, size: [side, side]}
layers:
  - {block: b}
"""
    assert _errors(spec) == [(
        4, 18, "cannot evaluate 'spatial(conv)[0]': 'conv' has not run yet here",
        "a shape can be read only from a layer that has run: entries run after what they read with `from:` and "
        "shape(), and a block's argument defaults and `vars` before its layers",
    )]  # fmt: skip
    shapes = _shapes(spec.replace("spatial(conv)[0]", "spatial(input)[0] - 2"))
    assert shapes == {"0.conv": (1, 4, 14, 14), "0.1": (1, 4, 14, 14)}


def test_shape_reads_in_top_level_vars_see_the_input_only() -> None:
    spec = (
        'input: {shape: [3, 24, 40]}\nvars: {half: "spatial(input)[1] // 2"}\n'
        "layers:\n  - {type: upsample, size: [12, half]}\n"
    )
    assert _shapes(spec) == {"0": (1, 3, 12, 20)}
    errors = _errors(spec.replace("spatial(input)", "spatial(conv)"))
    message = "cannot evaluate 'spatial(conv)[1] // 2': unknown reference 'conv'"
    assert errors == [(2, 14, message, "expected one of: input")]


def test_expression_values_are_numbers_lists_or_none() -> None:
    evaluate = expressions.evaluate
    assert evaluate("[1, 7]", {}) == (1, 7)
    assert evaluate("k[-1] * 2 + len(k)", {"k": (1, 7)}) == 16
    assert evaluate("k[1:]", {"k": (1, 2, 3)}) == (2, 3)
    assert evaluate("3 if p == none else p", {"p": None}) == 3
    assert expressions.names_in("spatial(layer1.0.conv1)[0] + width") == {"width"}
    assert expressions.shape_references("shape(layer1.0.conv1)[1] + spatial(input)[0]") == {"layer1.0.conv1", "input"}
    with pytest.raises(expressions.ExpressionError, match="cannot apply add to none"):
        evaluate("p + 1", {"p": None})
    with pytest.raises(expressions.ExpressionError, match="attribute is not allowed in expressions"):
        evaluate("a.b", {"a": 1})  # names with dots are layer names, read by shape() and spatial() only


# ------------------------------------------------------------------------------ list and optional arguments
INCEPTION_LIKE = """\
input: {shape: [4, 17, 17]}
blocks:
  basic_conv:
    args: {out: null, kernel: 1, padding: 0}
    layers:
      - {name: conv, type: conv2d, out: out, kernel: kernel, padding: padding, bias: false}
  factorized:
    args: {n: 7}
    vars: {half: n // 2}
    layers:
      - {name: a, block: basic_conv, args: {out: 8, kernel: [1, n], padding: [0, half]}}
      - {name: b, block: basic_conv, args: {out: 8, kernel: "[n, 1]", padding: "[half, 0]"}}
layers:
  - {block: factorized}
  - {block: factorized, args: {n: 3}}
"""


def test_lists_as_block_arguments() -> None:
    result = analyze_text(INCEPTION_LIKE, "spec.yaml")
    rows = {row.path: row for row in result.layers}
    assert rows["0.a.conv"].output_shape == (1, 8, 17, 17)
    assert rows["0.a.conv"].params == 4 * 8 * 7
    assert rows["0.b.conv"].params == 8 * 8 * 7
    assert rows["1.b.conv"].params == 8 * 8 * 3
    assert rows["1.b.conv"].macs == 8 * 8 * 3 * 17 * 17


OPTIONAL = """\
input: {shape: [3, 10, 12]}
blocks:
  resize:
    optional: [size, scale]
    layers:
      - {type: upsample, size: size, scale: "scale if scale != none or size != none else 2"}
  outer:
    optional: [size]
    layers:
      - {block: resize, args: {size: size}}         # passes on its own optional argument, given or not
layers:
  - {name: doubled, block: resize}
  - {name: sized, block: resize, args: {size: [5, 7]}}
  - {name: scaled, block: resize, args: {scale: 3}}
  - {name: not_given, block: outer}
  - {name: given_none, block: resize, args: {size: null}}
  - {name: passed, block: outer, args: {size: "spatial(input)"}}
"""


def test_optional_block_arguments_are_none_when_not_given() -> None:
    shapes = _shapes(OPTIONAL)
    assert shapes["doubled.0"] == (1, 3, 20, 24)
    assert shapes["sized.0"] == (1, 3, 5, 7)
    assert shapes["scaled.0"] == (1, 3, 15, 21)
    assert shapes["not_given.0.0"] == (1, 3, 30, 42)
    assert shapes["given_none.0"] == (1, 3, 60, 84)
    assert shapes["passed.0.0"] == (1, 3, 10, 12)


BLOCK_HEAD = """\
input: {shape: [3, 8, 8]}
blocks:
  b:
    args: {out: null}
    optional: [pad]
    layers:
      - {type: conv2d, out: out, kernel: 3, padding: pad}
layers:
"""
ARGUMENT_ERRORS = [
    ("required_null", "  - {block: b, args: {out: null}}\n", 9, 28,
     "block 'b' needs a value for argument 'out', got null",
     "only an argument listed under the block's `optional:` may be null (not given)"),
    ("required_missing", "  - {block: b}\n", 9, 5, "block 'b' needs argument 'out'",
     "`null` in a block's `args:` means required; list an argument that may be left out under the block's "
     "`optional:`"),
    ("unknown", "  - {block: b, args: {out: 4, padd: 1}}\n", 9, 31, "block 'b' has no argument 'padd'",
     "did you mean 'pad'?"),
    ("list_arithmetic", "  - {block: b, args: {out: \"[4] * 2\"}}\n", 9, 28,
     "cannot evaluate '[4] * 2': cannot apply mult to [4]",
     "arithmetic takes numbers: pick an item of a list (`kernel[0]`); test for none with "
     "`x if x != none else default`"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "use", "line", "column", "message", "hint"), ARGUMENT_ERRORS,
                         ids=[c[0] for c in ARGUMENT_ERRORS])  # fmt: skip
def test_misuses_of_block_arguments_are_located(case, use, line, column, message, hint) -> None:
    assert _errors(BLOCK_HEAD + use) == [(line, column, message, hint)]


def test_optional_arguments_are_declared_once_and_none_is_no_value() -> None:
    twice = BLOCK_HEAD.replace("optional: [pad]", "optional: [pad, out]") + "  - {block: b, args: {out: 4}}\n"
    assert _errors(twice) == [(
        5, 21, "block 'b': argument 'out' is in both `args` and `optional`",
        "an argument listed in `optional` is none when not given; one with a default belongs in `args` only",
    )]  # fmt: skip
    none_var = BLOCK_HEAD.replace("optional: [pad]", "optional: [pad]\n    vars: {p: pad}")
    none_var += "  - {block: b, args: {out: 4}}\n"
    assert _errors(none_var) == [(6, 15, "'pad' gives none here",
        "none stands for an optional block argument that was not given; it is no value of its own")]  # fmt: skip


def test_a_kernel_list_used_to_be_refused_as_a_block_argument(tmp_path: Path) -> None:
    """The issue's case: `kernel: [1, 7]` given to a block; valid now, with the same figures as per-axis fields."""
    code, entry = checked_spec(write_spec(tmp_path, INCEPTION_LIKE))
    assert (code, entry["errors"]) == (0, [])


# ------------------------------------------------------------------------------------------ inputs of groups
GROUP_IN_BLOCK = """\
input: {shape: [3, 8, 8]}
blocks:
  unit:
    layers:
      - {name: stem, type: conv2d, out: 4, kernel: 1}
      - name: residual
        layers:
          - {name: conv, type: conv2d, out: 4, kernel: 3, padding: 1}
          - {name: add, type: add, from: [conv, FROM]}
layers:
  - {block: unit}
"""


def test_group_input_is_the_groups_own_input() -> None:
    result = analyze_text(GROUP_IN_BLOCK.replace("FROM", "group.input"), "spec.yaml")
    paths = [layer.path for layer in result.layers]
    assert paths == ["0.stem", "0.residual.conv", "0.residual.add"]
    assert result.layers[2].output_shape == (1, 4, 8, 8)
    assert result.layers[2].inputs == ("0.residual.conv", "0.stem")  # the group's input: the stem's output


def test_input_inside_a_group_is_the_blocks_and_the_error_says_so() -> None:
    [(line, column, message, hint)] = _errors(GROUP_IN_BLOCK.replace("FROM", "input"))
    assert (line, column) == (9, 13)
    assert message.startswith("0.residual.add (add): input shapes (1, 4, 8, 8) and (1, 3, 8, 8) do not match")
    assert hint.endswith(
        "inside group 0.residual, `input` is the input of block use 0, not the group's: the group's input is "
        "`group.input`"
    )


def test_group_input_in_a_repeated_group_is_each_copys_input() -> None:
    spec = """\
input: {shape: [3, 8, 8]}
layers:
  - {type: conv2d, out: 4, kernel: 1}
  - name: stage
    repeat: 3
    layers:
      - {name: conv, type: conv2d, out: 4, kernel: 3, padding: 1}
      - {name: add, type: add, from: [conv, group.input]}
      - {name: up, type: upsample, size: "[spatial(group.input)[0] + 1, 8]"}
"""
    shapes = _shapes(spec)
    assert [shapes[f"stage.{i}.up"] for i in range(3)] == [(1, 4, 9, 8), (1, 4, 10, 8), (1, 4, 11, 8)]


def test_group_input_outside_a_group_is_an_error() -> None:
    spec = "input: {shape: [3, 8, 8]}\nlayers:\n  - {type: relu, from: group.input}\n"
    assert _errors(spec) == [(3, 24, "`group.input` names the input of the group around it, and there is no group here",
                              "`input` is the network's input here")]  # fmt: skip

    # An entry named `group` outside any group is found as before.
    spec = """\
input: {shape: [3, 8, 8]}
blocks:
  pair:
    layers:
      - {type: conv2d, out: 2, kernel: 1}
layers:
  - {name: group, block: pair}
  - {type: conv2d, out: 5, kernel: 1, from: group.input}
"""
    assert _shapes(spec)["1"] == (1, 5, 8, 8)


# ------------------------------------------------------------------------------- names of repeated copies


def test_copy_names_name_the_copies_of_a_repeat():
    text = """
input: {shape: [4, 8, 8]}
layers:
  - name: stage
    layers:
      - {name: conv, type: conv2d, out: 4, kernel: 3, padding: 1, repeat: 3, copy_names: "conv-{index}"}
  - {name: skip, type: add, from: [stage.conv.conv-0, stage.conv.conv-2]}
"""
    result = analyze_text(text)
    copies = [f"stage.conv.conv-{index}" for index in range(3)]
    assert [row.path for row in result.layers] == [*copies, "skip"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('{type: relu, copy_names: "r-{index}"}', "names the copies of a `repeat`"),
        ('{type: relu, repeat: 2, copy_names: "r"}', "holding `{index}`"),
        ('{type: relu, repeat: 2, copy_names: "r.{index}"}', "not a valid name"),
    ],
)
def test_copy_names_misuse(entry, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        analyze_text(f"input: {{shape: [4, 8, 8]}}\nlayers:\n  - {entry}\n")
