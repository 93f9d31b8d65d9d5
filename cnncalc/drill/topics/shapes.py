"""Output-size questions: convolution (stride, padding, dilation, "same" padding), pooling, transposed conv."""

from __future__ import annotations

import random
from fractions import Fraction

from cnncalc.base import arithmetic
from cnncalc.calc.explain_layer import explain_row
from cnncalc.calc.network import analyze_layers
from cnncalc.calc.worked import Worked
from cnncalc.drill.building import (
    batch_size,
    conv_command,
    feature_map,
    grid,
    out_channels,
    solution,
    tensor,
    torch_conv,
    torch_pool,
    torch_transposed,
)
from cnncalc.drill.question import COUNT_FORMAT, SHAPE_FORMAT, Level, Question, exact_number, shape_answer

MAX_TRIES = 50


def conv_output(rng: random.Random, level: Level) -> Question:
    same_share = {Level.easy: 0.15, Level.medium: 0.25, Level.hard: 0.3}[level]
    if rng.random() < same_share:
        return _same_padding(rng, level)
    return _conv_shape(rng, level)


def _conv_shape(rng: random.Random, level: Level) -> Question:
    for _ in range(MAX_TRIES):
        channels, height, width = feature_map(rng, level)
        batch = batch_size(rng, level)
        out = out_channels(rng, channels)
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
        sizes = [arithmetic.conv_output_size(n, kernel, stride, padding, padding, dilation) for n in (height, width)]
        if min(sizes) >= 1:
            break
    layer = {
        "type": "conv2d",
        "out": out,
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }
    result = analyze_layers((channels, height, width), [layer], batch)
    row = result.layers[0]
    worked = explain_row(result, row, ("shape",))
    mistakes = []
    forgot_one = tuple(size - 1 for size in row.output_shape[2:])
    mistakes.append(((batch, out, *forgot_one), "the formula ends with + 1: the first window sits at position 0"))
    if padding:
        unpadded = tuple(arithmetic.conv_output_size(n, kernel, stride, 0, 0, dilation) for n in (height, width))
        mistakes.append(((batch, out, *unpadded), f"that ignores the padding: add 2·{padding} to the input size"))
    if dilation > 1:
        undilated = tuple(arithmetic.conv_output_size(n, kernel, stride, padding, padding, 1) for n in (height, width))
        mistakes.append(((batch, out, *undilated), "that ignores the dilation: the kernel spans d·(k − 1) + 1"))
    prompt = (
        f"{torch_conv(channels, out, kernel, stride, padding, dilation)} is applied to an input of shape "
        f"{tensor((batch, channels, height, width))}. What is the output shape?"
    )
    return Question(
        id=f"conv-output/shape/{grid((batch, channels, height, width))}/o{out}k{kernel}s{stride}p{padding}d{dilation}",
        topic="conv-output",
        level=level.value,
        prompt=prompt,
        expected=shape_answer(row.output_shape),
        solution=solution(worked, grid(row.output_shape)),
        answer_format=SHAPE_FORMAT,
        facts={
            "variant": "shape",
            "input": [channels, height, width],
            "batch": batch,
            "out": out,
            "kernel": kernel,
            "stride": stride,
            "padding": padding,
            "dilation": dilation,
        },
        command=conv_command((channels, height, width), out, kernel, stride, padding, dilation, batch=batch),
        mistakes=_shape_mistakes(mistakes, row.output_shape),
    )


