"""Training questions: what one training step costs, answered by cnncalc's training rules
(`cnncalc.training.analyze_training`, what `analyze --mode train` shows) and its batch solver
(`cnncalc.training.fit.fit_memory`, what `cnncalc fit` and `cnncalc.fit` answer).

Four kinds of question, drawn at every level:

- the backward FLOPs of a conv layer: its gradient with respect to its input (where the input needs one) and
  with respect to its weights (where they train), each a convolution as large as the forward;
- the bytes autograd keeps for the backward from a conv-BatchNorm-activation block (two at the hard level);
- the optimizer state of a zoo network (with part of it frozen at the hard level);
- the largest batch that fits a memory budget, from the memory the network needs per sample.

Every answer is the engine's figure; the worked solution restates the rule, substitutes the numbers and has
each figure it shows checked against the engine's (`Worked.check`).
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from functools import cache
from typing import Any

from cnncalc.calc.explain_layer import explain_row
from cnncalc.calc.network import analyze_layers
from cnncalc.calc.worked import Worked, num, product_text
from cnncalc.drill.building import excluding_answer, generated
from cnncalc.drill.question import (
    APPROX,
    Level,
    Mistake,
    Question,
    answer_format_for,
    approximate_number,
    exact_number,
)
from cnncalc.drill.realistic import batch_size, feature_map, out_channels
from cnncalc.drill.wording import grid, tensor, torch_conv
from cnncalc.engine.analysis import InputOverrides, analyze_loaded
from cnncalc.engine.result import AnalysisResult
from cnncalc.language.yaml_source import load_yaml, read_spec_text
from cnncalc.language.zoo import zoo_specs
from cnncalc.render.units import human_bytes
from cnncalc.training import OPTIMIZER_STATES, TrainingOptions, TrainingResult, TrainingTotals, analyze_training
from cnncalc.training.fit import FitResult, MemoryPoint, fit_memory

TOPIC = "training"
FP32 = 4  # the training rules follow fp32: every parameter, gradient, state and activation takes 4 bytes
CONVENTION = "FLOPs = 2 × MACs; sums such as the bias gradient are not counted"

# Zoo networks the network questions use, as people name them.
NETWORKS = {
    "resnet18": "ResNet-18",
    "resnet50": "ResNet-50",
    "resnext50_32x4d": "ResNeXt-50 (32x4d)",
    "mobilenet_v2": "MobileNetV2",
    "efficientnet_b0": "EfficientNet-B0",
    "vgg16": "VGG-16",
    "densenet121": "DenseNet-121",
    "convnext_tiny": "ConvNeXt-T",
    "vit_b_16": "ViT-B/16",
}
_OPTIMIZERS = {"sgd": "plain SGD", "momentum": "SGD with momentum", "adam": "Adam", "adamw": "AdamW"}
_STATE_NAMES = {
    "sgd": "plain SGD keeps no state",
    "momentum": "SGD with momentum keeps one momentum buffer per parameter",
    "adam": "Adam keeps two tensors per parameter (exp_avg and exp_avg_sq)",
    "adamw": "AdamW keeps two tensors per parameter (exp_avg and exp_avg_sq)",
}


def training(rng: random.Random, level: Level) -> Question:
    """One of the four kinds of training question, each as likely at every level."""
    ask = rng.choice(tuple(_ASKS))
    return _ASKS[ask](rng, level)


def _unambiguous(mistakes: list[Mistake], answer: int, tolerance: Fraction = Fraction(0)) -> tuple[Mistake, ...]:
    """The typical mistakes that are wrong answers (not the answer, nor within the question's tolerance of it)
    and that no other mistake gives as well: a wrong answer two slips lead to gets no remark rather than a
    guess at which."""
    values = [value for value, _ in mistakes]
    return tuple(
        (value, note)
        for value, note in excluding_answer(mistakes, Fraction(answer))
        if values.count(value) == 1 and isinstance(value, Fraction) and abs(value - answer) > tolerance * answer
    )


def _rounded(value: int) -> tuple[str, Fraction]:
    """The unit a memory figure is asked in, and its relative tolerance (as activation-memory does)."""
    return ("GiB" if value >= 2**30 else "MiB" if value >= 2**20 else "KiB"), APPROX


# ------------------------------------------------------------------------------------------ backward FLOPs

# Where the conv sits decides which gradients its backward computes.
_SITUATIONS = {
    "first": "is the first layer of a CNN (its input is the image batch, which needs no gradient)",
    "middle": "sits in the middle of a CNN whose layers all train",
    "frozen": "is frozen (requires_grad=False) and sits above layers that train",
    "frozen-below": "trains, but every layer below it is frozen",
}


def backward_flops(rng: random.Random, level: Level) -> Question:
    shape = feature_map(rng, level)
    channels = shape[0]
    batch = batch_size(rng, level)
    out = out_channels(rng, channels)
    kernel = rng.choice((1, 3, 3, 5)) if channels > 3 else rng.choice((3, 7))
    stride = 1 if level is Level.easy else rng.choice((1, 1, 2))
    groups = 1
    if level is Level.hard and channels > 3 and rng.random() < 0.5:
        groups = rng.choice(tuple(g for g in (2, 4, 32, channels) if channels % g == 0 and out % g == 0))
    if channels == 3:
        situation = "first"
    else:
        situation = rng.choice(
            {
                Level.easy: ("middle",),
                Level.medium: ("middle", "middle", "frozen"),
                Level.hard: ("middle", "frozen", "frozen-below"),
            }[level]
        )
    approximate = level is Level.hard or (level is Level.medium and rng.random() < 0.5)
    conv = {"out": out, "kernel": kernel, "stride": stride, "padding": kernel // 2, "groups": groups}
    value, worked, mistakes = conv_backward(shape, conv, batch, situation)
    unit = "G" if value >= 10**9 else "M"
    expected = approximate_number(value, APPROX, unit) if approximate else exact_number(value)
    whole = "for the whole batch" if batch > 1 else "for this one image"
    how_many = f"How many FLOPs does its backward pass compute {whole}"
    if approximate:
        how_many = f"Approximately how many FLOPs does its backward pass compute {whole}, in {unit}FLOPs"
    inputs = (batch, *shape)
    prompt = (
        f"In a training step, {torch_conv(channels, conv)} {_SITUATIONS[situation]}; it runs on a batch of "
        f"shape {tensor(inputs)}. {how_many}? ({CONVENTION})"
    )
    key = (
        f"backward-flops/{situation}/{grid(inputs)}/o{out}k{kernel}s{stride}g{groups}{'/approx' if approximate else ''}"
    )
    facts = {
        "ask": "backward-flops",
        "situation": situation,
        "input": list(shape),
        "batch": batch,
        **conv,
        "approximate": approximate,
    }
    return generated(TOPIC, level, key, prompt, expected, worked, facts, "", mistakes)


def conv_backward(
    shape: tuple[int, ...], conv: dict[str, Any], batch: int, situation: str
) -> tuple[int, Worked, tuple[Mistake, ...]]:
    """The backward FLOPs of a conv2d (`conv`: its arguments) on (batch, *shape), where it sits in the network
    (a key of _SITUATIONS), by the training rules; the worked solution, and the typical wrong answers."""
    layer: dict[str, Any] = {"type": "conv2d", **conv}
    if situation == "frozen":
        layer["frozen"] = True
    result = analyze_layers(shape, [layer], batch)
    options = TrainingOptions(input_requires_grad=situation in ("middle", "frozen"))
    step = analyze_training(result, options).layers[0]
    row = result.layers[0]
    value = step.backward_flops
    worked = explain_row(result, row, ("macs",))
    groups = row.geometry.groups if row.geometry else 1
    worked.extend(_explain_conv_backward(row.macs, situation, value, step.torch_backward_flops, groups))
    forward = 2 * row.macs
    mistakes: list[Mistake] = []
    if value == 2 * forward:
        note = "that is one gradient's worth (a forward's FLOPs): the backward computes ∂L/∂x and ∂L/∂W, each 2 × MACs"
        mistakes.append((Fraction(forward), note))
    else:
        mistakes.append((Fraction(value, 2), "that counts MACs: FLOPs = 2 × MACs"))
        note = {
            "frozen": "that counts ∂L/∂W too: a frozen layer computes no weight gradient",
            "first": "that counts ∂L/∂x too: the first layer's input, the image, needs no gradient",
            "frozen-below": "that counts ∂L/∂x too: nothing below this layer trains, so its input needs no gradient",
        }[situation]
        mistakes.append((Fraction(2 * forward), note))
    if step.torch_backward_flops != value:
        note = "that is what FlopCounterMode prints in torch 2.13: it counts a grouped conv's weight gradient g times"
        mistakes.append((Fraction(step.torch_backward_flops), note))
    if batch > 1:
        mistakes.append((Fraction(value // batch), f"that is one image: multiply by the batch of {batch}"))
    return value, worked, _unambiguous(mistakes, value, APPROX)


def _explain_conv_backward(macs: int, situation: str, engine: int, torch_flops: int, groups: int) -> Worked:
    """The backward of a conv: which of its gradients autograd computes, and what each costs."""
    worked = Worked()
    worked.say("Backward: each gradient of a conv is itself a convolution with the forward's MACs:")
    parts: list[int] = []
    if situation in ("middle", "frozen"):
        parts.append(2 * macs)
        worked.say(f"∂L/∂x (the output gradient convolved with the flipped kernel): 2 × MACs = {num(2 * macs)}", 1)
    else:
        why = "the image needs no gradient" if situation == "first" else "nothing below this layer trains"
        worked.say(f"∂L/∂x: not computed: {why}, so autograd skips it", 1)
    if situation == "frozen":
        worked.say("∂L/∂W: not computed: the layer is frozen (and so is its bias)", 1)
    else:
        parts.append(2 * macs)
        worked.say(f"∂L/∂W (the input correlated with the output gradient): 2 × MACs = {num(2 * macs)}", 1)
        worked.say("∂L/∂b: the output gradient summed over batch and positions: additions only, not counted", 1)
    total = sum(parts)
    worked.check("backward FLOPs", total, engine)
    shown = " + ".join(num(part) for part in parts)
    times = "the forward's FLOPs" if len(parts) == 1 else "2 × the forward's FLOPs"
    worked.say(
        f"Backward FLOPs = {shown} = {num(total)} ({times})"
        if len(parts) > 1
        else f"Backward FLOPs = {num(total)} ({times})"
    )
    if torch_flops != engine:
        worked.say(
            f"(PyTorch 2.13's FlopCounterMode prints {num(torch_flops)}: it counts the weight gradient of a conv "
            f"with groups = {groups} that many times; the true figure is {num(engine)})"
        )
    return worked


# ------------------------------------------------------------------------------------------ saved bytes

# The activations of the block, and whether in place, per level.
_ACTIVATIONS = {
    Level.easy: (("relu", False),),
    Level.medium: (("relu", False), ("relu", True)),
    Level.hard: (("relu", False), ("relu", True), ("silu", False), ("silu", True), ("relu6", True)),
}
_MODULES = {"relu": "ReLU", "silu": "SiLU", "relu6": "ReLU6"}


def saved_bytes(rng: random.Random, level: Level) -> Question:
    shape = feature_map(rng, level)
    channels = shape[0]
    batch = {
        Level.easy: rng.choice((8, 16, 32)),
        Level.medium: rng.choice((16, 32, 64)),
        Level.hard: rng.choice((16, 32, 64)),
    }[level]
    out = out_channels(rng, channels)
    stride = 1 if level is Level.easy else rng.choice((1, 2))
    activation, inplace = rng.choice(_ACTIVATIONS[level])
    blocks = 2 if level is Level.hard else 1
    conv = {"out": out, "kernel": 3, "stride": stride, "padding": 1, "bias": False}
    act: dict[str, Any] = {"type": activation, "inplace": inplace}
    layers: list[dict[str, Any]] = [{"type": "conv2d", **conv}, {"type": "batchnorm2d"}, act]
    if blocks == 2:
        layers += [
            {"type": "conv2d", "out": out, "kernel": 3, "padding": 1, "bias": False},
            {"type": "batchnorm2d"},
            act,
        ]
    result = analyze_layers(shape, layers, batch)
    # A block on the image (3 channels) is the stem; any other sits above layers that train.
    step = analyze_training(result, TrainingOptions(input_requires_grad=channels > 3))
    value = step.totals.saved_activation_bytes
    worked = _explain_saved(result, step, activation, inplace)

    unit, tolerance = _rounded(value)
    expected = approximate_number(value, tolerance, unit, memory=True)
    module = f"nn.{_MODULES[activation]}({'inplace=True' if inplace else ''})"
    block = f"{torch_conv(channels, conv)} → nn.BatchNorm2d({out}) → {module}"
    where = "the stem of a CNN" if channels == 3 else "a block in the middle of a CNN whose layers all train"
    if blocks == 2:
        second = f"nn.Conv2d({out}, {out}, kernel_size=3, padding=1, bias=False) → nn.BatchNorm2d({out}) → {module}"
        block = f"{block} → {second}"
        where = "two blocks of a CNN whose layers all train"
    inputs = (batch, *shape)
    prompt = (
        f"In a training step (fp32, BatchNorm in training mode), {where}: {block}, on a batch of shape "
        f"{tensor(inputs)}. Approximately how much memory does autograd keep from this forward for the backward "
        f"pass (saved tensors, each storage once; parameters and buffers aside), in {unit}?"
    )
    outputs = sum(math.prod(row.output_shape) for row in result.layers) * FP32
    first_input = math.prod(result.layers[0].input_shape) * FP32
    one_map = math.prod(result.layers[0].output_shape) * FP32
    mistakes: list[Mistake] = [
        (
            Fraction(outputs),
            "that counts the layers' outputs; autograd keeps each layer's inputs it needs for the backward",
        ),
        (Fraction(value - first_input), "the first conv keeps its input too: its weight gradient needs it"),
    ]
    if blocks == 2 and activation == "relu":
        mistakes.append(
            (Fraction(value + one_map), "the ReLU's output and the next conv's input are one storage: count it once")
        )
    key = f"saved-bytes/{grid(inputs)}/o{out}s{stride}/{activation}{'-inplace' if inplace else ''}/x{blocks}"
    facts = {
        "ask": "saved-bytes",
        "input": list(shape),
        "batch": batch,
        "out": out,
        "stride": stride,
        "activation": activation,
        "inplace": inplace,
        "blocks": blocks,
    }
    answer_format = answer_format_for(expected, f"12.5, 12.5 {unit}, or a byte count")
    return generated(
        TOPIC, level, key, prompt, expected, worked, facts, "", _unambiguous(mistakes, value, tolerance), answer_format
    )


def _explain_saved(result: AnalysisResult, step: TrainingResult, activation: str, inplace: bool) -> Worked:
    """What each layer of conv-BN-activation blocks keeps, storage by storage, checked against the rules."""
    worked = Worked()
    worked.say("What autograd keeps for the backward (fp32, 4 bytes a value), layer by layer:")
    rows = result.layers
    name = _MODULES[activation]
    for row, layer in zip(rows, step.layers, strict=True):
        if row.kind == "conv2d":
            size = math.prod(row.input_shape) * FP32
            elements = product_text(*row.input_shape)
            if row.index == 0:
                shown = size
                worked.say(f"conv: its input (∂L/∂W needs it): {elements} × 4 = {num(size)} B", 1)
            elif activation == "relu":
                shown = 0
                worked.say(f"conv: its input is the {name}'s output, kept already: one storage, counted once: + 0 B", 1)
            else:
                shown = size
                what = (
                    f"the BatchNorm output the in-place {name} overwrote, which nothing keeps yet"
                    if inplace
                    else f"the {name}'s output, a new tensor"
                )
                worked.say(f"conv: its input, {what}: {elements} × 4 = {num(size)} B", 1)
        elif row.kind == "batchnorm2d":
            channels = row.input_shape[1]
            size = math.prod(row.input_shape) * FP32
            statistics = 2 * channels * FP32
            shown = size + statistics
            worked.say(
                f"BatchNorm: its input, the conv's output: {product_text(*row.input_shape)} × 4 = {num(size)} B, "
                f"and the batch mean and 1/std per channel: 2 × {channels} × 4 = {num(statistics)} B",
                1,
            )
        else:
            shown = math.prod(row.output_shape) * FP32
            if activation == "relu":
                how = (
                    "in place, the result it wrote over the BatchNorm's output (which BatchNorm did not keep)"
                    if inplace
                    else "its output (the gradient passes where the output is positive)"
                )
            elif inplace:
                how = "in place it overwrites its input, which its backward reads: autograd keeps a copy first"
            else:
                how = "its input, the BatchNorm's output (its backward reads the input)"
            worked.say(f"{name}: {how}: {num(shown)} B", 1)
        worked.check(f"saved bytes of {row.path}", shown, layer.saved_activation_bytes)
    total = step.totals.saved_activation_bytes
    parts = " + ".join(num(layer.saved_activation_bytes) for layer in step.layers if layer.saved_activation_bytes)
    worked.check("saved bytes", sum(layer.saved_activation_bytes for layer in step.layers), total)
    worked.say(f"Together: {parts} = {num(total)} B ≈ {human_bytes(total)}")
    return worked


# ------------------------------------------------------------------------------------------ optimizer state

# What the hard level freezes of each network, and how the question says it.
_STEM_AND_TWO_STAGES = (
    ("conv1", "bn1", "layer1", "layer2"),
    "the stem and the first two stages (conv1, bn1, layer1, layer2)",
)
_FEATURES = (("features",), "the feature extractor (`features`)")
_FROZEN = {
    "resnet18": _STEM_AND_TWO_STAGES,
    "resnet50": _STEM_AND_TWO_STAGES,
    "resnext50_32x4d": _STEM_AND_TWO_STAGES,
    "mobilenet_v2": _FEATURES,
    "efficientnet_b0": _FEATURES,
    "vgg16": _FEATURES,
    "densenet121": _FEATURES,
    "convnext_tiny": _FEATURES,
    "vit_b_16": (("conv_proj", "class_token", "encoder"), "the patch embedding, the class token and the encoder"),
}


@cache
def _zoo_spec(spec: str) -> Any:
    """A zoo spec, read and parsed once (`LoadedDocument`)."""
    path = zoo_specs()[spec]
    return load_yaml(read_spec_text(path), str(path))


def _sample(side: int) -> tuple[int, ...] | None:
    """The input of one sample at this side (None: the spec's own 3x224x224)."""
    return None if side == 224 else (3, side, side)


@cache
def _network_step(
    spec: str, optimizer: str, freeze: tuple[str, ...] = (), side: int = 224
) -> tuple[AnalysisResult, TrainingTotals]:
    """A zoo network and its training step: the figures of `cnncalc analyze SPEC --mode train`."""
    result = analyze_loaded(_zoo_spec(spec), InputOverrides(shape=_sample(side)))
    return result, analyze_training(result, TrainingOptions(optimizer=optimizer, freeze=freeze)).totals


def optimizer_state(rng: random.Random, level: Level) -> Question:
    spec = rng.choice(tuple(NETWORKS))
    variant = {Level.easy: "state", Level.medium: rng.choice(("state", "with-gradients")), Level.hard: "state"}[level]
    choices = ("momentum", "adam", "adamw") if variant == "state" else tuple(_OPTIMIZERS)
    optimizer = rng.choice(choices)
    freeze, frozen_text = _FROZEN[spec] if level is Level.hard else ((), "")
    result, step = _network_step(spec, optimizer, freeze)
    totals = result.totals
    trainable = step.trainable_params
    frozen = totals.params - trainable
    copies = OPTIMIZER_STATES[optimizer]
    value = step.optimizer_state_bytes + (step.gradient_bytes if variant == "with-gradients" else 0)

    worked = Worked()
    worked.say(f"Optimizer state per trainable parameter: {_STATE_NAMES[optimizer]}; fp32: 4 bytes each")
    if frozen:
        worked.say(f"Trainable parameters: {num(totals.params)} − {num(frozen)} frozen = {num(trainable)}")
        worked.say("(frozen parameters get no gradient and no optimizer state)", 1)
    else:
        worked.say(f"Trainable parameters: all {num(totals.params)}")
    if totals.buffers:
        worked.say(f"BatchNorm's running statistics ({num(totals.buffers)} values) are buffers: no gradient, no state")
    state = copies * trainable * FP32
    worked.check("optimizer state", state, step.optimizer_state_bytes)
    worked.say(f"Optimizer state = {copies} × {num(trainable)} × 4 = {num(state)} B ≈ {human_bytes(state)}")
    if variant == "with-gradients":
        gradients = trainable * FP32
        worked.check("gradients", gradients, step.gradient_bytes)
        worked.say(f"Gradients: one per trainable parameter: {num(trainable)} × 4 = {num(gradients)} B")
        worked.say(f"Together: {num(gradients)} + {num(state)} = {num(value)} B ≈ {human_bytes(value)}")

    hard = level is Level.hard
    unit, tolerance = _rounded(value)
    expected = exact_number(value) if hard else approximate_number(value, tolerance, unit, memory=True)
    name = NETWORKS[spec]
    buffers = f" and {num(totals.buffers)} buffer values (BatchNorm running statistics)" if totals.buffers else ""
    who = f"You freeze {frozen_text} ({num(frozen)} parameters) and train the rest" if frozen else "You train it"
    what = "does the optimizer state" if variant == "state" else "do the gradients and the optimizer state together"
    how_much = (
        f"How many bytes exactly {what} take?" if hard else f"Approximately how much memory {what} take, in {unit}?"
    )
    prompt = (
        f"{name} has {num(totals.params)} parameters{buffers}. {who} in fp32 with {_OPTIMIZERS[optimizer]}. {how_much}"
    )
    mistakes: list[Mistake] = []
    if copies:
        other = 1 if copies == 2 else 2
        mistakes.append((Fraction(value - state + other * trainable * FP32), _STATE_NAMES[optimizer]))
    if frozen:
        every = (copies + (variant == "with-gradients")) * totals.params * FP32
        mistakes.append((Fraction(every), "frozen parameters get no gradient and no optimizer state"))
    if variant == "with-gradients" and copies:
        mistakes.append((Fraction(state), "add the gradients: one per trainable parameter"))
    key = f"optimizer-state/{spec}/{optimizer}/{variant}/{'frozen' if frozen else 'all'}"
    facts = {
        "ask": "optimizer-state",
        "variant": variant,
        "network": spec,
        "optimizer": optimizer,
        "params": totals.params,
        "frozen_params": frozen,
        "buffers": totals.buffers,
        "freeze": list(freeze),
    }
    command = f"cnncalc analyze {spec} --mode train --optimizer {optimizer}" + "".join(f" --freeze {p}" for p in freeze)
    answer_format = "" if hard else answer_format_for(expected, f"195, 195 {unit}, or a byte count")
    return generated(
        TOPIC,
        level,
        key,
        prompt,
        expected,
        worked,
        facts,
        command,
        _unambiguous(mistakes, value, expected.tolerance),
        answer_format,
    )


# ------------------------------------------------------------------------------------------ largest batch

_FIT_NETWORKS = {
    Level.easy: ("resnet18", "resnet50", "mobilenet_v2"),
    Level.medium: ("resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0", "vgg16", "vit_b_16", "densenet121"),
    Level.hard: tuple(NETWORKS),
}
_BUDGETS = {
    Level.easy: ("8GiB", "12GiB", "16GiB", "24GiB"),
    Level.medium: ("8GiB", "12GiB", "16GiB", "24GiB", "32GiB", "40GiB", "48GiB"),
    Level.hard: ("16GiB", "24GiB", "40GiB", "80GiB", "16GB", "24GB", "40GB", "80GB"),
}
_SIDES = (224, 320, 384, 512)  # hard: CNNs at a larger input (ViT-B/16 keeps its 224)


@cache
def _fit(spec: str, memory: str, optimizer: str, side: int) -> FitResult:
    """The answer of `cnncalc fit SPEC --memory MEMORY --optimizer OPTIMIZER` (at `--input 3xSIDExSIDE`)."""
    options = TrainingOptions(optimizer=optimizer)
    return fit_memory(_zoo_spec(spec), _memory_bytes(memory), options=options, sample=_sample(side))


def _memory_size(memory: str) -> tuple[int, str]:
    """'24GiB' -> (24, 'GiB'); '40GB' -> (40, 'GB')."""
    unit = "GiB" if memory.endswith("GiB") else "GB"
    return int(memory.removesuffix(unit)), unit


def _memory_bytes(memory: str) -> int:
    """'24GiB' -> 24 × 2³⁰, '40GB' -> 40 × 10⁹."""
    number, unit = _memory_size(memory)
    return number * (2**30 if unit == "GiB" else 10**9)


def fit_batch(rng: random.Random, level: Level) -> Question:
    spec = rng.choice(_FIT_NETWORKS[level])
    optimizer = rng.choice(("sgd", "adamw") if level is Level.easy else tuple(_OPTIMIZERS))
    side = rng.choice(_SIDES) if level is Level.hard and spec != "vit_b_16" else 224
    drawn = rng.choice(_BUDGETS[level])
    # The budget drawn, or the next larger one where too little fits to make a question (two samples at least).
    larger = sorted((m for m in _BUDGETS[level] if _memory_bytes(m) >= _memory_bytes(drawn)), key=_memory_bytes)
    for memory in larger:
        fit = _fit(spec, memory, optimizer, side)
        if fit.answer is not None and fit.answer >= 2 and fit.formula is not None:
            break
    else:  # pragma: no cover - every network fits two samples in the largest budget
        raise AssertionError(f"{spec} fits no batch of two in {larger[-1]}")
    result, _ = _network_step(spec, optimizer, (), side)
    params, buffers = result.totals.params, result.totals.buffers
    assert fit.at is not None and fit.formula is not None  # the loop above found a batch of two or more
    at = dict(fit.at.components)
    fixed = at["param_bytes"] + at["gradient_bytes"] + at["optimizer_state_bytes"]
    per_sample = fit.formula.slope
    constant = fit.formula.intercept - fixed  # what the saved tensors hold whatever the batch (BatchNorm's statistics)
    budget = fit.memory_bytes
    copies = OPTIMIZER_STATES[optimizer]

    worked = Worked()
    worked.say("Peak of a training step at batch b (cnncalc's estimate) = fixed + per-sample × b:")
    model = (params + buffers) * FP32
    worked.check("parameters and buffers", model, at["param_bytes"])
    worked.say(f"parameters and buffers: ({num(params)} + {num(buffers)}) × 4 = {num(model)} B", 1)
    worked.check("gradients", params * FP32, at["gradient_bytes"])
    worked.say(f"gradients, one per parameter: {num(params)} × 4 = {num(params * FP32)} B", 1)
    state = copies * params * FP32
    worked.check("optimizer state", state, at["optimizer_state_bytes"])
    worked.say(f"optimizer state ({_STATE_NAMES[optimizer]}): {copies} × {num(params)} × 4 = {num(state)} B", 1)
    if constant:
        worked.say(f"saved tensors that do not grow with the batch: {num(constant)} B", 1)
    intercept = model + params * FP32 + state + constant
    worked.check("fixed bytes", intercept, fit.formula.intercept)
    worked.say(f"fixed = {num(intercept)} B; per sample (saved activations + backward transient): {num(per_sample)} B")
    answer = (budget - intercept) // per_sample
    worked.check("largest batch", answer, fit.answer)
    worked.say(
        f"Largest b: ⌊({num(budget)} − {num(intercept)}) / {num(per_sample)}⌋ = "
        f"⌊{num(budget - intercept)} / {num(per_sample)}⌋ = {num(answer)}"
    )
    beyond = fit.beyond
    worked.say(f"Check: batch {num(answer)} needs {num(fit.at.peak_bytes)} B ≤ {num(budget)} B", 1)
    if isinstance(beyond, MemoryPoint):  # (a Refusal where the network cannot run one batch more)
        worked.say(f"batch {num(answer + 1)} would need {num(beyond.peak_bytes)} B > {num(budget)} B", 1)

    name = NETWORKS[spec]
    number, unit = _memory_size(memory)
    constant_clause = (
        f", plus {num(constant)} bytes that do not depend on the batch (BatchNorm's batch statistics)"
        if constant
        else ""
    )
    buffer_clause = f", and {num(buffers)} buffer values" if buffers else ""
    prompt = (
        f"You train {name} ({num(params)} parameters, all trainable{buffer_clause}) in fp32 with "
        f"{_OPTIMIZERS[optimizer]} at {side}x{side} on a GPU with {number} {unit} of memory. What autograd "
        f"keeps for the backward plus the backward's largest transient gradients take {num(per_sample)} bytes "
        f"per sample{constant_clause}. Counting "
        "parameters and buffers, gradients, optimizer state and those, what is the largest batch that fits?"
    )
    mistakes: list[Mistake] = [
        (
            Fraction(budget // per_sample),
            "that leaves out what does not grow with the batch: parameters, gradients, state",
        ),
    ]
    if copies:
        mistakes.append(
            (
                Fraction((budget - intercept + state) // per_sample),
                f"that leaves out the optimizer state: {_STATE_NAMES[optimizer]}",
            )
        )
    mistakes.append(
        (
            Fraction((budget - intercept + params * FP32) // per_sample),
            "that leaves out the gradients: one per parameter",
        )
    )
    other = number * 10**9 if unit == "GiB" else number * 2**30
    unit_note = "1 GiB = 2³⁰ bytes, not 10⁹" if unit == "GiB" else "1 GB = 10⁹ bytes, not 2³⁰"
    if other > intercept:
        mistakes.append((Fraction((other - intercept) // per_sample), unit_note))
    key = f"fit-batch/{spec}/{side}/{optimizer}/{memory}"
    facts = {
        "ask": "fit-batch",
        "network": spec,
        "input": [3, side, side],
        "optimizer": optimizer,
        "memory": memory,
        "memory_bytes": budget,
        "params": params,
        "buffers": buffers,
        "per_sample_bytes": per_sample,
        "constant_bytes": constant,
    }
    command = f"cnncalc fit {spec} --memory {memory} --optimizer {optimizer}"
    if side != 224:
        command += f" --input 3x{side}x{side}"
    return generated(
        TOPIC, level, key, prompt, exact_number(answer), worked, facts, command, _unambiguous(mistakes, answer)
    )


_ASKS = {
    "backward-flops": backward_flops,
    "saved-bytes": saved_bytes,
    "optimizer-state": optimizer_state,
    "fit-batch": fit_batch,
}
