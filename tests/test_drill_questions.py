"""Every generated question's answer equals the answer worked out here by hand from the question's facts.

The generators answer through the engine and the calculators; the arithmetic below is written out again from
PyTorch's documented formulas and imports neither. A question whose facts do not pin down its answer, or whose
answer the engine gets wrong, fails here.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

import pytest
from drill_helpers import typed_answer
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.drill.notes import fixed_questions
from cnncalc.drill.plan import SessionRequest, build_questions
from cnncalc.drill.question import Level, Question
from cnncalc.drill.topics import TOPICS, UnknownTopicError, resolve_topics

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}


# ------------------------------------------------------------------------- PyTorch's formulas, written out


def conv_size(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """nn.Conv2d along one axis: ⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1."""
    return (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_size(n: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """nn.MaxPool2d / nn.AvgPool2d along one axis: ⌊(n + 2p − k) / s⌋ + 1, or ⌈...⌉ + 1 with ceil_mode, where
    a last window that would start in the right padding is dropped."""
    span = n + 2 * padding - kernel
    size = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (size - 1) * stride >= n + padding:
        size -= 1
    return size


def transposed_size(n: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int) -> int:
    """nn.ConvTranspose2d along one axis: (n − 1)·s − 2p + d·(k − 1) + output_padding + 1."""
    return (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def conv_weights(in_channels: int, out: int, kernel: Any, groups: int = 1) -> int:
    """C_out · (C_in / g) · k_h · k_w."""
    kernel_h, kernel_w = (kernel, kernel) if isinstance(kernel, int) else kernel
    return out * (in_channels // groups) * kernel_h * kernel_w


def receptive_field(layers: list[dict[str, Any]]) -> tuple[int, int]:
    """Size and jump after a stack: each layer adds d·(k − 1) taps `jump` pixels apart, then multiplies the jump
    by its stride (r = 1, j = 1 at the input)."""
    size, jump = 1, 1
    for layer in layers:
        size += layer["dilation"] * (layer["kernel"] - 1) * jump
        jump *= layer["stride"]
    return size, jump


# ---------------------------------------------------------------------------------------- each topic


def independent_answer(question: Question) -> Fraction | tuple[int, ...]:
    """The answer worked out from the question's facts alone."""
    return ANSWERS[question.topic](question.facts)


def _conv_output(facts: dict[str, Any]) -> Fraction | tuple[int, ...]:
    if facts["variant"] == "same-padding":
        padding = facts["dilation"] * (facts["kernel"] - 1) // 2  # stride 1: out = n + 2p − d·(k − 1) = n
        assert conv_size(facts["size"], facts["kernel"], 1, padding, facts["dilation"]) == facts["size"]
        return Fraction(padding)
    _, height, width = facts["input"]
    geometry = (facts["kernel"], facts["stride"], facts["padding"], facts["dilation"])
    return (facts["batch"], facts["out"], conv_size(height, *geometry), conv_size(width, *geometry))


def _pool_output(facts: dict[str, Any]) -> tuple[int, ...]:
    channels, height, width = facts["input"]
    geometry = (facts["kernel"], facts["stride"], facts["padding"], facts["ceil_mode"])
    return (facts["batch"], channels, pool_size(height, *geometry), pool_size(width, *geometry))


def _transposed_output(facts: dict[str, Any]) -> tuple[int, ...]:
    _, height, width = facts["input"]
    keys = ("kernel", "stride", "padding", "output_padding", "dilation")
    geometry = tuple(facts[key] for key in keys)
    return (facts["batch"], facts["out"], transposed_size(height, *geometry), transposed_size(width, *geometry))


def _conv_params(facts: dict[str, Any]) -> Fraction:
    in_channels, out, kernel, bias = facts["in"], facts["out"], facts["kernel"], int(facts["bias"])
    variant = facts["variant"]
    if variant == "pointwise":
        return Fraction(in_channels * out + bias * out)
    if variant == "depthwise":  # groups = C_in, C_in · multiplier filters of one channel each
        filters = in_channels * facts["multiplier"]
        assert out == filters
        return Fraction(filters * kernel * kernel + bias * filters)
    if variant == "separable":  # depthwise C_in → C_in, then pointwise C_in → C_out, each with its bias
        return Fraction(in_channels * kernel * kernel + bias * in_channels + in_channels * out + bias * out)
    return Fraction(conv_weights(in_channels, out, kernel, facts["groups"]) + bias * out)


