"""The study notes' own worked examples, as fixed questions: answered by the engine, corrected where wrong.

The notes (../shared/seeds, numbered 000-004) quote these examples; where a quoted figure is off, the
solution says so and shows the engine's number:

- 002 §13 gives the FLOPs of a 3x3 conv 32 -> 64 on 64x64 as ≈ 1.5×10⁹; the exact count for one image is
  2·64·64·9·32·64 = 150,994,944 ≈ 1.5×10⁸: the note is off by 10×.
- 003 §8's stage table gives receptive fields "~35" and "~91" for a ResNet-18 walkthrough; those are exactly
  ResNet-50's layer1 and layer2 values (35, 91); ResNet-18's stages have 43, 99, 211 and 435.
- 003 §3 puts a dense layer from 224·224·3 to 112·112·64 at "≈ 24 billion" parameters; it is ≈ 121 billion.
- 003 §8 shows MaxPool 3x3/2 taking 112 to 56, which needs padding 1 (torchvision's); without it, 55.

Each example is a row of the table at the end: what the notes ask and where, and the function that works the
answer out with the engine. The engine runs when a question is first drawn (the ResNet ones analyse whole
networks), once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, partial
from typing import Any

from cnncalc.base.tensor import AxisField
from cnncalc.calc.explain_field import explain_field_stack
from cnncalc.calc.explain_layer import explain_row
from cnncalc.calc.geometry import conv_geometry, input_shape_of
from cnncalc.calc.network import analyze_layers
from cnncalc.calc.worked import Worked, num, product_text
from cnncalc.drill.answers import Expected
from cnncalc.drill.building import solution
from cnncalc.drill.question import (
    APPROX,
    RATIO_FORMAT,
    Mistake,
    Question,
    answer_format_for,
    approx_format,
    approximate_number,
    exact_number,
    shape_answer,
)
from cnncalc.drill.topics.compute import separable_vs_standard
from cnncalc.drill.topics.parameters import (
    bottleneck_and_plain,
    classifier_heads,
    dense_equivalent,
    shortcut_layers,
)
from cnncalc.drill.topics.receptive import analyze_stack, stack_layers
from cnncalc.drill.topics.training import conv_backward
from cnncalc.drill.wording import conv_command, grid

STEM = {"type": "conv2d", "out": 64, "kernel": 7, "stride": 2, "padding": 3}
_STEM_NO_BIAS = STEM | {"bias": False}
STAGES = ("conv1", "maxpool", "layer1", "layer2", "layer3", "layer4")
_CONV3X3 = {"type": "conv2d", "out": 64, "kernel": 3, "stride": 1, "padding": 1}
_STEM_POOL = {"type": "maxpool2d", "kernel": 3, "stride": 2}  # as the notes have it: without padding
_NOTES_AGREE = "The notes agree."
_WEIGHTS_ALONE = "that is the weights alone: add the {} biases"


def fixed_questions(topics: Iterable[str] | None = None) -> tuple[Question, ...]:
    """The fixed questions (of `topics`, or all), in the order of the notes; each is built once."""
    wanted = None if topics is None else set(topics)
    return tuple(_question(example) for example in _EXAMPLES if wanted is None or example.topic in wanted)


@dataclass(frozen=True)
class _Solved:
    """What the engine makes of an example: the answer, how to get there, and what its numbers say about the
    notes (remarks and typical mistakes that need the engine's figures)."""

    expected: Expected
    worked: Worked
    answer: str  # the answer line, as the notes would write it
    remarks: Sequence[str] = ()
    mistakes: tuple[Mistake, ...] = ()
    answer_format: str = ""  # by default, the one for the kind of answer


@dataclass(frozen=True, eq=False)  # compared (and cached) by identity: the facts are dicts
class _Example:
    """One of the notes' examples: what is asked and where it comes from, what the notes say about it (a remark,
    the wrong answers to expect), and how the engine works it out."""

    name: str  # the question's id is notes/<name>
    topic: str
    level: str
    prompt: str
    source: str
    command: str
    facts: Mapping[str, Any]
    solve: Callable[[], _Solved]
    remark: str = ""
    mistakes: tuple[Mistake, ...] = ()


@cache
def _question(example: _Example) -> Question:
    solved = example.solve()
    remarks = [remark for remark in (example.remark, *solved.remarks) if remark]
    return Question(
        id=f"notes/{example.name}",
        topic=example.topic,
        level=example.level,
        prompt=example.prompt,
        expected=solved.expected,
        solution=solution(solved.worked, solved.answer, remarks),
        answer_format=solved.answer_format or answer_format_for(solved.expected),
        facts=example.facts,
        source=example.source,
        command=example.command,
        mistakes=example.mistakes + solved.mistakes,
    )


# ------------------------------------------------------------------------------------------ solutions


def _one_layer(
    ask: str,
    input_shape: tuple[int, ...],
    layer: Mapping[str, Any],
    batch: int = 1,
    *,
    sections: tuple[str, ...] = (),
    answer: str = "{}",
    answer_format: str = "",
) -> _Solved:
    """The shape, params or memory of one layer, explained by the engine's row. In the answer line, {} is the
    figure as the notes write it (a shape with the batch axis only where they have a batch)."""
    result = analyze_layers(input_shape, [layer], batch=batch)
    row = result.layers[0]
    if ask == "shape":
        expected = shape_answer(row.output_shape)
        figure = grid(row.output_shape if batch > 1 else row.output_shape[1:])
    elif ask == "params":
        expected, figure = exact_number(row.params), num(row.params)
    else:
        expected = approximate_number(row.activation_bytes, APPROX, "MiB", memory=True)
        figure = num(row.activation_bytes)
    worked = explain_row(result, row, sections or (ask,))
    return _Solved(expected, worked, answer.format(figure), answer_format=answer_format)


def _conv3x3_flops() -> _Solved:
    result = analyze_layers((32, 64, 64), [_CONV3X3])
    row = result.layers[0]
    remark = (
        f"The notes write 2·64·64·3·3·32·64 ≈ 1.5×10⁹; that product is {num(row.flops)} ≈ 1.5×10⁸ "
        "(151 MFLOPs) for one image. The notes are off by 10×; 1.5×10⁹ would be a batch of 10."
    )
    mistakes = ((Fraction(row.macs), "that is the MAC count: FLOPs = 2 × MACs"),)
    expected = approximate_number(row.flops, APPROX, "M")
    worked = explain_row(result, row, ("macs",))
    return _Solved(expected, worked, f"{num(row.flops)} ≈ 151 MFLOPs", [remark], mistakes)


def _stem_backward() -> _Solved:
    conv = {key: value for key, value in STEM.items() if key != "type"}
    flops, worked, mistakes = conv_backward(_STEM_INPUT, conv, 32, "first")
    remark = (
        "The notes derive three gradients: ∂L/∂W, ∂L/∂X (a full convolution with the flipped kernel) and ∂L/∂β. "
        "PyTorch computes ∂L/∂X only where the input needs a gradient: for the first layer, whose input is the "
        "image, it skips it, so this backward costs one forward's FLOPs; a conv higher up costs two."
    )
    expected = approximate_number(flops, APPROX, "G")
    return _Solved(expected, worked, f"{num(flops)} ≈ {flops / 10**9:.2f} GFLOPs", [remark], mistakes)


def _same_padding() -> _Solved:
    layer = {"type": "conv2d", "out": 64, "kernel": 5, "padding": "same"}
    result = analyze_layers((64, 56, 56), [layer])
    row = result.layers[0]
    left = conv_geometry(row, input_shape_of(result, row)).axes[0].pad_left
    worked = Worked()
    worked.say("Stride 1: out = n + 2p − k + 1 = n needs p = (k − 1) / 2 = (5 − 1) / 2 = 2")
    worked.extend(explain_row(result, row, ("shape",)))
    remark = (
        f"The notes' rule P = ⌊K/2⌋ holds for odd K (and no dilation); for even K no symmetric padding "
        f"works, and PyTorch's padding='{row.spec.padding}' pads one more on one side."
    )
    return _Solved(exact_number(left), worked, str(left), [remark])


def _stem_maxpool() -> _Solved:
    result = analyze_layers((64, 112, 112), [_STEM_POOL], batch=32)
    padded = analyze_layers((64, 112, 112), [_STEM_POOL | {"padding": 1}], batch=32)
    row = result.layers[0]
    worked = explain_row(result, row, ("shape",))
    worked.say("With padding 1, as torchvision's ResNet has it:")
    worked.extend(explain_row(padded, padded.layers[0], ("shape",)), 1)
    return _Solved(shape_answer(row.output_shape), worked, grid(row.output_shape))


def _gap_head() -> _Solved:
    gap, _ = classifier_heads((2048, 7, 7), 1000)
    worked = explain_row(gap, gap.layers[0], ("shape",))
    worked.extend(explain_row(gap, gap.layers[1], ("params",)))
    return _Solved(exact_number(gap.totals.params), worked, num(gap.totals.params))


def _flatten_head() -> _Solved:
    gap, flat = classifier_heads((2048, 7, 7), 1000)
    worked = explain_row(flat, flat.layers[0], ("shape",))
    worked.extend(explain_row(flat, flat.layers[1], ("params",)))
    params = flat.totals.params
    saved = 1 - Fraction(gap.totals.params, params)
    worked.say(f"GAP saves 1 − {num(gap.totals.params)} / {num(params)} ≈ {float(saved):.1%} of them")
    return _Solved(approximate_number(params, APPROX, "M"), worked, f"{num(params)} ≈ 100 M")


def _separable_ratio() -> _Solved:
    ratio, worked = separable_vs_standard(256, 56, 256, 3)
    remark = (
        f"The notes' ≈ 1/9 is the limit for large C_out; here 1/256 + 1/9 ≈ {float(ratio):.3f}, "
        f"{float(1 / ratio):.2f}× cheaper, within their '8–9×'."
    )
    answer = f"{ratio.numerator}/{ratio.denominator} ≈ {float(ratio):.3f}"
    expected = approximate_number(ratio, Fraction(1, 200))
    return _Solved(expected, worked, answer, [remark], answer_format=RATIO_FORMAT + " (within 0.5%)")


def _stack_field(text: str) -> _Solved:
    result = analyze_stack(stack_layers(text))
    field = result.receptive_field
    assert field is not None
    worked = explain_field_stack(result, dict(enumerate(text.split(", "))))
    return _Solved(exact_number(field[0].size), worked, str(field[0].size))


@cache
def stage_fields(spec: str) -> dict[str, AxisField]:
    """Receptive field (first spatial axis) at the end of each stem layer and stage of a zoo spec."""
    from cnncalc.engine.analysis import analyze_file
    from cnncalc.language.zoo import zoo_specs

    result = analyze_file(zoo_specs()[spec])
    fields: dict[str, AxisField] = {}
    for row in result.layers:
        stage = row.path.split(".")[0]
        if stage in STAGES and row.field:
            fields[stage] = row.field[0]
    return fields


def _resnet_stage_field(spec: str, stage: str, notes_value: int) -> _Solved:
    fields = stage_fields(spec)
    value = fields[stage].size
    worked = Worked()
    worked.say("Receptive field at the end of each stage, from the engine on the zoo specs (size / jump):")
    for network in ("resnet18", "resnet50"):
        per_stage = ", ".join(
            f"{name} {num(field.size)}/{num(field.jump)}" for name, field in stage_fields(network).items()
        )
        worked.say(f"{network}: {per_stage}", 1)
    stem = 7 + (3 - 1) * 2
    worked.check("maxpool receptive field", stem, fields["maxpool"].size)
    worked.say(f"Stem: conv1 7x7/2 → r = 7, j = 2; maxpool 3x3/2 → r = 7 + (3 − 1)·2 = {stem}, j = 4")
    convs, blocks = (4, "2 BasicBlocks = four") if spec == "resnet18" else (3, "3 bottlenecks = three")
    layer1 = stem + convs * (3 - 1) * 4
    worked.check("layer1 receptive field", layer1, fields["layer1"].size)
    worked.say(f"layer1 has {blocks} 3x3 convs at jump 4: {stem} + {convs}·(3 − 1)·4 = {layer1}", 1)
    if stage == "layer2":
        # Both networks: the first 3x3 of layer2 has stride 2 (read at jump 4), then three more 3x3 at jump 8.
        layer2 = layer1 + (3 - 1) * 4 + 3 * (3 - 1) * 8
        worked.check("layer2 receptive field", layer2, fields["layer2"].size)
        worked.say(
            f"layer2: its first 3x3 conv (stride 2) reads at jump 4, then three more 3x3 convs at jump 8: "
            f"{layer1} + (3 − 1)·4 + 3·(3 − 1)·8 = {layer2}",
            1,
        )
    r18, r50 = stage_fields("resnet18"), stage_fields("resnet50")
    remark = (
        f"The notes' stage table (a ResNet-18 walkthrough) says ~35 and ~91. Those are exactly ResNet-50's layer1 and "
        f"layer2 ({num(r50['layer1'].size)}, {num(r50['layer2'].size)}); ResNet-18's stages have "
        f"{', '.join(num(r18[name].size) for name in ('layer1', 'layer2', 'layer3', 'layer4'))}."
    )
    wrong = f"~{notes_value} is the notes' table; the exact value differs"
    mistakes = ((Fraction(notes_value), wrong),) if notes_value != value else ()
    return _Solved(exact_number(value), worked, num(value), [remark], mistakes)


def _dense_vs_conv() -> _Solved:
    conv = analyze_layers((3, 224, 224), [STEM])
    dense = dense_equivalent((3, 224, 224), conv.layers[0].output_shape[1:])
    params = dense.totals.params
    worked = Worked()
    worked.say(
        f"Inputs: {product_text(224, 224, 3)} = {num(150528)}; outputs: {product_text(112, 112, 64)} = {num(802816)}"
    )
    worked.extend(explain_row(dense, dense.layers[1], ("params",)))
    ratio = Fraction(params, conv.totals.params)
    worked.say(
        f"Against the conv's {num(conv.totals.params)}: {num(params)} / {num(conv.totals.params)} "
        f"≈ {float(ratio):,.0f}×"
    )
    remark = (
        f"The notes say ≈ 24 billion: that is about 5× too small. The reduction against the conv's 9,472 "
        f"weights is ≈ {float(ratio) / 1e6:.1f} million×, not 'over 2.5 million×' (true, but an understatement)."
    )
    return _Solved(approximate_number(params, APPROX, "G"), worked, f"{num(params)} ≈ 121 billion", [remark])


def _projection_shortcut() -> _Solved:
    result = analyze_layers((64, 56, 56), shortcut_layers(128, 2, projection=True))
    worked = Worked()
    worked.say("64 → 128 channels and 56 → 28: the shapes differ, so y = F(x) + W_s·x with W_s = 1x1 conv, stride 2")
    for row in result.layers:
        worked.extend(explain_row(result, row, ("params",)))
    first, second = (row.params for row in result.layers)
    worked.say(f"Total = {num(first)} + {num(second)} = {num(result.totals.params)}")
    return _Solved(exact_number(result.totals.params), worked, num(result.totals.params))


def _bottleneck() -> _Solved:
    block, plain = bottleneck_and_plain(64, 56)
    ratio = Fraction(plain.totals.params, block.totals.params)
    worked = Worked()
    for row in block.layers:
        worked.extend(explain_row(block, row, ("params",)))
    worked.say(f"Bottleneck total: {num(block.totals.params)}; two 3x3 convs at 256: {num(plain.totals.params)}")
    worked.say(f"Savings: {num(plain.totals.params)} / {num(block.totals.params)} ≈ {float(ratio):.1f}×")
    return _Solved(exact_number(block.totals.params), worked, num(block.totals.params))


def _stem_im2col() -> _Solved:
    result = analyze_layers((3, 224, 224), [_STEM_NO_BIAS])
    row = result.layers[0]
    patch = row.params // 64
    positions = math.prod(row.output_shape[2:])
    worked = explain_row(result, row, ("shape",))
    worked.say(
        f"One patch: C_in × k × k = {product_text(3, 7, 7)} = {num(patch)} values; "
        f"patches: 112 × 112 = {num(positions)}"
    )
    worked.say(f"GEMM: (64 x {patch}) weights × ({patch} x {num(positions)}) unfolded input = (64 x {num(positions)})")
    mistakes = (((positions, patch), "rows and columns swapped: a column is one patch"),)
    expected = shape_answer((patch, positions), batch_axis=False)
    return _Solved(expected, worked, f"{patch}x{positions}", (), mistakes, "a shape: rows x columns")


# ------------------------------------------------------------------------------------------ the examples


def _stack_example(name: str, text: str, prompt: str, remark: str) -> _Example:
    """The receptive field through a stack written inline ('conv3, conv3')."""
    facts = {"ask": "size", "layers": stack_layers(text)}
    source = "study notes 003 §6 (receptive field recurrence)"
    command = f'cnncalc calc stack "{text}" --explain'
    solve = partial(_stack_field, text)
    return _Example(name, "receptive-field", "easy", prompt, source, command, facts, solve, remark)


def _stage_example(spec: str, stage: str, notes_value: int) -> _Example:
    """The receptive field at the end of a ResNet stage, which the notes' stage table gives as ~notes_value."""
    network = "ResNet-18" if spec == "resnet18" else "ResNet-50"
    prompt = (
        f"The notes' stage table gives ~{notes_value} px for a receptive field. What is the exact receptive "
        f"field (in input pixels) of a unit at the end of {network}'s {stage} (torchvision layout, 224x224 input)?"
    )
    source = "study notes 003 §8 (stage table)"
    command = f"cnncalc analyze {spec} --depth 1"
    facts = {"spec": spec, "stage": stage}
    solve = partial(_resnet_stage_field, spec, stage, notes_value)
    return _Example(f"{spec}-{stage}-rf", "receptive-field", "hard", prompt, source, command, facts, solve)


def _tiny_example(
    name: str,
    topic: str,
    question: str,
    solve: Callable[[], _Solved],
    remark: str = "",
    mistakes: tuple[Mistake, ...] = (),
    **facts: Any,
) -> _Example:
    """A question on the notes' tiny worked example: a 3x3 conv from 32 to 64 channels on 64x64."""
    prompt = f"Input 64x64 with 32 channels → Conv 3x3, stride 1, padding 1, 64 output channels{question}"
    source = "study notes 002 §13 (tiny worked example)"
    command = conv_command((32, 64, 64), _CONV3X3)
    facts = {"input": [32, 64, 64], "layer": _CONV3X3, **facts}
    return _Example(name, topic, "easy", prompt, source, command, facts, solve, remark, mistakes)


_STEM_INPUT = (3, 224, 224)
_STEM_SOURCE = "study notes 003 §3 (numeric example)"
_MICRO = {"type": "conv2d", "out": 128, "kernel": 3, "padding": 1, "bias": False}
_HALVING = {"type": "maxpool2d", "kernel": 2, "stride": 2}
_VIT_B16 = {"type": "patch_embed", "patch": 16, "dim": 768}
_POOL_PADDING = "56 needs padding 1; this pool has none"

# In the order of the notes.
_EXAMPLES: tuple[_Example, ...] = (
    _Example(
        "stem-shape",
        "conv-output",
        "easy",
        "The stem of the notes' ImageNet example: Conv 7x7, 64 filters, stride 2, padding 3, on the input "
        "tensor (32, 3, 224, 224). What is the output shape?",
        _STEM_SOURCE,
        conv_command(_STEM_INPUT, STEM, 32),
        {"input": [3, 224, 224], "batch": 32, "layer": STEM},
        partial(_one_layer, "shape", _STEM_INPUT, STEM, 32),
        _NOTES_AGREE,
    ),
    _Example(
        "stem-params",
        "conv-params",
        "easy",
        "How many parameters does the stem conv have: 7x7 kernel, 3 input channels, 64 filters, with bias?",
        _STEM_SOURCE,
        conv_command(_STEM_INPUT, STEM),
        {"input": [3, 224, 224], "layer": STEM},
        partial(_one_layer, "params", _STEM_INPUT, STEM, 32),
        "The notes agree: 9,408 + 64 = 9,472.",
        ((Fraction(9408), _WEIGHTS_ALONE.format(64)),),
    ),
    _Example(
        "stem-backward",
        "training",
        "easy",
        "The notes' backward pass of a convolution: ∂L/∂W (the input correlated with the output gradient), ∂L/∂X "
        "(a full convolution with the flipped kernel) and ∂L/∂β. In a training step, the stem Conv 7x7, 64 "
        "filters, stride 2, padding 3 is the network's first layer, on the input (32, 3, 224, 224). Approximately "
        "how many FLOPs does its backward compute, in GFLOPs? (FLOPs = 2 × MACs; the bias gradient, a sum, is not "
        "counted)",
        "study notes 001 §3 (backward pass: the gradient of a convolution is a convolution)",
        "",
        {"input": [3, 224, 224], "batch": 32, "layer": STEM, "situation": "first"},
        _stem_backward,
    ),
    _tiny_example(
        "conv3x3-shape",
        "conv-output",
        ". What is the output shape (C x H x W)?",
        partial(_one_layer, "shape", (32, 64, 64), _CONV3X3),
        _NOTES_AGREE,
    ),
    _tiny_example(
        "conv3x3-params",
        "conv-params",
        ", with bias. How many parameters?",
        partial(_one_layer, "params", (32, 64, 64), _CONV3X3),
        "The notes agree: 18,496.",
        ((Fraction(18432), _WEIGHTS_ALONE.format(64)),),
    ),
    _tiny_example(
        "conv3x3-flops",
        "macs-flops",
        ". Approximately how many FLOPs for one image (FLOPs = 2 × MACs, bias adds not counted), in MFLOPs?",
        _conv3x3_flops,
        mistakes=((Fraction(15, 10) * 10**9, "1.5×10⁹ is the notes' figure, and it is 10× too large"),),
        ask="flops",
    ),
    _Example(
        "micro-example-weights",
        "conv-params",
        "easy",
        "A 3x3 convolution from 64 input channels to 128 output channels: how many weights (no bias)?",
        "study notes 004 §1.1 (worked micro-example)",
        conv_command((64, 56, 56), _MICRO),
        {"input": [64, 56, 56], "layer": _MICRO},
        partial(_one_layer, "params", (64, 56, 56), _MICRO),
        "The notes leave this number out of their 'worked micro-example'; it does not depend on H or W.",
    ),
    _Example(
        "same-padding",
        "conv-output",
        "easy",
        "'Same' padding: which padding p keeps a 56x56 feature map at 56x56 under a 5x5 conv with stride 1?",
        "study notes 002 §2 (same padding)",
        conv_command((64, 56, 56), {"out": 64, "kernel": 5, "padding": 2}),
        {"size": 56, "kernel": 5},
        _same_padding,
    ),
    _Example(
        "batchnorm-stem",
        "batchnorm",
        "easy",
        "The BatchNorm after the 64-filter stem conv learns γ_c and β_c per channel. How many learnable "
        "parameters does it have?",
        "study notes 003 §5 (batch normalization)",
        "cnncalc calc batchnorm --input 64x112x112 --explain",
        {"channels": 64},
        partial(_one_layer, "params", (64, 112, 112), {"type": "batchnorm2d"}, 32),
        "The running mean and variance used at inference are buffers (128 numbers), not parameters.",
        ((Fraction(256), "the running statistics are buffers, not parameters"),),
    ),
    _Example(
        "maxpool-halving",
        "pool-output",
        "easy",
        "MaxPool 2x2 with stride 2 on (B, 256, 56, 56): what is the output shape?",
        "study notes 003 §6 (max pooling)",
        "cnncalc calc maxpool --input 256x56x56 -k 2 --explain",
        {"input": [256, 56, 56], "layer": _HALVING},
        partial(_one_layer, "shape", (256, 56, 56), _HALVING, answer="B x 256 x 28 x 28"),
        "The notes agree: K = S = 2 halves H and W.",
    ),
    _Example(
        "stem-maxpool",
        "pool-output",
        "medium",
        "The notes' lifecycle applies 'MaxPool 3x3, stride 2' to (32, 64, 112, 112). Without padding, "
        "what is the output shape?",
        "study notes 003 §8 (end-to-end lifecycle)",
        "cnncalc calc maxpool --input 64x112x112 -k 3 -s 2 --batch 32 --explain",
        {"input": [64, 112, 112], "batch": 32, "layer": _STEM_POOL},
        _stem_maxpool,
        "The notes' diagram shows (32, 64, 56, 56): that needs padding 1 (torchvision's ResNet uses "
        "nn.MaxPool2d(3, 2, padding=1)); the diagram leaves the padding out.",
        (((32, 64, 56, 56), _POOL_PADDING), ((64, 56, 56), _POOL_PADDING)),
    ),
    _Example(
        "gap-head",
        "linear-head",
        "easy",
        "Classifier head: (B, 2048, 7, 7) → global average pooling → linear layer to 1000 ImageNet classes. "
        "How many parameters does the head have?",
        "study notes 003 §7 (classifier head)",
        "cnncalc calc linear --input 2048 --out 1000 --explain",
        {"input": [2048, 7, 7], "classes": 1000, "head": "gap"},
        _gap_head,
        "The notes agree: 2048 × 1000 + 1000 = 2,049,000.",
        ((Fraction(2048000), _WEIGHTS_ALONE.format(1000)),),
    ),
    _Example(
        "flatten-head",
        "linear-head",
        "medium",
        "Instead of GAP, flatten (B, 2048, 7, 7) and apply one linear layer to 1000 classes. Approximately how "
        "many parameters, in millions?",
        "study notes 003 §7 (why GAP instead of flatten)",
        "cnncalc calc linear --input 2048x7x7 --out 1000 --explain",
        {"input": [2048, 7, 7], "classes": 1000, "head": "flatten"},
        _flatten_head,
        "The notes agree: ~100 million, and GAP removes ~98% of the head's parameters.",
    ),
    _Example(
        "separable-ratio",
        "separable-ratio",
        "easy",
        "Depthwise-separable vs standard 3x3 conv, 256 → 256 channels, same output size: what fraction of "
        "the standard conv's cost does the separable one need (1/C_out + 1/K²)?",
        "study notes 003 §6 (depthwise-separable convolution)",
        "cnncalc calc separable --input 256x56x56 --out 256 -k 3 -p 1 --no-bias --explain",
        {"in": 256, "out": 256, "kernel": 3, "size": 56},
        _separable_ratio,
        mistakes=((Fraction(1, 9), "1/9 leaves out the pointwise term 1/C_out = 1/256"),),
    ),
    _stack_example(
        "rf-two-3x3",
        "conv3, conv3",
        "Receptive field recurrence r_l = r_(l−1) + (K_l − 1)·j_(l−1): two stacked 3x3 convs with stride 1. "
        "What is the receptive field of one output unit?",
        "The notes agree: r₁ = 3, r₂ = 5.",
    ),
    _stack_example(
        "rf-three-3x3",
        "conv3, conv3, conv3",
        "Three stacked 3x3 convs with stride 1: what is the receptive field (the reason VGG replaces a 7x7 conv)?",
        "The notes' figure labels the input r = 7: three 3x3 convs see as much as one 7x7, with 27·C² instead of "
        "49·C² weights.",
    ),
    _stage_example("resnet18", "layer1", 35),
    _stage_example("resnet18", "layer2", 91),
    _stage_example("resnet50", "layer1", 35),
    _stage_example("resnet50", "layer2", 91),
    _Example(
        "dense-vs-conv",
        "dense-vs-conv",
        "medium",
        "A fully connected layer from the (224·224·3) input to the (112·112·64) output of the 7x7 stem, "
        "without bias: approximately how many parameters, in billions?",
        "study notes 003 §3 (why convolution)",
        "cnncalc calc linear --input 3x224x224 --out 802816 --no-bias --explain",
        {"input": [3, 224, 224], "out": [64, 112, 112]},
        _dense_vs_conv,
        mistakes=((Fraction(24 * 10**9), "≈ 24 billion is the notes' figure; it is 5× too small"),),
    ),
    _Example(
        "projection-shortcut",
        "shortcut",
        "medium",
        "ResNet-18's first block of layer2 maps (B, 64, 56, 56) to (B, 128, 28, 28). Its projection shortcut "
        "is a 1x1 conv with stride 2 (no bias) and a BatchNorm. How many parameters does the shortcut have?",
        "study notes 001 (projection shortcut)",
        "cnncalc calc pointwise --input 64x56x56 --out 128 -s 2 --no-bias --explain",
        {"in": 64, "out": 128, "stride": 2, "size": 56},
        _projection_shortcut,
        mistakes=((Fraction(8192), "that is the 1x1 conv alone: add the BatchNorm's 2 × 128"),),
    ),
    _Example(
        "bottleneck",
        "bottleneck",
        "medium",
        "'Why bottleneck in ResNet-50?' A bottleneck on 256 channels: 1x1 256→64, 3x3 64→64, 1x1 64→256 "
        "(no bias, ignore BatchNorm). How many conv parameters?",
        "study notes 002 §5 and §11 C (bottleneck)",
        'cnncalc calc stack "pw64 nobias, conv3 p1 nobias, pw256 nobias" --input 256x56x56 --explain',
        {"width": 64, "channels": 256, "size": 56},
        _bottleneck,
    ),
    _Example(
        "stem-memory",
        "activation-memory",
        "easy",
        "The stem output (32, 64, 112, 112) in float32: approximately how much memory, in MiB?",
        "study notes 003 §8 (end-to-end lifecycle)",
        conv_command(_STEM_INPUT, STEM, 32),
        {"input": [3, 224, 224], "batch": 32, "layer": STEM, "dtype": "float32"},
        partial(
            _one_layer,
            "memory",
            _STEM_INPUT,
            STEM,
            32,
            answer="{} bytes = 98 MiB",
            answer_format=approx_format("MiB", APPROX, "98, 98 MiB, or a byte count"),
        ),
    ),
    _Example(
        "stem-im2col",
        "im2col",
        "medium",
        "'On GPU, convolution is implemented as im2col + GEMM.' For the 7x7/2 stem (3 → 64, padding 3) on one "
        "224x224 image, what is the shape of the unfolded input matrix (rows = values per patch, columns = patches)?",
        "study notes 003 §3 (hardware execution)",
        conv_command(_STEM_INPUT, _STEM_NO_BIAS),
        {"input": [3, 224, 224], "layer": _STEM_NO_BIAS},
        _stem_im2col,
    ),
    _Example(
        "vit-patch-params",
        "vit-patch",
        "easy",
        "'ViT patch projection is a strided convolution': ViT-B/16 embeds 16x16 patches of a 3x224x224 image "
        "into D = 768 with a 16x16 conv of stride 16 (with bias). How many parameters does it have?",
        "study notes 004 §9.4 (patch embedding)",
        "cnncalc calc patch-embed --input 3x224x224 --patch 16 --dim 768 --explain",
        {"size": 224, "patch": 16, "dim": 768},
        partial(_one_layer, "params", (3, 224, 224), _VIT_B16, sections=("shape", "params")),
    ),
)
