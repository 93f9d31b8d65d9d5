"""Every generated question's answer equals an independent computation through the engine.

The generators build their specs with the drill's helpers and the composite kinds (depthwise, pointwise,
separable, patch_embed); here each answer is recomputed from the question's facts with specs written
from scratch, using plain conv2d where possible, and run through `analyze_text`.
"""

from __future__ import annotations

import json
import random
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.base.errors import SpecError
from cnncalc.drill.notes import fixed_questions
from cnncalc.drill.plan import SessionRequest, build_questions
from cnncalc.drill.question import Level, Question
from cnncalc.drill.topics import TOPICS, UnknownTopicError, resolve_topics
from cnncalc.engine.analysis import analyze_text
from cnncalc.engine.result import AnalysisResult


def engine(input_shape: list[int], layers: list[dict[str, Any]], batch: int = 1, dtype: str = "float32"):
    text = json.dumps({"input": {"shape": input_shape, "batch": batch, "dtype": dtype}, "layers": layers})
    return analyze_text(text)


def conv(out: int, kernel: Any, stride: int = 1, padding: Any = 0, dilation: int = 1, groups: int = 1, bias=True):
    return {
        "type": "conv2d",
        "out": out,
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
        "bias": bias,
    }


def macs(result: AnalysisResult) -> int:
    return sum(row.macs for row in result.layers)


def params(result: AnalysisResult) -> int:
    return sum(row.params for row in result.layers)


def independent_answer(question: Question) -> Fraction | tuple[int, ...]:
    """The answer recomputed from the question's facts alone."""
    facts = question.facts
    topic = question.topic
    if topic == "conv-output" and facts["variant"] == "shape":
        layer = conv(facts["out"], facts["kernel"], facts["stride"], facts["padding"], facts["dilation"])
        return engine(facts["input"], [layer], facts["batch"]).output_shape
    if topic == "conv-output":
        return _same_padding(facts)
    if topic == "pool-output":
        layer = {key: facts[key] for key in ("kernel", "stride", "padding", "ceil_mode")} | {"type": facts["kind"]}
        return engine(facts["input"], [layer], facts["batch"]).output_shape
    if topic == "transposed-output":
        keys = ("out", "kernel", "stride", "padding", "output_padding", "dilation")
        layer = {key: facts[key] for key in keys} | {"type": "conv_transpose2d"}
        return engine(facts["input"], [layer], facts["batch"]).output_shape
    if topic == "conv-params":
        return Fraction(_conv_params(facts))
    if topic == "batchnorm":
        return Fraction(_batchnorm(facts))
    if topic == "linear-head":
        channels = facts["input"][0]
        gap = engine(facts["input"], [{"type": "global_avgpool"}, {"type": "linear", "out": facts["classes"]}])
        flat = engine(facts["input"], [{"type": "flatten"}, {"type": "linear", "out": facts["classes"]}])
        assert params(gap) == channels * facts["classes"] + facts["classes"]
        return {"gap": Fraction(params(gap)), "flatten": Fraction(params(flat))}.get(
            facts["ask"], Fraction(params(flat), params(gap))
        )
    if topic == "macs-flops":
        layer = conv(facts["out"], facts["kernel"], facts["stride"], facts["padding"], groups=facts["groups"])
        count = macs(engine(facts["input"], [layer], facts["batch"]))
        return Fraction(count if facts["ask"] == "macs" else 2 * count)
    if topic == "separable-ratio":
        size, in_channels, kernel = facts["size"], facts["in"], facts["kernel"]
        pad = kernel // 2
        split = [conv(in_channels, kernel, 1, pad, groups=in_channels, bias=False), conv(facts["out"], 1, bias=False)]
        separable = macs(engine([in_channels, size, size], split))
        standard = macs(engine([in_channels, size, size], [conv(facts["out"], kernel, 1, pad, bias=False)]))
        ratio = Fraction(separable, standard)
        assert ratio == Fraction(1, facts["out"]) + Fraction(1, kernel * kernel)
        return ratio if facts["ask"] == "ratio" else 1 / ratio
    if topic == "receptive-field":
        return Fraction(_receptive_field(facts))
    if topic == "shortcut":
        return Fraction(_shortcut(facts))
    if topic == "bottleneck":
        return _bottleneck(facts)
    if topic == "activation-memory":
        layers = [conv(facts["out"], 3, facts["stride"], 1, bias=False)]
        if facts["block"]:
            layers += [{"type": "batchnorm2d"}, {"type": "relu"}]
        result = engine(facts["input"], layers, facts["batch"], facts["dtype"])
        return Fraction(sum(row.activation_bytes for row in result.layers))
    if topic == "im2col":
        return _im2col(facts)
    if topic == "dense-vs-conv":
        channels, height, width = facts["input"]
        layer = conv(facts["out"], facts["kernel"], facts["stride"], facts["padding"])
        conv_result = engine(facts["input"], [layer])
        _, out, out_h, out_w = conv_result.output_shape
        dense = channels * height * width * out * out_h * out_w
        engine_dense = params(
            engine(facts["input"], [{"type": "flatten"}, {"type": "linear", "out": out * out_h * out_w, "bias": False}])
        )
        assert engine_dense == dense
        return Fraction(dense) if facts["ask"] == "dense" else Fraction(dense, params(conv_result))
    if topic == "vit-patch":
        size, patch, dim = facts["size"], facts["patch"], facts["dim"]
        result = engine([3, size, size], [conv(dim, patch, patch)], facts["batch"])
        _, _, grid_h, grid_w = result.output_shape
        if facts["ask"] == "tokens":
            return Fraction(grid_h * grid_w + 1)
        if facts["ask"] == "shape":
            return (facts["batch"], grid_h * grid_w, dim)
        return Fraction(params(result))
    raise AssertionError(f"no independent computation for {topic}")