def _batchnorm(facts: dict[str, Any]) -> Fraction:
    channels = facts["channels"]
    norm_params = 2 * channels if facts["affine"] else 0  # γ and β per channel
    buffers = 2 * channels if facts["track_running_stats"] else 0  # running_mean and running_var
    conv = facts["in"] * channels * 3 * 3  # the 3x3 conv before it, without bias
    return Fraction(
        {
            "params": norm_params,
            "no-affine": norm_params,
            "no-stats": norm_params,
            "buffers": buffers,
            "block": conv + norm_params,
            "state": conv + norm_params + buffers,
        }[facts["ask"]]
    )


def _linear_head(facts: dict[str, Any]) -> Fraction:
    channels, height, width = facts["input"]
    classes = facts["classes"]
    gap = channels * classes + classes  # pooled to C features
    flatten = channels * height * width * classes + classes  # C·H·W features
    return {"gap": Fraction(gap), "flatten": Fraction(flatten)}.get(facts["ask"], Fraction(flatten, gap))


def _macs_flops(facts: dict[str, Any]) -> Fraction:
    in_channels, height, width = facts["input"]
    geometry = (facts["kernel"], facts["stride"], facts["padding"])
    positions = conv_size(height, *geometry) * conv_size(width, *geometry)
    macs = facts["batch"] * positions * conv_weights(in_channels, facts["out"], facts["kernel"], facts["groups"])
    return Fraction(macs if facts["ask"] == "macs" else 2 * macs)


def _separable_ratio(facts: dict[str, Any]) -> Fraction:
    in_channels, out, kernel, positions = facts["in"], facts["out"], facts["kernel"], facts["size"] ** 2
    depthwise = positions * in_channels * kernel * kernel  # same size out: padding k // 2, stride 1
    pointwise = positions * in_channels * out
    standard = positions * out * in_channels * kernel * kernel
    ratio = Fraction(depthwise + pointwise, standard)
    assert ratio == Fraction(1, out) + Fraction(1, kernel * kernel)
    return ratio if facts["ask"] == "ratio" else 1 / ratio


