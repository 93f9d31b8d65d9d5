"""Output-size questions: convolution (stride, padding, dilation, "same" padding), pooling, transposed conv."""

from __future__ import annotations

import random
from collections.abc import Sequence
from fractions import Fraction

from cnncalc.base import arithmetic
from cnncalc.calc.explain_layer import explain_row
from cnncalc.calc.network import analyze_layers
from cnncalc.calc.worked import Worked
from cnncalc.drill.building import generated
from cnncalc.drill.question import Level, Mistake, Question, exact_number, shape_answer
from cnncalc.drill.realistic import batch_size, feature_map, out_channels
from cnncalc.drill.wording import conv_command, grid, pool_command, tensor, torch_conv, torch_pool, torch_transposed

MAX_TRIES = 50  # draws of a case before the last one is kept, even with an empty output


def conv_output(rng: random.Random, level: Level) -> Question:
    same_share = {Level.easy: 0.15, Level.medium: 0.25, Level.hard: 0.3}[level]
    if rng.random() < same_share:
        return _same_padding(rng, level)
    return _conv_shape(rng, level)


def _conv_sizes(sizes: Sequence[int], kernel: int, stride: int, padding: int, dilation: int) -> tuple[int, ...]:
    """The output sizes of a conv with the same padding on both sides, one per input size."""
    return tuple(arithmetic.conv_output_size(n, kernel, stride, padding, padding, dilation) for n in sizes)