def _shape_mistakes(
    candidates: list[tuple[tuple[int, ...], str]], answer: tuple[int, ...]
) -> tuple[tuple[tuple[int, ...], str], ...]:
    """Each wrong shape also without its batch axis (the grader accepts answers without one)."""
    mistakes = []
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
    notes = []
    mistakes: list[tuple[Fraction, str]] = []
    if dilation > 1:
        notes.append(f"⌊k/2⌋ = {kernel // 2} is the rule for an undilated odd kernel; dilation widens the span.")
        wrong = Fraction(kernel // 2)
        mistakes.append((wrong, f"⌊k/2⌋ = {kernel // 2} ignores the dilation: use (d·(k − 1) + 1 − 1) / 2"))
    dilated = f" with dilation {dilation}" if dilation > 1 else ""
    prompt = (
        f"A {kernel}x{kernel} convolution{dilated}, stride 1, runs on a {channels}x{size}x{size} feature map. "
        f"What padding p (on each side) keeps the output at {size}x{size}?"
    )
    return Question(
        id=f"conv-output/same/{channels}x{size}/k{kernel}d{dilation}",
        topic="conv-output",
        level=level.value,
        prompt=prompt,
        expected=exact_number(left),
        solution=solution(worked, str(left), notes),
        answer_format=COUNT_FORMAT,
        facts={"variant": "same-padding", "channels": channels, "size": size, "kernel": kernel, "dilation": dilation},
        command=conv_command((channels, size, size), channels, kernel, 1, left, dilation),
        mistakes=tuple(mistakes),
    )


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
        sizes = [arithmetic.pool_output_size(n, kernel, stride, padding, 1, ceil_mode) for n in (height, width)]
        if min(sizes) >= 1:
            break
    layer = {"type": kind, "kernel": kernel, "stride": stride, "padding": padding, "ceil_mode": ceil_mode}
    result = analyze_layers((channels, height, width), [layer], batch)
    row = result.layers[0]
    other = tuple(arithmetic.pool_output_size(n, kernel, stride, padding, 1, not ceil_mode) for n in (height, width))
    note = (
        "that rounds down; ceil_mode=True rounds up"
        if ceil_mode
        else "that rounds up; without ceil_mode it is the floor"
    )
    mistakes = _shape_mistakes([((batch, channels, *other), note)], row.output_shape)
    prompt = (
        f"{torch_pool(kind, kernel, stride, padding, ceil_mode)} is applied to an input of shape "
        f"{tensor((batch, channels, height, width))}. What is the output shape?"
    )
    command = f"cnncalc calc {kind[:-2]} --input {grid((channels, height, width))} -k {kernel} -s {stride}"
    command += f" -p {padding}" if padding else ""
    command += " --ceil-mode" if ceil_mode else ""
    return Question(
        id=f"pool-output/{kind}/{grid((batch, channels, height, width))}/k{kernel}s{stride}p{padding}c{int(ceil_mode)}",
        topic="pool-output",
        level=level.value,
        prompt=prompt,
        expected=shape_answer(row.output_shape),
        solution=solution(explain_row(result, row, ("shape",)), grid(row.output_shape)),
        answer_format=SHAPE_FORMAT,
        facts={
            "kind": kind,
            "input": [channels, height, width],
            "batch": batch,
            "kernel": kernel,
            "stride": stride,
            "padding": padding,
            "ceil_mode": ceil_mode,
        },
        command=command + f"{f' --batch {batch}' if batch > 1 else ''} --explain",
        mistakes=mistakes,
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
    layer = {
        "type": "conv_transpose2d",
        "out": out,
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
    }
    result = analyze_layers((channels, height, width), [layer], batch)
    row = result.layers[0]
    as_conv = tuple(arithmetic.conv_output_size(n, kernel, stride, padding, padding, dilation) for n in (height, width))
    mistakes = _shape_mistakes(
        [((batch, out, *as_conv), "that is the ordinary conv formula; a transposed conv upsamples")],
        row.output_shape,
    )
    prompt = (
        f"{torch_transposed(channels, out, kernel, stride, padding, output_padding, dilation)} is applied to an "
        f"input of shape {tensor((batch, channels, height, width))}. What is the output shape?"
    )
    command = (
        f"cnncalc calc conv-transpose --input {grid((channels, height, width))} --out {out} -k {kernel} -s {stride}"
        f" -p {padding} --output-padding {output_padding} -d {dilation} --explain"
    )
    return Question(
        id=(
            f"transposed-output/{grid((batch, channels, height, width))}/"
            f"o{out}k{kernel}s{stride}p{padding}op{output_padding}d{dilation}"
        ),
        topic="transposed-output",
        level=level.value,
        prompt=prompt,
        expected=shape_answer(row.output_shape),
        solution=solution(explain_row(result, row, ("shape",)), grid(row.output_shape)),
        answer_format=SHAPE_FORMAT,
        facts={
            "input": [channels, height, width],
            "batch": batch,
            "out": out,
            "kernel": kernel,
            "stride": stride,
            "padding": padding,
            "output_padding": output_padding,
            "dilation": dilation,
        },
        command=command,
        mistakes=mistakes,
    )