def _receptive_field(facts: dict[str, Any]) -> Fraction:
    if facts["ask"] == "layers-needed":  # n stride-1 convs see 1 + n·(k − 1) pixels
        kernel, target = facts["kernel"], facts["target"]
        return Fraction(-(-(target - 1) // (kernel - 1)))
    size, jump = receptive_field(facts["layers"])
    return Fraction(size if facts["ask"] == "size" else jump)


def _shortcut(facts: dict[str, Any]) -> Fraction:
    in_channels, out, stride, size = facts["in"], facts["out"], facts["stride"], facts["size"]
    assert facts["projection"] == (stride != 1 or in_channels != out)
    if not facts["projection"]:
        return Fraction(0)  # the identity
    if facts["ask"] == "params":
        return Fraction(in_channels * out + 2 * out)  # the 1x1 conv, then BatchNorm's γ and β
    positions = conv_size(size, 1, stride) ** 2
    return Fraction(facts["batch"] * positions * in_channels * out)


def _bottleneck(facts: dict[str, Any]) -> Fraction:
    width, channels, size = facts["width"], facts["channels"], facts["size"]
    params = channels * width + width * width * 3 * 3 + width * channels  # 1x1 down, 3x3, 1x1 up
    if facts["ask"] == "params":
        return Fraction(params)
    if facts["ask"] == "macs":
        return Fraction(size * size * params)  # every conv keeps the size, and has no bias: MACs = H·W·params
    return Fraction(2 * channels * channels * 3 * 3, params)  # two plain 3x3 convs


def _activation_memory(facts: dict[str, Any]) -> Fraction:
    _, height, width = facts["input"]
    geometry = (3, facts["stride"], 1)  # a 3x3 conv with padding 1
    elements = facts["batch"] * facts["out"] * conv_size(height, *geometry) * conv_size(width, *geometry)
    outputs = 3 if facts["block"] else 1  # conv, BatchNorm and ReLU outputs are the same size
    return Fraction(outputs * elements * DTYPE_BYTES[facts["dtype"]])


def _im2col(facts: dict[str, Any]) -> tuple[int, ...]:
    channels, height, width = facts["input"]
    kernel, geometry = facts["kernel"], (facts["kernel"], facts["stride"], facts["padding"])
    patch = channels * kernel * kernel
    positions = conv_size(height, *geometry) * conv_size(width, *geometry)
    return {
        "unfold": (patch, positions),
        "weights": (facts["out"], patch),
        "output": (facts["out"], positions),
        "batched": (facts["batch"], patch, positions),
    }[facts["ask"]]


def _dense_vs_conv(facts: dict[str, Any]) -> Fraction:
    channels, height, width = facts["input"]
    out, kernel = facts["out"], facts["kernel"]
    geometry = (kernel, facts["stride"], facts["padding"])
    outputs = out * conv_size(height, *geometry) * conv_size(width, *geometry)
    dense = channels * height * width * outputs  # every input to every output, no bias
    conv = conv_weights(channels, out, kernel) + out
    return Fraction(dense) if facts["ask"] == "dense" else Fraction(dense, conv)


def _vit_patch(facts: dict[str, Any]) -> Fraction | tuple[int, ...]:
    size, patch, dim = facts["size"], facts["patch"], facts["dim"]
    patches = conv_size(size, patch, patch) ** 2  # a patch x patch conv with stride patch
    if facts["ask"] == "tokens":
        return Fraction(patches + 1)  # and the class token
    if facts["ask"] == "shape":
        return (facts["batch"], patches, dim)
    return Fraction(conv_weights(3, dim, patch) + dim)


OPTIMIZER_COPIES = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}  # state tensors per trainable parameter
FP32 = 4


def _training(facts: dict[str, Any]) -> Fraction:
    ask = facts["ask"]
    if ask == "backward-flops":  # ∂L/∂x where the input needs a gradient, ∂L/∂W where the conv trains: 2·MACs each
        in_channels, height, width = facts["input"]
        geometry = (facts["kernel"], facts["stride"], facts["padding"])
        positions = conv_size(height, *geometry) * conv_size(width, *geometry)
        macs = facts["batch"] * positions * conv_weights(in_channels, facts["out"], facts["kernel"], facts["groups"])
        input_gradient = facts["situation"] in ("middle", "frozen")
        weight_gradient = facts["situation"] != "frozen"
        return Fraction(2 * macs * (input_gradient + weight_gradient))
    if ask == "saved-bytes":
        in_channels, height, width = facts["input"]
        batch, out, stride = facts["batch"], facts["out"], facts["stride"]
        block_input = batch * in_channels * height * width * FP32
        feature = batch * out * conv_size(height, 3, stride, 1) * conv_size(width, 3, stride, 1) * FP32
        statistics = 2 * out * FP32  # BatchNorm's batch mean and inverse deviation
        # conv: its input; BatchNorm: its input and statistics; the activation: one tensor of the map's size (ReLU
        # its output, SiLU and ReLU6 their input or, in place, a copy of it)
        saved = block_input + feature + statistics + feature
        if facts["blocks"] == 2:  # the second conv's input: ReLU's output again, or a tensor nobody kept yet
            saved += (0 if facts["activation"] == "relu" else feature) + feature + statistics + feature
        return Fraction(saved)
    if ask == "optimizer-state":
        trainable = facts["params"] - facts["frozen_params"]
        tensors = OPTIMIZER_COPIES[facts["optimizer"]] + (facts["variant"] == "with-gradients")
        return Fraction(tensors * trainable * FP32)
    number, unit = (facts["memory"][:-3], 2**30) if facts["memory"].endswith("GiB") else (facts["memory"][:-2], 10**9)
    assert int(number) * unit == facts["memory_bytes"]
    params = facts["params"]
    fixed = (params + facts["buffers"]) * FP32 + params * FP32 + OPTIMIZER_COPIES[facts["optimizer"]] * params * FP32
    return Fraction((facts["memory_bytes"] - fixed - facts["constant_bytes"]) // facts["per_sample_bytes"])


ANSWERS = {
    "conv-output": _conv_output,
    "pool-output": _pool_output,
    "transposed-output": _transposed_output,
    "conv-params": _conv_params,
    "batchnorm": _batchnorm,
    "linear-head": _linear_head,
    "macs-flops": _macs_flops,
    "separable-ratio": _separable_ratio,
    "receptive-field": _receptive_field,
    "shortcut": _shortcut,
    "bottleneck": _bottleneck,
    "activation-memory": _activation_memory,
    "im2col": _im2col,
    "dense-vs-conv": _dense_vs_conv,
    "vit-patch": _vit_patch,
    "training": _training,
}


def check(question: Question) -> None:
    assert independent_answer(question) == question.expected.value, question.id
    # The stored answer is also what the grader accepts, in the format the question asks for.
    assert question.grade(typed_answer(question)).correct, question.id


def test_every_topic_is_worked_out_here() -> None:
    assert set(ANSWERS) == set(TOPICS)


@pytest.mark.parametrize("topic", sorted(TOPICS))
@pytest.mark.parametrize("level", list(Level))
def test_each_topic_and_level_matches_hand_arithmetic(topic: str, level: Level) -> None:
    for seed in range(6):
        check(TOPICS[topic].generate(random.Random(seed), level))


@settings(max_examples=250, deadline=None)
@given(
    topic=st.sampled_from(sorted(TOPICS)),
    level=st.sampled_from(list(Level)),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_generated_answers_equal_hand_arithmetic(topic: str, level: Level, seed: int) -> None:
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
        assert question.grade(typed_answer(question)).correct, question.id


@pytest.mark.parametrize(
    ("identifier", "answer"),
    [
        ("notes/stem-shape", (32, 64, 112, 112)),  # 7x7/2 p3 on 224: ⌊(224 + 6 − 7) / 2⌋ + 1 = 112
        ("notes/stem-params", Fraction(9472)),  # 64·3·7·7 + 64 = 9,408 + 64
        # the weight gradient only (the image needs no gradient): 2·32·(112·112)·(64·3·7·7) = one forward
        ("notes/stem-backward", Fraction(7_552_892_928)),
        ("notes/conv3x3-shape", (1, 64, 64, 64)),  # 3x3 p1 keeps 64: (64 + 2 − 3) + 1
        ("notes/conv3x3-params", Fraction(18496)),  # 64·32·3·3 + 64 = 18,432 + 64
        ("notes/conv3x3-flops", Fraction(150_994_944)),  # 2·(64·64 positions)·(64·32·9) = 2·4,096·18,432
        ("notes/micro-example-weights", Fraction(73728)),  # 128·64·3·3
        ("notes/same-padding", Fraction(2)),  # (5 − 1) / 2
        ("notes/batchnorm-stem", Fraction(128)),  # γ and β for 64 channels
        ("notes/gap-head", Fraction(2_049_000)),  # 2048·1000 + 1000
        ("notes/flatten-head", Fraction(100_353_000)),  # 2048·7·7·1000 + 1000 = 100,352,000 + 1000
        ("notes/separable-ratio", Fraction(1, 256) + Fraction(1, 9)),  # 1/C_out + 1/K², C_out 256, K 3
        ("notes/rf-two-3x3", Fraction(5)),  # 1 + 2 + 2
        ("notes/rf-three-3x3", Fraction(7)),  # 1 + 2 + 2 + 2
        ("notes/maxpool-halving", (1, 256, 28, 28)),  # 2x2/2 on 56: ⌊(56 − 2) / 2⌋ + 1
        ("notes/stem-maxpool", (32, 64, 55, 55)),  # 3x3/2 without padding on 112: ⌊(112 − 3) / 2⌋ + 1
        # conv1 7 (j 2), maxpool 7 + 2·2 = 11 (j 4), layer1: four 3x3 convs, 11 + 4·2·4 = 43
        ("notes/resnet18-layer1-rf", Fraction(43)),
        # layer2: a 3x3/2 conv 43 + 2·4 = 51 (j 8), then three 3x3 convs 51 + 3·2·8 = 99
        ("notes/resnet18-layer2-rf", Fraction(99)),
        ("notes/resnet50-layer1-rf", Fraction(35)),  # one 3x3 per bottleneck: 11 + 3·2·4 = 35
        ("notes/resnet50-layer2-rf", Fraction(91)),  # 3x3/2: 35 + 2·4 = 43 (j 8), three more 3x3: 43 + 3·2·8
        ("notes/dense-vs-conv", Fraction(150528 * 802816)),  # 3·224·224 inputs to 64·112·112 outputs
        ("notes/projection-shortcut", Fraction(8448)),  # 1x1 64 → 128 without bias, BatchNorm: 8,192 + 2·128
        ("notes/bottleneck", Fraction(69632)),  # 256·64 + 64·64·9 + 64·256 = 16,384 + 36,864 + 16,384
        ("notes/stem-memory", Fraction(102_760_448)),  # 32·64·112·112 float32 values, 4 bytes each
        ("notes/stem-im2col", (147, 12544)),  # 3·7·7 values per patch, 112·112 patches
        ("notes/vit-patch-params", Fraction(590_592)),  # 768·3·16·16 + 768 = 589,824 + 768
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
