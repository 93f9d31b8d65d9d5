"""A layer kind written in this test alone flows through every consumer, with no other file changed.

`toy_negate` (y = -x) is registered here with its schema, its rule and its facts, and its torch builder; then
analyze, validate, verify (meta), conventions, the calculators and a drill question all handle it.
A kind that does work and that a tool has not been told about is refused with a message naming what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import torch
from clirunner import invoke

from cnncalc.base.tensor import Tensor
from cnncalc.bridge.registry import BUILDERS, BuildContext, builds
from cnncalc.conventions import CONVENTIONS
from cnncalc.conventions.registry import MissingRuleError
from cnncalc.kinds import REGISTRY, LayerResult, LayerSchema, RuleContext, layer_kind

TOY = "toy_negate"

SPEC = f"""
input: {{shape: [3, 16, 16]}}
layers:
  - {{name: stem, type: conv2d, out: 8, kernel: 3, padding: 1}}
  - {{name: flip, type: {TOY}}}
  - {{name: head, type: conv2d, out: 4, kernel: 3, stride: 2}}
"""


class ToySpec(LayerSchema):
    scale_hint: int = 1  # a field with a default, to show fields are described and checked


def toy_rule(spec: ToySpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    return LayerResult(output=inputs[0])  # elementwise: same shape, same receptive field, no parameters


class Negate(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -x


@pytest.fixture(scope="module", autouse=True)
def toy_kind() -> Iterator[None]:
    layer_kind(TOY, ToySpec, family="activation", summary="Negation: -x (a test's own kind).", does_work=False)(
        toy_rule
    )
    builds(TOY)(lambda spec, context: Negate())
    yield
    del REGISTRY[TOY]
    del BUILDERS[TOY]


@pytest.fixture()
def spec_file(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text(SPEC)
    return str(path)


def test_analyze(spec_file: str) -> None:
    result = invoke("analyze", spec_file, "--format", "json")
    assert result.code == 0, result.stderr
    layers = {layer["name"]: layer for layer in json.loads(result.stdout)["layers"]}
    assert layers["flip"]["type"] == TOY and layers["flip"]["output_shape"] == [1, 8, 16, 16]
    assert layers["flip"]["params"] == 0 and layers["flip"]["macs"] == 0
    assert layers["head"]["receptive_field"][0]["size"] == 5  # the field passes through unchanged: 3 + 2


def test_validate_and_kinds(spec_file: str, tmp_path) -> None:
    assert invoke("validate", spec_file).stdout.endswith(": valid\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text(SPEC.replace(f"type: {TOY}}}", f"type: {TOY}, scale_hnt: 2}}"))
    result = invoke("validate", str(bad))
    assert result.code == 1
    assert f"unknown field 'scale_hnt' for layer type '{TOY}'" in result.stderr and "scale_hint" in result.stderr
    listing = invoke("kinds", TOY).stdout
    assert TOY in listing and "Negation: -x" in listing and "scale_hint=1" in listing


def test_verify_on_meta(spec_file: str) -> None:
    result = invoke("verify", spec_file, "--device", "meta", "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [layer["type"] for layer in report["layers"]] == ["conv2d", TOY, "conv2d"]


def test_conventions_count_a_kind_that_does_no_work_as_zero(spec_file: str) -> None:
    result = invoke("conventions", spec_file, "--format", "json")
    assert result.code == 0, result.stderr
    for convention in json.loads(result.stdout)["conventions"]:
        assert convention["failure"] is None, convention["name"]


def test_a_kind_that_does_work_is_refused_by_a_tool_with_no_rule_for_it() -> None:
    name = "toy_work"
    layer_kind(name, ToySpec, family="activation", summary="A test's kind that does work.")(toy_rule)
    try:
        with pytest.raises(MissingRuleError, match=rf"the ptflops convention has no rule for layer kind '{name}'"):
            CONVENTIONS["ptflops"].rule_for(name)
        CONVENTIONS["cnncalc"].rule_for(name)  # the engine's own conventions count the engine's MACs
    finally:
        del REGISTRY[name]


def test_calculators_write_it_by_name_and_explain_it() -> None:
    result = invoke("calc", "stack", f"conv3, {TOY}, conv3/2", "--explain")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    row = next(line for line in lines if line.split()[:2] == ["2", TOY])
    assert row.split()[2:] == ["1x3x222x222", "-", "-", "3/1"]
    assert f"{TOY}: unchanged: 3 (jump 1, start 0) (the layer works pixel by pixel)" in result.stdout
    assert "Receptive field after conv3/2: 5 (jump 2, start 0)" in result.stdout


def test_calculators_name_what_the_syntax_cannot_give(monkeypatch) -> None:
    class Needy(LayerSchema):
        width: int

    layer_kind("toy_needy", Needy, family="structure", summary="Needs a width.", does_work=False)(toy_rule)
    try:
        result = invoke("calc", "stack", "conv3, toy_needy")
        assert result.code == 2
        assert 'layer 2 "toy_needy": toy_needy needs width, which the stack syntax cannot give' in result.stderr
    finally:
        del REGISTRY["toy_needy"]


def test_a_drill_question_on_a_stack_with_it() -> None:
    """The receptive-field question takes any kind the stack syntax reads; worked by hand: conv3 gives r = 3,
    j = 1; the toy adds nothing; conv3/2 adds (3 − 1)·1 = 2 (r = 5) and doubles the jump; conv3 adds (3 − 1)·2 = 4."""
    from cnncalc.drill.answers import grade
    from cnncalc.drill.question import Level
    from cnncalc.drill.topics.receptive import stack_question

    inline = f"conv3, {TOY}, conv3/2, {TOY}, conv3"
    size = stack_question(inline, Level.medium, "size")
    assert size.id == f"receptive-field/size/{inline}"
    assert size.prompt.startswith(f"A stack: conv 3x3 (stride 1) → {TOY} → conv 3x3 (stride 2) → {TOY} → conv 3x3")
    assert size.expected.describe() == "9"
    assert grade(size.expected, "9").correct and not grade(size.expected, "7").correct
    assert size.mistakes == ((7, "that ignores the jump: after stride s, later taps are s× apart"),)
    # the drill pads its convolutions to keep sizes, so the start moves by one pixel per conv
    assert f"  {TOY}: unchanged: 3 (jump 1, start 1) (the layer works pixel by pixel)\n" in size.solution
    assert f"  {TOY}: unchanged: 5 (jump 2, start 2) (the layer works pixel by pixel)\n" in size.solution
    assert size.command == f'cnncalc calc stack "{inline}" --explain'
    assert stack_question(inline, Level.hard, "jump").expected.describe() == "2"


def test_a_drill_stack_names_the_window_it_cannot_ask_about() -> None:
    from cnncalc.drill.question import Level
    from cnncalc.drill.topics.receptive import stack_question

    with pytest.raises(ValueError, match="'conv_transpose' has a transposed window; a stack question takes"):
        stack_question(f"conv3, {TOY}, tconv4/2", Level.medium)


def test_the_kind_record_answers_every_consumer() -> None:
    kind = REGISTRY[TOY]
    assert (kind.family, kind.does_work, kind.window, kind.pytorch_name(2)) == ("activation", False, None, TOY)
    context = BuildContext(input_shapes=((1, 8, 4, 4),), output_shape=(1, 8, 4, 4), channel_axes=(1,))
    assert isinstance(BUILDERS[TOY](ToySpec(), context), Negate)
