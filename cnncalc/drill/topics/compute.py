"""Compute questions: MACs and FLOPs, the depthwise-separable cost ratio, activation memory, im2col."""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Any

from cnncalc.calc.compare import explain_separable_ratio, separable_ratio
from cnncalc.calc.explain_layer import explain_row
from cnncalc.calc.network import analyze_layers
from cnncalc.calc.worked import Worked, num, product_text
from cnncalc.drill.building import excluding_answer, generated
from cnncalc.drill.question import (
    APPROX,
    RATIO_FORMAT,
    SHAPE_FORMAT,
    TIMES_EXAMPLES,
    Level,
    Question,
    answer_format_for,
    approximate_number,
    exact_number,
    shape_answer,
)
from cnncalc.drill.realistic import batch_size, feature_map, out_channels
from cnncalc.drill.wording import conv_command, grid, tensor, torch_conv
from cnncalc.language.document import DTYPE_BYTES
from cnncalc.render.units import human_bytes

CONVENTION = "one MAC = one multiply-add; FLOPs = 2 × MACs; bias adds are not counted"

# ------------------------------------------------------------------------------------------ macs-flops


def macs_flops(rng: random.Random, level: Level) -> Question:
    shape = feature_map(rng, level)
    channels = shape[0]
    batch = batch_size(rng, level)
    out = out_channels(rng, channels)
    kernel = rng.choice((1, 3, 3, 5)) if channels > 3 else rng.choice((3, 7))
    stride = 1 if level is Level.easy else rng.choice((1, 1, 2))
    groups = 1
    if level is Level.hard and channels > 3 and rng.random() < 0.4:
        groups = rng.choice(tuple(g for g in (1, 2, 4, 8, 32) if channels % g == 0 and out % g == 0))
    ask = "macs" if level is Level.easy else rng.choice(("macs", "flops"))
    approximate = level is Level.hard or (level is Level.medium and rng.random() < 0.5)
    conv = {"out": out, "kernel": kernel, "stride": stride, "padding": kernel // 2, "groups": groups}
    result = analyze_layers(shape, [{"type": "conv2d", **conv}], batch)
    row = result.layers[0]
    value = row.macs if ask == "macs" else row.flops
    worked = explain_row(result, row, ("shape", "macs"))
    unit = "G" if value >= 10**9 else "M"
    expected = approximate_number(value, APPROX, unit) if approximate else exact_number(value)
    what = "MACs" if ask == "macs" else "FLOPs"
    whole = "for the whole batch" if batch > 1 else "for this one image"
    how_many = (
        f"Approximately how many {what} does it take {whole}, in {unit}{what}?"
        if approximate
        else f"How many {what} does it take {whole}?"
    )
    inputs = (batch, *shape)
    prompt = f"{torch_conv(channels, conv)} runs on an input of shape {tensor(inputs)}. {how_many} ({CONVENTION})"
    if ask == "macs":
        mistakes = [(Fraction(row.flops), "that is the FLOP count: MACs are half of it")]
    else:
        mistakes = [(Fraction(row.macs), "that is the MAC count: FLOPs = 2 × MACs")]
    if batch > 1:
        mistakes.append((Fraction(value // batch), f"that is one image: multiply by the batch of {batch}"))
    key = f"{ask}/{grid(inputs)}/o{out}k{kernel}s{stride}g{groups}{'/approx' if approximate else ''}"
    facts = {"ask": ask, "input": list(shape), "batch": batch, **conv, "approximate": approximate}
    command = conv_command(shape, conv, batch)
    return generated(
        "macs-flops", level, key, prompt, expected, worked, facts, command, excluding_answer(mistakes, value)
    )


# ------------------------------------------------------------------------------------------ separable-ratio


def separable_vs_standard(in_channels: int, size: int, out: int, kernel: int) -> tuple[Fraction, Worked]:
    """The MAC ratio separable / standard of a k x k conv that keeps the size (no bias), and its worked solution."""
    common = {"kernel": kernel, "padding": kernel // 2, "bias": False}
    separable = analyze_layers((in_channels, size, size), [{"type": "separable", "out": out, **common}])
    standard = analyze_layers((in_channels, size, size), [{"type": "conv2d", "out": out, **common}])
    return separable_ratio(separable, standard), explain_separable_ratio(separable, standard, kernel, out, 1)


def separable_ratio_question(rng: random.Random, level: Level) -> Question:
    kernel = rng.choice({Level.easy: (3,), Level.medium: (3, 5), Level.hard: (3, 5, 7)}[level])
    pools = {
        Level.easy: (64, 128, 256, 512),
        Level.medium: (32, 64, 128, 256, 512, 1024),
        Level.hard: (24, 40, 96, 144, 192, 320, 480, 960),
    }
    out = rng.choice(pools[level])
    in_channels = rng.choice((out, max(16, out // 2)))
    size = rng.choice((112, 56, 28, 14))
    ask = "ratio" if level is Level.easy else rng.choice(("ratio", "speedup"))
    ratio, worked = separable_vs_standard(in_channels, size, out, kernel)
    if ask == "ratio":
        expected = approximate_number(ratio, Fraction(1, 200))
        prompt = (
            f"A standard {kernel}x{kernel} conv from {in_channels} to {out} channels on a {in_channels}x{size}x{size} "
            f"map is replaced by a depthwise-separable one ({kernel}x{kernel} depthwise + 1x1 pointwise), same output "
            "size, no bias. What fraction of the standard conv's MACs does the separable version need?"
        )
        mistakes = [
            (Fraction(1, kernel**2), "that is the depthwise part alone: add 1/C_out"),
            (Fraction(1, out), "that is the pointwise part alone: add 1/K²"),
        ]
        answer_format = RATIO_FORMAT + " (within 0.5%)"
    else:
        expected = approximate_number(1 / ratio, Fraction(1, 100))
        prompt = (
            f"How many times fewer MACs does a depthwise-separable {kernel}x{kernel} conv "
            f"({in_channels}→{out} channels, same output size, no bias) need than a standard one? Approximately."
        )
        mistakes = [(Fraction(kernel**2), f"K² = {kernel**2} is the limit for large C_out only")]
        answer_format = answer_format_for(expected, TIMES_EXAMPLES)
    key = f"{ask}/{in_channels}-{out}/k{kernel}/{size}"
    facts = {"ask": ask, "in": in_channels, "out": out, "kernel": kernel, "size": size}
    command = (
        f"cnncalc calc separable --input {in_channels}x{size}x{size} --out {out} -k {kernel} -p {kernel // 2} "
        "--no-bias --explain"
    )
    return generated("separable-ratio", level, key, prompt, expected, worked, facts, command, mistakes, answer_format)


# ------------------------------------------------------------------------------------------ activation-memory

_DTYPES = {
    Level.easy: ("float32",),
    Level.medium: ("float32", "float16"),
    Level.hard: ("float32", "bfloat16", "float16"),
}


def activation_memory(rng: random.Random, level: Level) -> Question:
    shape = feature_map(rng, level)
    channels = shape[0]
    # Both choices are drawn at every level, so that the rest of a seed's questions stay the same.
    batch = {Level.easy: 1, Level.medium: rng.choice((8, 32, 64)), Level.hard: rng.choice((32, 64, 128, 256))}[level]
    dtype = rng.choice(_DTYPES[level])
    out = out_channels(rng, channels)
    stride = rng.choice((1, 2))
    conv = {"out": out, "kernel": 3, "stride": stride, "padding": 1, "bias": False}
    block = level is Level.hard and rng.random() < 0.6
    layers: list[dict[str, Any]] = [{"type": "conv2d", **conv}]
    if block:
        layers += [{"type": "batchnorm2d"}, {"type": "relu"}]
    result = analyze_layers(shape, layers, batch, dtype)
    value = result.totals.activation_bytes
    unit = "GiB" if value >= 2**30 else "MiB" if value >= 2**20 else "KiB"
    worked = Worked()
    for row in result.layers:
        worked.extend(explain_row(result, row, ("shape", "memory") if row.index == 0 else ("memory",)))
    if block:
        parts = " + ".join(num(row.activation_bytes) for row in result.layers)
        worked.say(f"Together: {parts} = {num(value)} bytes ≈ {human_bytes(value)}")
    expected = approximate_number(value, APPROX, unit, memory=True)
    inputs = (batch, *shape)
    if block:
        prompt = (
            f"{torch_conv(channels, conv)}, BatchNorm2d and ReLU (not in place) run on a {dtype} batch of shape "
            f"{tensor(inputs)}. Approximately how much memory do the three outputs take together (what training "
            f"keeps for the backward pass), in {unit}?"
        )
    else:
        prompt = (
            f"{torch_conv(channels, conv)} runs on a {dtype} batch of shape {tensor(inputs)}. "
            f"Approximately how much memory does its output take, in {unit}?"
        )
    size = DTYPE_BYTES[dtype]
    mistakes = [(Fraction(value * 4, size), f"{dtype} takes {size} bytes per element, not 4")] if size != 4 else []
    key = f"{'block' if block else 'conv'}/{grid(inputs)}/o{out}s{stride}/{dtype}"
    facts = {"block": block, "input": list(shape), "batch": batch, "dtype": dtype, "out": out, "stride": stride}
    command = conv_command(shape, conv, batch).replace(" --explain", f" --dtype {dtype} --explain")
    answer_format = answer_format_for(expected, f"12.5, 12.5 {unit}, or a byte count")
    return generated("activation-memory", level, key, prompt, expected, worked, facts, command, mistakes, answer_format)


# ------------------------------------------------------------------------------------------ im2col


def im2col(rng: random.Random, level: Level) -> Question:
    shape = feature_map(rng, level, rectangles=False)
    channels = shape[0]
    kernel = rng.choice((3, 3, 5, 7)) if channels <= 3 else rng.choice((1, 3, 3, 5))
    stride = 1 if level is Level.easy else rng.choice((1, 2))
    padding = kernel // 2 if level is not Level.hard else rng.choice((0, kernel // 2))
    out = out_channels(rng, channels)
    asks = {Level.easy: ("unfold",), Level.medium: ("unfold", "weights", "output"), Level.hard: ("batched",)}
    ask = rng.choice(asks[level])
    batch = batch_size(rng, Level.medium) if ask == "batched" else 1
    conv = {"out": out, "kernel": kernel, "stride": stride, "padding": padding}
    layer = {"type": "conv2d", **conv, "bias": False}
    result = analyze_layers(shape, [layer], batch)
    row = result.layers[0]
    patch = row.params // out  # weights per output channel: the length of one unfolded patch
    positions = math.prod(row.output_shape[2:])
    worked = explain_row(result, row, ("shape", "params"))
    worked.say(
        f"One patch = C_in × k × k = {product_text(channels, kernel, kernel)} = {num(patch)} values "
        f"(= params / C_out = {num(row.params)} / {out})"
    )
    worked.say(f"Patches L = H_out × W_out = {product_text(*row.output_shape[2:])} = {num(positions)}")
    worked.say(
        f"GEMM: weights ({out} x {num(patch)}) × unfolded input ({num(patch)} x {num(positions)}) = "
        f"output ({out} x {num(positions)}), reshaped to {grid(row.output_shape[1:])}"
    )
    # The matrix each variant asks the shape of, and how the prompt names it.
    matrices = {
        "unfold": ((patch, positions), "the unfolded input matrix (rows = values per patch, columns = patches)"),
        "weights": ((out, patch), "the weight matrix it multiplies (rows = output channels)"),
        "output": ((out, positions), "the GEMM's output matrix, before it is reshaped to a feature map"),
        "batched": (
            (batch, patch, positions),
            "the tensor torch.nn.functional.unfold returns for the whole batch, (B, C·k·k, L)",
        ),
    }
    matrix, what = matrices[ask]
    if ask == "batched":
        worked.say(f"For the batch, unfold gives (B, C·k·k, L) = {grid(matrix)}")
    inputs = (batch, *shape)
    prompt = (
        f"{torch_conv(channels, layer)} on {tensor(inputs)} is computed as a matrix multiply (im2col). "
        f"What is the shape of {what}?"
    )
    swapped = ((positions, patch), "rows and columns swapped: rows are the C·k·k values of one patch")
    key = f"{ask}/{grid(inputs)}/o{out}k{kernel}s{stride}p{padding}"
    expected = shape_answer(matrix, batch_axis=ask == "batched")
    facts = {"ask": ask, "input": list(shape), "batch": batch, **conv}
    command = conv_command(shape, layer)
    mistakes = [swapped] if ask == "unfold" else []
    answer_format = SHAPE_FORMAT.split(";")[0] + " (rows x columns)"
    return generated("im2col", level, key, prompt, expected, worked, facts, command, mistakes, answer_format)
