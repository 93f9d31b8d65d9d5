"""Compute questions: MACs and FLOPs, the depthwise-separable cost ratio, activation memory, im2col."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

from cnncalc.calc.compare import explain_separable_ratio, separable_ratio
from cnncalc.calc.explain_layer import explain_row
from cnncalc.calc.network import analyze_layers
from cnncalc.calc.worked import Worked, num, product_text
from cnncalc.drill.building import (
    batch_size,
    conv_command,
    feature_map,
    grid,
    out_channels,
    solution,
    tensor,
    torch_conv,
)
from cnncalc.drill.question import (
    APPROX,
    COUNT_FORMAT,
    RATIO_FORMAT,
    SHAPE_FORMAT,
    TIMES_EXAMPLES,
    Level,
    Question,
    approx_format,
    approximate_number,
    exact_number,
    shape_answer,
)
from cnncalc.render.units import human_bytes

CONVENTION = "one MAC = one multiply-add; FLOPs = 2 × MACs; bias adds are not counted"

# ------------------------------------------------------------------------------------------ macs-flops


def macs_flops(rng: random.Random, level: Level) -> Question:
    channels, height, width = feature_map(rng, level)
    batch = batch_size(rng, level)
    out = out_channels(rng, channels)
    kernel = rng.choice((1, 3, 3, 5)) if channels > 3 else rng.choice((3, 7))
    stride = 1 if level is Level.easy else rng.choice((1, 1, 2))
    groups = 1
    if level is Level.hard and channels > 3 and rng.random() < 0.4:
        groups = rng.choice(tuple(g for g in (1, 2, 4, 8, 32) if channels % g == 0 and out % g == 0))
    ask = "macs" if level is Level.easy else rng.choice(("macs", "flops"))
    approximate = level is Level.hard or (level is Level.medium and rng.random() < 0.5)
    padding = kernel // 2
    layer = {"type": "conv2d", "out": out, "kernel": kernel, "stride": stride, "padding": padding, "groups": groups}
    result = analyze_layers((channels, height, width), [layer], batch)
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
        else (f"How many {what} does it take {whole}?")
    )
    prompt = (
        f"{torch_conv(channels, out, kernel, stride, padding, groups=groups)} runs on an input of shape "
        f"{tensor((batch, channels, height, width))}. {how_many} ({CONVENTION})"
    )
    mistakes: list[tuple[Fraction, str]] = []
    if ask == "macs":
        mistakes.append((Fraction(row.flops), "that is the FLOP count: MACs are half of it"))
    else:
        mistakes.append((Fraction(row.macs), "that is the MAC count: FLOPs = 2 × MACs"))
    if batch > 1:
        mistakes.append((Fraction(value // batch), f"that is one image: multiply by the batch of {batch}"))
    return Question(
        id=f"macs-flops/{ask}/{grid((batch, channels, height, width))}/o{out}k{kernel}s{stride}g{groups}"
        f"{'/approx' if approximate else ''}",
        topic="macs-flops",
        level=level.value,
        prompt=prompt,
        expected=expected,
        solution=solution(worked, expected.describe()),
        answer_format=approx_format(unit, APPROX) if approximate else COUNT_FORMAT,
        facts={
            "ask": ask,
            "input": [channels, height, width],
            "batch": batch,
            "out": out,
            "kernel": kernel,
            "stride": stride,
            "padding": padding,
            "groups": groups,
            "approximate": approximate,
        },
        command=conv_command((channels, height, width), out, kernel, stride, padding, groups=groups, batch=batch),
        mistakes=tuple((mistake, note) for mistake, note in mistakes if mistake != value),
    )


# ------------------------------------------------------------------------------------------ separable-ratio


def separable_ratio_question(rng: random.Random, level: Level) -> Question:
    kernel = {Level.easy: (3,), Level.medium: (3, 5), Level.hard: (3, 5, 7)}[level]
    kernel_size = rng.choice(kernel)
    pools = {
        Level.easy: (64, 128, 256, 512),
        Level.medium: (32, 64, 128, 256, 512, 1024),
        Level.hard: (24, 40, 96, 144, 192, 320, 480, 960),
    }
    out = rng.choice(pools[level])
    in_channels = rng.choice((out, max(16, out // 2)))
    size = rng.choice((112, 56, 28, 14))
    ask = "ratio" if level is Level.easy else rng.choice(("ratio", "speedup"))
    padding = kernel_size // 2
    common = {"kernel": kernel_size, "padding": padding, "bias": False}
    separable = analyze_layers((in_channels, size, size), [{"type": "separable", "out": out, **common}])
    standard = analyze_layers((in_channels, size, size), [{"type": "conv2d", "out": out, **common}])
    ratio = separable_ratio(separable, standard)
    worked = explain_separable_ratio(separable, standard, kernel_size, out, 1)
    mistakes: list[tuple[Fraction, str]] = []
    if ask == "ratio":
        expected = approximate_number(ratio, Fraction(1, 200))
        prompt = (
            f"A standard {kernel_size}x{kernel_size} conv from {in_channels} to {out} channels on a "
            f"{in_channels}x{size}x{size} map is replaced by a depthwise-separable one ({kernel_size}x{kernel_size} "
            "depthwise + 1x1 pointwise), same output size, no bias. What fraction of the standard conv's MACs does "
            "the separable version need?"
        )
        mistakes.append((Fraction(1, kernel_size**2), "that is the depthwise part alone: add 1/C_out"))
        mistakes.append((Fraction(1, out), "that is the pointwise part alone: add 1/K²"))
        answer_format = RATIO_FORMAT + " (within 0.5%)"
    else:
        expected = approximate_number(1 / ratio, Fraction(1, 100))
        prompt = (
            f"How many times fewer MACs does a depthwise-separable {kernel_size}x{kernel_size} conv "
            f"({in_channels}→{out} channels, same output size, no bias) need than a standard one? Approximately."
        )
        mistakes.append((Fraction(kernel_size**2), f"K² = {kernel_size**2} is the limit for large C_out only"))
        answer_format = approx_format("", Fraction(1, 100), TIMES_EXAMPLES)
    return Question(
        id=f"separable-ratio/{ask}/{in_channels}-{out}/k{kernel_size}/{size}",
        topic="separable-ratio",
        level=level.value,
        prompt=prompt,
        expected=expected,
        solution=solution(worked, expected.describe()),
        answer_format=answer_format,
        facts={"ask": ask, "in": in_channels, "out": out, "kernel": kernel_size, "size": size},
        command=f"cnncalc calc separable --input {in_channels}x{size}x{size} --out {out} -k {kernel_size} "
        f"-p {padding} --no-bias --explain",
        mistakes=tuple(mistakes),
    )


# ------------------------------------------------------------------------------------------ activation-memory

_DTYPES = {
    Level.easy: ("float32",),
    Level.medium: ("float32", "float16"),
    Level.hard: ("float32", "bfloat16", "float16"),
}
_DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}


def activation_memory(rng: random.Random, level: Level) -> Question:
    channels, height, width = feature_map(rng, level)
    batch = {Level.easy: 1, Level.medium: rng.choice((8, 32, 64)), Level.hard: rng.choice((32, 64, 128, 256))}[level]
    dtype = rng.choice(_DTYPES[level])
    out = out_channels(rng, channels)
    stride = rng.choice((1, 2))
    conv = {"type": "conv2d", "out": out, "kernel": 3, "stride": stride, "padding": 1, "bias": False}
    block = level is Level.hard and rng.random() < 0.6
    layers: list[dict[str, Any]] = [conv, {"type": "batchnorm2d"}, {"type": "relu"}] if block else [conv]
    result = analyze_layers((channels, height, width), layers, batch, dtype)
    value = result.totals.activation_bytes
    unit = "GiB" if value >= 2**30 else "MiB" if value >= 2**20 else "KiB"
    worked = Worked()
    for row in result.layers:
        worked.extend(explain_row(result, row, ("shape", "memory") if row.index == 0 else ("memory",)))
    if block:
        parts = " + ".join(num(row.activation_bytes) for row in result.layers)
        worked.say(f"Together: {parts} = {num(value)} bytes ≈ {human_bytes(value)}")
    expected = approximate_number(value, APPROX, unit, memory=True)
    described = torch_conv(channels, out, 3, stride, 1, bias=False)
    if block:
        prompt = (
            f"{described}, BatchNorm2d and ReLU (not in place) run on a {dtype} batch of shape "
            f"{tensor((batch, channels, height, width))}. Approximately how much memory do the three outputs take "
            f"together (what training keeps for the backward pass), in {unit}?"
        )
    else:
        prompt = (
            f"{described} runs on a {dtype} batch of shape {tensor((batch, channels, height, width))}. "
            f"Approximately how much memory does its output take, in {unit}?"
        )
    size = _DTYPE_BYTES[dtype]
    mistakes: list[tuple[Fraction, str]] = []
    if size != 4:
        mistakes.append((Fraction(value * 4, size), f"{dtype} takes {size} bytes per element, not 4"))
    return Question(
        id=f"activation-memory/{'block' if block else 'conv'}/{grid((batch, channels, height, width))}/"
        f"o{out}s{stride}/{dtype}",
        topic="activation-memory",
        level=level.value,
        prompt=prompt,
        expected=expected,
        solution=solution(worked, expected.describe()),
        answer_format=approx_format(unit, APPROX, f"12.5, 12.5 {unit}, or a byte count"),
        facts={
            "block": block,
            "input": [channels, height, width],
            "batch": batch,
            "dtype": dtype,
            "out": out,
            "stride": stride,
        },
        command=conv_command((channels, height, width), out, 3, stride, 1, bias=False, batch=batch).replace(
            " --explain", f" --dtype {dtype} --explain"
        ),
        mistakes=tuple(mistakes),
    )


# ------------------------------------------------------------------------------------------ im2col


def im2col(rng: random.Random, level: Level) -> Question:
    channels, height, width = feature_map(rng, level, rectangles=False)
    kernel = rng.choice((3, 3, 5, 7)) if channels <= 3 else rng.choice((1, 3, 3, 5))
    stride = 1 if level is Level.easy else rng.choice((1, 2))
    padding = kernel // 2 if level is not Level.hard else rng.choice((0, kernel // 2))
    out = out_channels(rng, channels)
    ask = {Level.easy: ("unfold",), Level.medium: ("unfold", "weights", "output"), Level.hard: ("batched",)}[level]
    ask_choice = rng.choice(ask)
    batch = batch_size(rng, Level.medium) if ask_choice == "batched" else 1
    layer = {"type": "conv2d", "out": out, "kernel": kernel, "stride": stride, "padding": padding, "bias": False}
    result = analyze_layers((channels, height, width), [layer], batch)
    row = result.layers[0]
    patch = row.params // out  # weights per output channel: the length of one unfolded patch
    positions = row.output_shape[2] * row.output_shape[3]
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
    described = torch_conv(channels, out, kernel, stride, padding, bias=False)
    batch_axis = False
    if ask_choice == "unfold":
        shape: tuple[int, ...] = (patch, positions)
        what = "the unfolded input matrix (rows = values per patch, columns = patches)"
    elif ask_choice == "weights":
        shape = (out, patch)
        what = "the weight matrix it multiplies (rows = output channels)"
    elif ask_choice == "output":
        shape = (out, positions)
        what = "the GEMM's output matrix, before it is reshaped to a feature map"
    else:
        shape = (batch, patch, positions)
        batch_axis = True
        what = "the tensor torch.nn.functional.unfold returns for the whole batch, (B, C·k·k, L)"
        worked.say(f"For the batch, unfold gives (B, C·k·k, L) = {grid(shape)}")
    prompt = (
        f"{described} on {tensor((batch, channels, height, width))} is computed as a matrix multiply (im2col). "
        f"What is the shape of {what}?"
    )
    mistakes = [((positions, patch), "rows and columns swapped: rows are the C·k·k values of one patch")]
    return Question(
        id=f"im2col/{ask_choice}/{grid((batch, channels, height, width))}/o{out}k{kernel}s{stride}p{padding}",
        topic="im2col",
        level=level.value,
        prompt=prompt,
        expected=shape_answer(shape, batch_axis=batch_axis),
        solution=solution(worked, grid(shape)),
        answer_format=SHAPE_FORMAT.split(";")[0] + " (rows x columns)",
        facts={
            "ask": ask_choice,
            "input": [channels, height, width],
            "batch": batch,
            "out": out,
            "kernel": kernel,
            "stride": stride,
            "padding": padding,
        },
        command=conv_command((channels, height, width), out, kernel, stride, padding, bias=False),
        mistakes=tuple(m for m in mistakes if ask_choice == "unfold"),
    )