def _same_padding(facts: dict[str, Any]) -> Fraction:
    size, kernel, dilation = facts["size"], facts["kernel"], facts["dilation"]
    for padding in range(0, dilation * kernel):
        try:
            out = engine([facts["channels"], size, size], [conv(8, kernel, 1, padding, dilation)]).output_shape[2]
        except SpecError:  # too little padding for the kernel: no output at all
            continue
        if out == size:
            return Fraction(padding)
    raise AssertionError("no padding keeps the size")


def _conv_params(facts: dict[str, Any]) -> int:
    in_channels, out, kernel, bias = facts["in"], facts["out"], facts["kernel"], facts["bias"]
    variant = facts["variant"]
    shape = [in_channels, 56, 56]
    if variant == "pointwise":
        return params(engine(shape, [conv(out, 1, bias=bias)]))
    if variant == "depthwise":
        depthwise = conv(in_channels * facts["multiplier"], kernel, groups=in_channels, bias=bias)
        return params(engine(shape, [depthwise]))
    if variant == "separable":
        layers = [conv(in_channels, kernel, groups=in_channels, bias=bias), conv(out, 1, bias=bias)]
        return params(engine(shape, layers))
    return params(engine(shape, [conv(out, kernel, groups=facts["groups"], bias=bias)]))


def _batchnorm(facts: dict[str, Any]) -> int:
    channels = facts["channels"]
    norm = {"type": "batchnorm2d", "affine": facts["affine"], "track_running_stats": facts["track_running_stats"]}
    if facts["ask"] in ("block", "state"):
        result = engine([facts["in"], 28, 28], [conv(channels, 3, 1, 1, bias=False), norm])
    else:
        result = engine([channels, 28, 28], [norm])
    buffers = sum(row.buffers for row in result.layers)
    if facts["ask"] == "buffers":
        return buffers
    if facts["ask"] == "state":
        return params(result) + buffers
    return params(result)


