"""Parameter questions: conv variants, BatchNorm, classifier heads, shortcuts, bottlenecks, dense vs conv, ViT."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from cnncalc.base import arithmetic
from cnncalc.calc.explain_layer import explain_row
from cnncalc.calc.network import analyze_layers
from cnncalc.calc.worked import Worked, num, product_text
from cnncalc.drill.building import generated
from cnncalc.drill.question import (
    APPROX,
    TIMES_EXAMPLES,
    Level,
    Mistake,
    Question,
    answer_format_for,
    approximate_number,
    exact_number,
    shape_answer,
)
from cnncalc.drill.realistic import batch_size
from cnncalc.drill.wording import conv_command, grid, tensor, torch_conv
from cnncalc.engine.result import AnalysisResult


def _each_row(result: AnalysisResult, sections: tuple[str, ...]) -> Worked:
    """The worked solution of every row, a blank line between rows."""
    worked = Worked()
    for position, row in enumerate(result.layers):
        if position:
            worked.say("")
        worked.extend(explain_row(result, row, sections))
    return worked


def params_worked(result: AnalysisResult, sections: tuple[str, ...] = ("params",)) -> Worked:
    """Every row's parameters, then their total where more than one row has any."""
    worked = _each_row(result, sections)
    counted = [row.params for row in result.layers if row.params]
    if len(counted) > 1:
        worked.say(f"Total = {' + '.join(num(params) for params in counted)} = {num(result.totals.params)}")
    return worked


def _macs_worked(result: AnalysisResult) -> Worked:
    """Every row's MACs, then their total."""
    worked = _each_row(result, ("macs",))
    parts = " + ".join(num(row.macs) for row in result.layers)
    worked.say(f"Total MACs = {parts} = {num(result.totals.macs)}")
    return worked


# ------------------------------------------------------------------------------------------ conv-params