def _conv_shape(rng: random.Random, level: Level) -> Question:
    for _ in range(MAX_TRIES):
        shape = feature_map(rng, level)
        batch = batch_size(rng, level)
        out = out_channels(rng, shape[0])
        dilation = 1
        if level is Level.easy:
            kernel = rng.choice((1, 3, 3, 5, 7))
            stride = rng.choice((1, 2))
            padding = kernel // 2
        elif level is Level.medium:
            kernel = rng.choice((1, 3, 3, 5, 7, 11))
            stride = rng.choice((1, 2, 2, 4)) if kernel == 11 else rng.choice((1, 2))
            padding = rng.choice((0, kernel // 2))
        else:
            kernel = rng.choice((3, 3, 5, 7, 11))
            stride = rng.choice((1, 2, 3, 4))
            dilation = rng.choice((1, 2, 3, 4, 6))
            padding = rng.randint(0, dilation * (kernel - 1) // 2 + 1)
        if min(_conv_sizes(shape[1:], kernel, stride, padding, dilation)) >= 1:
            break
    conv = {"out": out, "kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    result = analyze_layers(shape, [{"type": "conv2d", **conv}], batch)
    row = result.layers[0]
    worked = explain_row(result, row, ("shape",))
    forgot_one = tuple(size - 1 for size in row.output_shape[2:])
    mistakes = [((batch, out, *forgot_one), "the formula ends with + 1: the first window sits at position 0")]
    if padding:
        unpadded = _conv_sizes(shape[1:], kernel, stride, 0, dilation)
        mistakes.append(((batch, out, *unpadded), f"that ignores the padding: add 2·{padding} to the input size"))
    if dilation > 1:
        undilated = _conv_sizes(shape[1:], kernel, stride, padding, 1)
        mistakes.append(((batch, out, *undilated), "that ignores the dilation: the kernel spans d·(k − 1) + 1"))
    inputs = (batch, *shape)
    prompt = f"{torch_conv(shape[0], conv)} is applied to an input of shape {tensor(inputs)}. What is the output shape?"
    key = f"shape/{grid(inputs)}/o{out}k{kernel}s{stride}p{padding}d{dilation}"
    expected = shape_answer(row.output_shape)
    facts = {"variant": "shape", "input": list(shape), "batch": batch, **conv}
    command = conv_command(shape, conv, batch)
    return generated(
        "conv-output", level, key, prompt, expected, worked, facts, command, _shape_mistakes(mistakes, row.output_shape)
    )


def _shape_mistakes(candidates: list[Mistake], answer: tuple[int, ...]) -> tuple[Mistake, ...]:
    """The wrong shapes that are not the answer, each also without its batch axis (the grader accepts answers
    without one)."""
    mistakes: list[Mistake] = []
    for shape, note in candidates:
        if shape != answer:
            mistakes.extend([(shape, note), (shape[1:], note)])
    return tuple(mistakes)


def _same_padding(rng: random.Random, level: Level) -> Question:
    channels, size, _ = feature_map(rng, level, rectangles=False)
    kernel = rng.choice({Level.easy: (3, 5, 7), Level.medium: (3, 5, 7), Level.hard: (3, 5, 7, 9, 11)}[level])
    dilation = rng.choice({Level.easy: (1,), Level.medium: (1, 1, 2), Level.hard: (1, 2, 3, 4, 6)}[level])
    left, right = arithmetic.same_padding(size, kernel, 1, dilation)
    assert left == right  # an odd kernel span pads equally on both sides
    layer = {"type": "conv2d", "out": channels, "kernel": kernel, "padding": left, "dilation": dilation}
    result = analyze_layers((channels, size, size), [layer])
    row = result.layers[0]
    if row.output_shape[2:] != (size, size):
        raise AssertionError(f"engine: padding {left} does not keep {size} for k={kernel}, d={dilation}")
    span = arithmetic.effective_kernel(kernel, dilation)
    worked = Worked()
    worked.say("With stride 1, out = n + 2p − k_eff + 1, so out = n needs 2p = k_eff − 1, p = (k_eff − 1) / 2")
    if dilation > 1:
        worked.say(f"k_eff = d·(k − 1) + 1 = {dilation}·({kernel} − 1) + 1 = {span}", 1)
    worked.say(f"p = ({span} − 1) / 2 = {left}", 1)
    worked.say("Check with the engine's row:")
    worked.extend(explain_row(result, row, ("shape",)), 1)
    remarks = []
    mistakes: list[Mistake] = []
    if dilation > 1:
        remarks.append(f"⌊k/2⌋ = {kernel // 2} is the rule for an undilated odd kernel; dilation widens the span.")
        wrong = Fraction(kernel // 2)
        mistakes.append((wrong, f"⌊k/2⌋ = {kernel // 2} ignores the dilation: use (d·(k − 1) + 1 − 1) / 2"))
    dilated = f" with dilation {dilation}" if dilation > 1 else ""
    prompt = (
        f"A {kernel}x{kernel} convolution{dilated}, stride 1, runs on a {channels}x{size}x{size} feature map. "
        f"What padding p (on each side) keeps the output at {size}x{size}?"
    )
    key = f"same/{channels}x{size}/k{kernel}d{dilation}"
    facts = {"variant": "same-padding", "channels": channels, "size": size, "kernel": kernel, "dilation": dilation}
    command = conv_command((channels, size, size), layer)
    return generated(
        "conv-output", level, key, prompt, exact_number(left), worked, facts, command, mistakes, remarks=remarks
    )


def _pool_sizes(sizes: Sequence[int], kernel: int, stride: int, padding: int, ceil_mode: bool) -> tuple[int, ...]:
    """The output sizes of a pool, one per input size."""
    return tuple(arithmetic.pool_output_size(n, kernel, stride, padding, 1, ceil_mode) for n in sizes)


def pool_output(rng: random.Random, level: Level) -> Question:
    for _ in range(MAX_TRIES):
        channels, height, width = feature_map(rng, level)
        batch = batch_size(rng, level)
        kind = "maxpool2d" if rng.random() < 0.8 else "avgpool2d"
        ceil_mode = False
        if level is Level.easy:
            kernel, stride, padding = rng.choice(((2, 2, 0), (2, 2, 0), (3, 2, 1)))
            if height % 2 or width % 2:
                continue
        elif level is Level.medium:
            kernel, stride, padding = rng.choice(((2, 2, 0), (3, 2, 0), (3, 2, 1), (3, 1, 1)))
            ceil_mode = rng.random() < 0.5
            height = width = rng.choice((112, 56, 55, 57, 27, 28, 13, 14, 113, 147, 75))
        else:
            kernel = rng.choice((2, 3, 3, 5))
            stride = rng.choice((1, 2, 2, 3))
            padding = rng.randint(0, kernel // 2)
            ceil_mode = rng.random() < 0.7
        if min(_pool_sizes((height, width), kernel, stride, padding, ceil_mode)) >= 1:
            break
    shape = (channels, height, width)
    pool = {"kernel": kernel, "stride": stride, "padding": padding, "ceil_mode": ceil_mode}
    result = analyze_layers(shape, [{"type": kind, **pool}], batch)
    row = result.layers[0]
    other = _pool_sizes((height, width), kernel, stride, padding, not ceil_mode)
    note = (
        "that rounds down; ceil_mode=True rounds up"
        if ceil_mode
        else "that rounds up; without ceil_mode it is the floor"
    )
    inputs = (batch, *shape)
    prompt = f"{torch_pool(kind, **pool)} is applied to an input of shape {tensor(inputs)}. What is the output shape?"
    key = f"{kind}/{grid(inputs)}/k{kernel}s{stride}p{padding}c{int(ceil_mode)}"
    worked = explain_row(result, row, ("shape",))
    facts = {"kind": kind, "input": list(shape), "batch": batch, **pool}
    command = pool_command(kind, shape, **pool, batch=batch)
    mistakes = _shape_mistakes([((batch, channels, *other), note)], row.output_shape)
    return generated(
        "pool-output", level, key, prompt, shape_answer(row.output_shape), worked, facts, command, mistakes
    )


def transposed_output(rng: random.Random, level: Level) -> Question:
    for _ in range(MAX_TRIES):
        channels, size = rng.choice(((512, 7), (256, 14), (128, 28), (64, 56), (1024, 8), (256, 16), (128, 32)))
        height = width = size
        batch = batch_size(rng, level)
        out = max(3, channels // 2)
        dilation, output_padding = 1, 0
        if level is Level.easy:
            kernel, stride, padding = rng.choice(((2, 2, 0), (4, 2, 1)))
        elif level is Level.medium:
            kernel, stride, padding, output_padding = rng.choice(
                ((2, 2, 0, 0), (4, 2, 1, 0), (3, 2, 1, 1), (3, 2, 1, 0), (3, 1, 1, 0), (5, 2, 2, 1))
            )
        else:
            kernel = rng.choice((3, 4, 5, 7))
            stride = rng.choice((2, 3, 4))
            dilation = rng.choice((1, 1, 2))
            padding = rng.randint(0, kernel // 2 + 1)
            output_padding = rng.randint(0, max(stride, dilation) - 1)
            if rng.random() < 0.3:
                height, width = size, 2 * size
        sizes = [
            arithmetic.transposed_output_size(n, kernel, stride, padding, output_padding, dilation)
            for n in (height, width)
        ]
        if min(sizes) >= 1:
            break
    shape = (channels, height, width)
    deconv = {
        "out": out,
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
    }
    result = analyze_layers(shape, [{"type": "conv_transpose2d", **deconv}], batch)
    row = result.layers[0]
    as_conv = _conv_sizes(shape[1:], kernel, stride, padding, dilation)
    note = "that is the ordinary conv formula; a transposed conv upsamples"
    inputs = (batch, *shape)
    prompt = (
        f"{torch_transposed(channels, **deconv)} is applied to an input of shape {tensor(inputs)}. "
        "What is the output shape?"
    )
    key = f"{grid(inputs)}/o{out}k{kernel}s{stride}p{padding}op{output_padding}d{dilation}"
    worked = explain_row(result, row, ("shape",))
    facts = {"input": list(shape), "batch": batch, **deconv}
    command = (
        f"cnncalc calc conv-transpose --input {grid(shape)} --out {out} -k {kernel} -s {stride} -p {padding} "
        f"--output-padding {output_padding} -d {dilation} --explain"
    )
    mistakes = _shape_mistakes([((batch, out, *as_conv), note)], row.output_shape)
    return generated(
        "transposed-output", level, key, prompt, shape_answer(row.output_shape), worked, facts, command, mistakes
    )