def _receptive_field(facts: dict[str, Any]) -> int:
    if facts["ask"] == "layers-needed":
        kernel, target = facts["kernel"], facts["target"]
        # One stack of 40 convs: row n's field is that of the first n layers.
        result = engine([1, 512, 512], [conv(1, kernel, 1, kernel // 2)] * 40)
        fields = [row.field[0].size for row in result.layers]
        return next(n for n, size in enumerate(fields, start=1) if size >= target)
    layers = []
    for layer in facts["layers"]:
        if layer["kind"] == "conv":
            layers.append(conv(1, layer["kernel"], layer["stride"], 0, layer["dilation"]))  # unpadded this time
        else:
            layers.append({"type": "maxpool2d", "kernel": layer["kernel"], "stride": layer["stride"]})
    field = engine([1, 2048, 2048], layers).receptive_field[0]
    return field.size if facts["ask"] == "size" else field.jump


def _shortcut(facts: dict[str, Any]) -> int:
    in_channels, out, stride, size = facts["in"], facts["out"], facts["stride"], facts["size"]
    assert facts["projection"] == (stride != 1 or in_channels != out)
    if not facts["projection"]:
        return 0
    result = engine(
        [in_channels, size, size], [conv(out, 1, stride, bias=False), {"type": "batchnorm2d"}], facts["batch"]
    )
    return params(result) if facts["ask"] == "params" else macs(result)


def _bottleneck(facts: dict[str, Any]) -> Fraction:
    width, channels, size = facts["width"], facts["channels"], facts["size"]
    block = [conv(width, 1, bias=False), conv(width, 3, 1, 1, bias=False), conv(channels, 1, bias=False)]
    result = engine([channels, size, size], block)
    if facts["ask"] == "params":
        return Fraction(params(result))
    if facts["ask"] == "macs":
        return Fraction(macs(result))
    plain = engine([channels, size, size], [conv(channels, 3, 1, 1, bias=False)] * 2)
    return Fraction(params(plain), params(result))


def _im2col(facts: dict[str, Any]) -> tuple[int, ...]:
    channels, out, kernel = facts["input"][0], facts["out"], facts["kernel"]
    result = engine(facts["input"], [conv(out, kernel, facts["stride"], facts["padding"], bias=False)], facts["batch"])
    _, _, height, width = result.output_shape
    patch, positions = channels * kernel * kernel, height * width
    assert params(result) == out * patch
    return {
        "unfold": (patch, positions),
        "weights": (out, patch),
        "output": (out, positions),
        "batched": (facts["batch"], patch, positions),
    }[facts["ask"]]


def check(question: Question) -> None:
    expected = question.expected.value
    assert independent_answer(question) == expected, question.id
    # The stored answer is also what the grader accepts, in the format the question asks for.
    assert question.grade(question.expected.describe().split(" (")[0].split(" ≈")[0]).correct, question.id


@pytest.mark.parametrize("topic", sorted(TOPICS))
@pytest.mark.parametrize("level", list(Level))
def test_each_topic_and_level_matches_the_engine(topic: str, level: Level) -> None:
    for seed in range(6):
        check(TOPICS[topic].generate(random.Random(seed), level))


@settings(max_examples=250, deadline=None)
@given(
    topic=st.sampled_from(sorted(TOPICS)),
    level=st.sampled_from(list(Level)),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_generated_answers_equal_an_independent_engine_computation(topic: str, level: Level, seed: int) -> None:
    check(TOPICS[topic].generate(random.Random(seed), level))


def test_the_same_seed_gives_the_same_questions_and_another_seed_others() -> None:
    def ids(seed: int) -> list[str]:
        return [q.id for q in build_questions(SessionRequest((), Level.medium, 12, seed))]

    assert ids(7) == ids(7)
    assert ids(7) != ids(8)
    assert len(set(ids(7))) == 12  # no question twice in a session


def test_topics_resolve_aliases_and_refuse_unknown_names() -> None:
    assert resolve_topics(["rf,flops", "bn", "receptive-field"]) == ["receptive-field", "macs-flops", "batchnorm"]
    with pytest.raises(UnknownTopicError) as error:
        resolve_topics(["recepive"])
    assert "receptive" in error.value.hint


def test_realistic_numbers() -> None:
    """Channels are the ones networks use and spatial sizes come from real stages."""
    realistic_channels = {1, 3, 16, 24, 32, 40, 64, 80, 96, 128, 144, 192, 256, 384, 512, 768, 1024, 1280, 2048}
    for seed in range(30):
        question = TOPICS["conv-output"].generate(random.Random(seed), Level.easy)
        if question.facts["variant"] == "shape":
            assert question.facts["input"][0] in realistic_channels
            assert question.facts["input"][1] in {224, 112, 64, 56, 32, 28, 14, 7}


# ------------------------------------------------------------------------------------------ the notes' own examples

NOTES = {question.id: question for question in fixed_questions()}


def test_every_topic_but_transposed_conv_has_an_example_from_the_notes() -> None:
    assert {question.topic for question in NOTES.values()} == set(TOPICS) - {"transposed-output"}
    for question in NOTES.values():
        assert question.source.startswith("study notes")
        assert question.grade(question.expected.describe().split(" (")[0].split(" ≈")[0]).correct, question.id


@pytest.mark.parametrize(
    ("identifier", "answer"),
    [
        ("notes/stem-shape", (32, 64, 112, 112)),
        ("notes/stem-params", Fraction(9472)),
        ("notes/conv3x3-shape", (1, 64, 64, 64)),
        ("notes/conv3x3-params", Fraction(18496)),
        ("notes/conv3x3-flops", Fraction(150_994_944)),
        ("notes/micro-example-weights", Fraction(73728)),
        ("notes/same-padding", Fraction(2)),
        ("notes/batchnorm-stem", Fraction(128)),
        ("notes/gap-head", Fraction(2_049_000)),
        ("notes/flatten-head", Fraction(100_353_000)),
        ("notes/separable-ratio", Fraction(1, 256) + Fraction(1, 9)),
        ("notes/rf-two-3x3", Fraction(5)),
        ("notes/rf-three-3x3", Fraction(7)),
        ("notes/maxpool-halving", (1, 256, 28, 28)),
        ("notes/stem-maxpool", (32, 64, 55, 55)),
        ("notes/resnet18-layer1-rf", Fraction(43)),
        ("notes/resnet18-layer2-rf", Fraction(99)),
        ("notes/resnet50-layer1-rf", Fraction(35)),
        ("notes/resnet50-layer2-rf", Fraction(91)),
        ("notes/dense-vs-conv", Fraction(150528 * 802816)),
        ("notes/projection-shortcut", Fraction(8448)),
        ("notes/bottleneck", Fraction(69632)),
        ("notes/stem-memory", Fraction(102_760_448)),
        ("notes/stem-im2col", (147, 12544)),
        ("notes/vit-patch-params", Fraction(590_592)),
    ],
)
def test_the_notes_examples_have_the_exact_answers(identifier: str, answer: Fraction | tuple[int, ...]) -> None:
    assert NOTES[identifier].expected.value == answer


def test_the_seeds_flops_error_is_called_out() -> None:
    question = NOTES["notes/conv3x3-flops"]
    assert "150,994,944" in question.solution
    assert "off by 10×" in question.solution
    assert question.grade("151M").correct
    wrong = question.grade("1.5e9")
    assert not wrong.correct and "10× too large" in wrong.note


def test_the_resnet_receptive_field_table_is_corrected_with_engine_values() -> None:
    for identifier in ("notes/resnet18-layer1-rf", "notes/resnet18-layer2-rf"):
        solution = NOTES[identifier].solution
        assert "~35 and ~91" in solution
        assert "43, 99, 211, 435" in solution
        assert "resnet50: conv1 7/2, maxpool 11/4, layer1 35/4, layer2 91/8, layer3 267/16, layer4 427/32" in solution
    assert not NOTES["notes/resnet18-layer1-rf"].grade("35").correct


def test_the_other_corrections_of_the_notes() -> None:
    assert "5× too small" in NOTES["notes/dense-vs-conv"].solution
    assert "120,846,286,848" in NOTES["notes/dense-vs-conv"].solution
    assert "padding 1" in NOTES["notes/stem-maxpool"].solution
    assert NOTES["notes/stem-maxpool"].grade("32x64x56x56").note == "56 needs padding 1; this pool has none"
    assert "1/256 + 1/9" in NOTES["notes/separable-ratio"].solution