def conv_params(rng: random.Random, level: Level) -> Question:
    variants = {
        Level.easy: ("standard", "standard", "pointwise"),
        Level.medium: ("standard", "no-bias", "grouped", "depthwise", "pointwise"),
        Level.hard: ("grouped", "separable", "depthwise", "factorized", "no-bias"),
    }[level]
    variant = rng.choice(variants)
    in_channels = rng.choice((32, 64, 128, 256, 512))
    out = rng.choice((in_channels, 2 * in_channels)) if in_channels < 512 else rng.choice((512, 1024))
    kernel: Any = rng.choice((3, 3, 5, 7)) if level is not Level.easy else rng.choice((3, 3, 5))
    bias = variant not in ("no-bias",) and (level is not Level.hard or rng.random() < 0.5)
    groups, multiplier = 1, 1
    on_map = f"--input {in_channels}x56x56"
    no_bias = "" if bias else " --no-bias"
    if variant == "pointwise":
        kernel = 1
        layers = [{"type": "pointwise", "out": out, "bias": bias}]
        described = torch_conv(in_channels, {"out": out, "kernel": 1, "bias": bias})
        command = f"cnncalc calc pointwise {on_map} --out {out}{no_bias} --explain"
    elif variant == "depthwise":
        multiplier = 1 if level is not Level.hard else rng.choice((1, 2))
        out = in_channels * multiplier
        groups = in_channels
        layers = [
            {"type": "depthwise", "kernel": kernel, "padding": kernel // 2, "multiplier": multiplier, "bias": bias}
        ]
        conv = {"out": out, "kernel": kernel, "padding": kernel // 2, "groups": groups, "bias": bias}
        described = torch_conv(in_channels, conv)
        command = f"cnncalc calc depthwise {on_map} -k {kernel} -m {multiplier}{no_bias} --explain"
    elif variant == "separable":
        layers = [{"type": "separable", "out": out, "kernel": kernel, "padding": kernel // 2, "bias": bias}]
        depthwise = {"out": in_channels, "kernel": kernel, "padding": kernel // 2, "groups": in_channels, "bias": bias}
        pointwise = {"out": out, "kernel": 1, "bias": bias}
        described = (
            f"a depthwise-separable {kernel}x{kernel} convolution from {in_channels} to {out} channels: "
            f"{torch_conv(in_channels, depthwise)} then {torch_conv(in_channels, pointwise)}"
        )
        command = f"cnncalc calc separable {on_map} --out {out} -k {kernel}{no_bias} --explain"
    else:  # a conv2d: grouped, factorized (1x7, 7x1, ...), standard, or without bias
        if variant == "grouped":
            groups = rng.choice((2, 4, 8, 32))
            kernel = 3
        elif variant == "factorized":
            kernel = rng.choice(([1, 7], [7, 1], [1, 3], [3, 1]))
        padding = [value // 2 for value in kernel] if isinstance(kernel, list) else kernel // 2
        conv = {"type": "conv2d", "out": out, "kernel": kernel, "padding": padding, "groups": groups, "bias": bias}
        layers = [conv]
        described = torch_conv(in_channels, conv)
        command = conv_command((in_channels, 56, 56), conv)
    result = analyze_layers((in_channels, 56, 56), layers)
    params = result.totals.params
    bias_total = sum(row.output_shape[1] for row in result.layers) if bias else 0
    if bias:
        mistakes = [(Fraction(params - bias_total), "that is the weights alone: add one bias per output channel")]
    else:
        mistakes = [(Fraction(params + bias_total), "bias=False: there are no biases to add")]
    if groups > 1 and variant != "separable":
        taps = math.prod(kernel) if isinstance(kernel, list) else kernel**2
        ungrouped = out * in_channels * taps + (out if bias else 0)
        mistakes.append((Fraction(ungrouped), "that ignores the groups: each filter sees only C_in / g channels"))
    both = " (both layers together)" if variant == "separable" else ""
    prompt = f"How many parameters{both} does {described} have?"
    key = f"{variant}/{in_channels}-{out}/k{grid([kernel] if isinstance(kernel, int) else kernel)}"
    key += f"g{groups}m{multiplier}b{int(bias)}"
    facts = {
        "variant": variant,
        "in": in_channels,
        "out": out,
        "kernel": kernel,
        "groups": groups,
        "multiplier": multiplier,
        "bias": bias,
    }
    worked = params_worked(result)
    return generated("conv-params", level, key, prompt, exact_number(params), worked, facts, command, mistakes)


# ------------------------------------------------------------------------------------------ batchnorm


def batchnorm(rng: random.Random, level: Level) -> Question:
    channels = rng.choice((32, 64, 128, 256, 512, 1024, 2048))
    asks = {
        Level.easy: ("params", "buffers"),
        Level.medium: ("params", "buffers", "block", "no-affine"),
        Level.hard: ("block", "state", "no-stats", "no-affine"),
    }[level]
    ask = rng.choice(asks)
    affine = ask != "no-affine"
    stats = ask != "no-stats"
    bn = {"type": "batchnorm2d", "affine": affine, "track_running_stats": stats}
    module = "nn.BatchNorm2d(" + str(channels) + ("" if affine else ", affine=False")
    module += ("" if stats else ", track_running_stats=False") + ")"
    in_channels = max(16, channels // 2)
    conv = {"type": "conv2d", "out": channels, "kernel": 3, "padding": 1, "bias": False}  # before it, in a block
    if ask in ("block", "state"):
        result = analyze_layers((in_channels, 28, 28), [conv, bn])
    else:
        result = analyze_layers((channels, 28, 28), [bn])
    params, buffers = result.totals.params, result.totals.buffers
    mistakes: list[Mistake] = []
    if ask in ("params", "no-affine", "no-stats"):
        value = params
        question = f"How many learnable parameters does {module} have?"
        if stats and affine:
            mistakes.append((Fraction(params + buffers), "running_mean and running_var are buffers, not parameters"))
        if affine:
            mistakes.append((Fraction(channels), "two per channel: a scale γ and a shift β"))
    elif ask == "buffers":
        value = buffers
        question = (
            f"How many numbers do the running-statistics buffers of {module} hold "
            "(running_mean and running_var; leave out the num_batches_tracked counter)?"
        )
    elif ask == "block":
        value = params
        question = (
            f"A {torch_conv(in_channels, conv)} is followed by {module}. "
            "How many learnable parameters do the two have together?"
        )
        mistakes.append((Fraction(params + buffers), "BatchNorm's running statistics are buffers, not parameters"))
    else:
        value = params + buffers
        question = (
            f"A {torch_conv(in_channels, conv)} is followed by {module}. How many "
            "numbers does their state_dict hold (parameters and buffers; leave out num_batches_tracked)?"
        )
        mistakes.append((Fraction(params), "those are the parameters only; the state_dict also holds the buffers"))
    worked = params_worked(result)
    if ask == "state":
        worked.say(f"Parameters + buffers = {num(params)} + {num(buffers)} = {num(value)}")
    facts = {"ask": ask, "channels": channels, "in": in_channels, "affine": affine, "track_running_stats": stats}
    options = ("" if affine else " --no-affine") + ("" if stats else " --no-running-stats")
    command = f"cnncalc calc batchnorm --input {channels}x28x28{options} --explain"
    return generated(
        "batchnorm", level, f"{ask}/{channels}", question, exact_number(value), worked, facts, command, mistakes
    )


# ------------------------------------------------------------------------------------------ linear-head

_BACKBONES = (
    ("ResNet-18", 512, 7),
    ("ResNet-50", 2048, 7),
    ("EfficientNet-B0", 1280, 7),
    ("DenseNet-121", 1024, 7),
    ("ConvNeXt-T", 768, 7),
    ("VGG-16", 512, 7),
    ("MobileNetV3-Large", 960, 7),
    ("AlexNet", 256, 6),
)


def classifier_heads(features: tuple[int, int, int], classes: int) -> tuple[AnalysisResult, AnalysisResult]:
    """The two classifier heads on a backbone's features: global average pooling + linear, flatten + linear."""
    gap = analyze_layers(features, [{"type": "global_avgpool"}, {"type": "linear", "out": classes}])
    flat = analyze_layers(features, [{"type": "flatten"}, {"type": "linear", "out": classes}])
    return gap, flat


def linear_head(rng: random.Random, level: Level) -> Question:
    name, channels, size = rng.choice(_BACKBONES)
    classes = rng.choice({Level.easy: (1000,), Level.medium: (1000, 10, 100), Level.hard: (1000, 21843, 365)}[level])
    ask = rng.choice({Level.easy: ("gap",), Level.medium: ("gap", "flatten"), Level.hard: ("flatten", "ratio")}[level])
    gap, flat = classifier_heads((channels, size, size), classes)
    backbone = f"A {name} backbone ends at (B, {channels}, {size}, {size})"
    ratio = Fraction(flat.totals.params, gap.totals.params)
    if ask == "gap":
        expected = exact_number(gap.totals.params)
        prompt = (
            f"{backbone}. The head is global average pooling, then nn.Linear({channels}, {classes}). How many "
            "parameters does the head have?"
        )
        mistakes = [(Fraction(channels * classes), "that is the weights alone: add the bias, one per class")]
    elif ask == "flatten":
        expected = exact_number(flat.totals.params)
        prompt = (
            f"{backbone}. Instead of global average pooling, the head flattens the map and applies one nn.Linear to "
            f"{classes} classes. How many parameters does that linear layer have?"
        )
        mistakes = [(Fraction(gap.totals.params), "that is the GAP head: flatten keeps all H × W positions")]
    else:
        expected = approximate_number(ratio, Fraction(1, 100))
        prompt = (
            f"{backbone}, with {classes} classes. How many times more parameters does a flatten + linear head have "
            "than a global-average-pooling + linear head (approximately)?"
        )
        mistakes = []
    worked = Worked()
    worked.say("GAP head:")
    worked.extend(params_worked(gap), 1)
    worked.say("Flatten head:")
    worked.extend(params_worked(flat), 1)
    if ask == "ratio":
        worked.say(f"Ratio = {num(flat.totals.params)} / {num(gap.totals.params)} ≈ {float(ratio):.2f}")
    key = f"{ask}/{channels}x{size}x{size}/{classes}"
    facts = {"ask": ask, "input": [channels, size, size], "classes": classes}
    flattened = "" if ask == "gap" else f"x{size}x{size}"
    command = f"cnncalc calc linear --input {channels}{flattened} --out {classes} --explain"
    answer_format = answer_format_for(expected, TIMES_EXAMPLES)  # the ratio is a "times" answer
    return generated("linear-head", level, key, prompt, expected, worked, facts, command, mistakes, answer_format)


# ------------------------------------------------------------------------------------------ shortcut

_BASIC = ((64, 64, 1, 56), (64, 128, 2, 56), (128, 256, 2, 28), (256, 512, 2, 14), (128, 128, 1, 28))
_BOTTLENECK = (
    (64, 256, 1, 56),
    (256, 256, 1, 56),
    (256, 512, 2, 56),
    (512, 1024, 2, 28),
    (1024, 2048, 2, 14),
    (512, 512, 1, 28),
)


def shortcut_layers(out: int, stride: int, projection: bool) -> list[dict[str, Any]]:
    """A residual block's shortcut: torchvision's projection (1x1 conv, no bias, then BatchNorm) or the identity."""
    if projection:
        return [{"type": "pointwise", "out": out, "stride": stride, "bias": False}, {"type": "batchnorm2d"}]
    return [{"type": "identity"}]


def shortcut(rng: random.Random, level: Level) -> Question:
    block = rng.choice(("basic", "bottleneck"))
    in_channels, out, stride, size = rng.choice(_BASIC if block == "basic" else _BOTTLENECK)
    ask = "macs" if level is Level.hard and rng.random() < 0.4 else "params"
    if ask == "macs":
        in_channels, out, stride, size = rng.choice(_BASIC[1:4] if block == "basic" else _BOTTLENECK[2:5])
    batch = batch_size(rng, level) if ask == "macs" else 1
    projection = stride != 1 or in_channels != out
    out_size = arithmetic.conv_output_size(size, 3, stride, 1, 1)  # the main path's strided 3x3 conv
    result = analyze_layers((in_channels, size, size), shortcut_layers(out, stride, projection), batch)
    if result.layers[-1].output_shape != (batch, out, out_size, out_size):
        raise AssertionError(f"engine: shortcut output {result.layers[-1].output_shape}, block output {out_size}")
    inputs, outputs = tensor((batch, in_channels, size, size)), tensor((batch, out, out_size, out_size))
    worked = Worked()
    worked.say(f"Main path: {inputs} → {outputs}")
    if projection:
        reasons = []
        if stride != 1:
            reasons.append(f"stride {stride} halves H and W")
        if in_channels != out:
            reasons.append(f"channels change {in_channels} → {out}")
        worked.say(f"The shapes differ ({'; '.join(reasons)}), so x cannot be added as is: y = F(x) + W_s·x")
        worked.say(f"W_s = 1x1 conv, stride {stride}, no bias, then BatchNorm (torchvision's downsample)", 1)
    else:
        worked.say("Same shape in and out: the shortcut is the identity, y = F(x) + x, with no parameters")
    worked.extend(params_worked(result, ("params",) if ask == "params" else ("shape", "macs")))
    value = result.totals.params if ask == "params" else result.totals.macs
    mistakes: list[Mistake] = []
    if projection and ask == "params":
        mistakes.append((Fraction(in_channels * out), "that is the 1x1 conv alone: its BatchNorm adds 2 × C_out"))
        mistakes.append((Fraction(0), "the shapes differ, so the shortcut must be a projection"))
    elif ask == "params":
        mistakes.append((Fraction(in_channels * out + 2 * out), "same shape in and out: the shortcut is an identity"))
    kind = "BasicBlock" if block == "basic" else "Bottleneck block"
    if ask == "params":
        question = (
            "How many parameters does its shortcut have? "
            "(A projection is a 1x1 conv without bias plus BatchNorm; answer 0 for an identity.)"
        )
    else:
        question = "How many MACs does its projection shortcut (1x1 conv, no bias) take for the whole batch?"
    prompt = f"A ResNet {kind} takes {inputs} and outputs {outputs}. {question}"
    key = f"{ask}/{block}/{in_channels}-{out}/s{stride}/{size}/b{batch}"
    facts = {
        "ask": ask,
        "block": block,
        "in": in_channels,
        "out": out,
        "stride": stride,
        "size": size,
        "batch": batch,
        "projection": projection,
    }
    command = (
        f"cnncalc calc pointwise --input {in_channels}x{size}x{size} --out {out} -s {stride} --no-bias "
        f"--batch {batch} --explain"
        if projection
        else ""
    )
    return generated("shortcut", level, key, prompt, exact_number(value), worked, facts, command, mistakes)


# ------------------------------------------------------------------------------------------ bottleneck


def bottleneck_and_plain(width: int, size: int) -> tuple[AnalysisResult, AnalysisResult]:
    """A ResNet-50 bottleneck at `width` (1x1 4w→w, 3x3 w→w, 1x1 w→4w, no bias) and the two plain 3x3 convs at
    4·width it replaces, on one 4w x size x size map."""
    channels = 4 * width
    block_layers = [
        {"type": "pointwise", "out": width, "bias": False},
        {"type": "conv2d", "out": width, "kernel": 3, "padding": 1, "bias": False},
        {"type": "pointwise", "out": channels, "bias": False},
    ]
    plain_layers = [{"type": "conv2d", "out": channels, "kernel": 3, "padding": 1, "bias": False}] * 2
    return analyze_layers((channels, size, size), block_layers), analyze_layers((channels, size, size), plain_layers)


def bottleneck(rng: random.Random, level: Level) -> Question:
    width, size = rng.choice(((64, 56), (128, 28), (256, 14), (512, 7)))
    channels = 4 * width
    ask = rng.choice(
        {Level.easy: ("params",), Level.medium: ("params", "savings"), Level.hard: ("savings", "macs")}[level]
    )
    block, plain = bottleneck_and_plain(width, size)
    worked = Worked()
    worked.say(f"Bottleneck: 1x1 {channels}→{width}, 3x3 {width}→{width}, 1x1 {width}→{channels} (no bias):")
    worked.extend(params_worked(block) if ask != "macs" else _macs_worked(block), 1)
    mistakes: list[Mistake] = []
    answer_format = ""
    if ask == "params":
        expected = exact_number(block.totals.params)
        prompt = (
            f"A ResNet-50-style bottleneck at width {width} works on {channels} channels: 1x1 conv {channels}→{width}, "
            f"3x3 conv {width}→{width} (padding 1), 1x1 conv {width}→{channels}, all without bias. How many conv "
            "parameters does it have (ignore BatchNorm)?"
        )
        mistakes.append((Fraction(plain.totals.params), "that is two 3x3 convs at full width, not the bottleneck"))
    elif ask == "savings":
        savings = Fraction(plain.totals.params, block.totals.params)
        expected = approximate_number(savings, Fraction(1, 100))
        worked.say(f"Two 3x3 convs {channels}→{channels} instead:")
        worked.extend(params_worked(plain), 1)
        worked.say(f"Savings = {num(plain.totals.params)} / {num(block.totals.params)} ≈ {float(savings):.2f}×")
        prompt = (
            f"At {channels} channels, how many times fewer parameters does a bottleneck (1x1 {channels}→{width}, "
            f"3x3 {width}→{width}, 1x1 {width}→{channels}) have than two plain 3x3 convs {channels}→{channels}? "
            "(No bias, ignore BatchNorm; approximately.)"
        )
        answer_format = answer_format_for(expected, TIMES_EXAMPLES)
    else:
        expected = approximate_number(block.totals.macs, APPROX, "M")
        prompt = (
            f"A bottleneck block (1x1 {channels}→{width}, 3x3 {width}→{width} with padding 1, 1x1 {width}→{channels}, "
            f"no bias) runs on one {channels}x{size}x{size} feature map. Approximately how many MACs, in millions?"
        )
    facts = {"ask": ask, "width": width, "channels": channels, "size": size}
    command = (
        f'cnncalc calc stack "pw{width} nobias, conv3 p1 c{width} nobias, pw{channels} nobias" '
        f"--input {channels}x{size}x{size} --explain"
    )
    key = f"{ask}/{width}/{size}"
    return generated("bottleneck", level, key, prompt, expected, worked, facts, command, mistakes, answer_format)


# ------------------------------------------------------------------------------------------ dense-vs-conv

_DENSE_CASES = {
    Level.easy: (((1, 28, 28), 32, 3, 1, 1), ((1, 28, 28), 16, 5, 1, 2), ((3, 32, 32), 16, 3, 1, 1)),
    Level.medium: (((3, 32, 32), 64, 3, 1, 1), ((3, 64, 64), 32, 3, 2, 1), ((3, 224, 224), 64, 7, 2, 3)),
    Level.hard: (((3, 224, 224), 64, 7, 2, 3), ((3, 227, 227), 96, 11, 4, 0), ((64, 56, 56), 64, 3, 1, 1)),
}


def dense_equivalent(input_shape: Sequence[int], output_shape: Sequence[int]) -> AnalysisResult:
    """A fully connected layer (no bias) from a whole input to a whole output (shapes without the batch)."""
    layers = [{"type": "flatten"}, {"type": "linear", "out": math.prod(output_shape), "bias": False}]
    return analyze_layers(tuple(input_shape), layers)


def dense_vs_conv(rng: random.Random, level: Level) -> Question:
    input_shape, out, kernel, stride, padding = rng.choice(_DENSE_CASES[level])
    ask = rng.choice({Level.easy: ("dense",), Level.medium: ("dense", "ratio"), Level.hard: ("dense", "ratio")}[level])
    settings = {"out": out, "kernel": kernel, "stride": stride, "padding": padding}
    conv = analyze_layers(input_shape, [{"type": "conv2d", **settings}])
    conv_row = conv.layers[0]
    dense = dense_equivalent(input_shape, conv_row.output_shape[1:])
    worked = Worked()
    worked.extend(explain_row(conv, conv_row, ("shape", "params")))
    worked.say(
        f"A dense layer from all {product_text(*input_shape)} = {num(dense.layers[0].output_shape[1])} inputs to all "
        f"{product_text(*conv_row.output_shape[1:])} = {num(dense.layers[1].output_shape[1])} outputs, without bias:"
    )
    worked.extend(explain_row(dense, dense.layers[1], ("params",)), 1)
    ratio = Fraction(dense.totals.params, conv.totals.params)
    worked.say(f"Dense / conv = {num(dense.totals.params)} / {num(conv.totals.params)} ≈ {float(ratio):,.0f}×")
    maps = f"{torch_conv(input_shape[0], settings)} maps {tensor(input_shape)} to {tensor(conv_row.output_shape[1:])}"
    if ask == "dense":
        expected = approximate_number(dense.totals.params, APPROX)
        prompt = (
            f"{maps}. A fully connected layer producing the same output from the same input (flattened, no bias) "
            "would need approximately how many parameters?"
        )
    else:
        expected = approximate_number(ratio, APPROX)
        prompt = (
            f"{maps}. How many times more parameters would a fully connected layer (flattened input to flattened "
            "output, no bias) need than this conv (with its bias)? Approximately."
        )
    key = f"{ask}/{grid(input_shape)}/o{out}k{kernel}s{stride}p{padding}"
    facts = {"ask": ask, "input": list(input_shape), **settings}
    command = conv_command(input_shape, settings)
    answer_format = answer_format_for(expected, TIMES_EXAMPLES if ask == "ratio" else "1.2e11, 121B, 121 billion")
    return generated("dense-vs-conv", level, key, prompt, expected, worked, facts, command, answer_format=answer_format)


# ------------------------------------------------------------------------------------------ vit-patch

_VITS = {
    Level.easy: (("ViT-B/16", 224, 16, 768), ("ViT-B/32", 224, 32, 768)),
    Level.medium: (("ViT-B/16", 224, 16, 768), ("ViT-L/16", 224, 16, 1024), ("ViT-S/16", 224, 16, 384)),
    Level.hard: (("ViT-H/14", 224, 14, 1280), ("ViT-B/16 at 384 px", 384, 16, 768), ("DINOv2 ViT-L/14", 518, 14, 1024)),
}


def vit_patch(rng: random.Random, level: Level) -> Question:
    name, size, patch, dim = rng.choice(_VITS[level])
    ask = rng.choice(("tokens", "shape", "params"))
    batch = batch_size(rng, level)
    layers: list[dict[str, Any]] = [{"type": "patch_embed", "patch": patch, "dim": dim}]
    if ask == "tokens":
        layers.append({"type": "class_token"})
    result = analyze_layers((3, size, size), layers, batch)
    embed = result.layers[0]
    worked = explain_row(result, embed, ("shape", "params") if ask == "params" else ("shape",))
    mistakes: list[Mistake] = []
    intro = (
        f"{name} cuts a {tensor((batch, 3, size, size))} batch into {patch}x{patch} patches and embeds each into "
        f"D = {dim} (a {patch}x{patch} conv with stride {patch}, with bias)."
    )
    if ask == "tokens":
        worked.extend(explain_row(result, result.layers[1], ("shape",)))
        tokens = result.layers[1].output_shape[1]
        expected = exact_number(tokens)
        prompt = f"{intro} How many tokens enter the transformer once the class token is prepended?"
        mistakes.append((Fraction(tokens - 1), "that is the patches alone: add the class token"))
    elif ask == "shape":
        expected = shape_answer(embed.output_shape)
        prompt = f"{intro} What is the shape of the patch embedding's output (before the class token)?"
    else:
        expected = exact_number(embed.params)
        prompt = f"{intro} How many parameters does the patch embedding have?"
        mistakes.append((Fraction(embed.params - dim), "that is the weights alone: add the D biases"))
    key = f"{ask}/{size}/p{patch}/d{dim}/b{batch}"
    facts = {"ask": ask, "size": size, "patch": patch, "dim": dim, "batch": batch}
    class_token = " --class-token" if ask == "tokens" else ""
    command = f"cnncalc calc patch-embed --input 3x{size}x{size} --patch {patch} --dim {dim}{class_token} --explain"
    return generated("vit-patch", level, key, prompt, expected, worked, facts, command, mistakes)
