"""The study notes' own worked examples, as fixed questions: answered by the engine, corrected where wrong.

The notes (../shared/seeds, numbered 000-004) quote these examples; where a quoted figure is off, the
solution says so and shows the engine's number:

- 002 §13 gives the FLOPs of a 3x3 conv 32 -> 64 on 64x64 as ≈ 1.5×10⁹; the exact count for one image is
  2·64·64·9·32·64 = 150,994,944 ≈ 1.5×10⁸: the note is off by 10×.
- 003 §8's stage table gives receptive fields "~35" and "~91" for a ResNet-18 walkthrough; those are exactly
  ResNet-50's layer1 and layer2 values (35, 91); ResNet-18's stages have 43, 99, 211 and 435.
- 003 §3 puts a dense layer from 224·224·3 to 112·112·64 at "≈ 24 billion" parameters; it is ≈ 121 billion.
- 003 §8 shows MaxPool 3x3/2 taking 112 to 56, which needs padding 1 (torchvision's); without it, 55.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction
from functools import cache, partial

from cnncalc.base.tensor import AxisField
from cnncalc.calc.compare import explain_separable_ratio, separable_ratio
from cnncalc.calc.explain_field import explain_field_stack
from cnncalc.calc.explain_layer import explain_row
from cnncalc.calc.geometry import conv_geometry, input_shape_of
from cnncalc.calc.network import analyze_layers
from cnncalc.calc.worked import Worked, num, product_text
from cnncalc.drill.building import solution
from cnncalc.drill.question import (
    APPROX,
    COUNT_FORMAT,
    RATIO_FORMAT,
    SHAPE_FORMAT,
    Question,
    approx_format,
    approximate_number,
    exact_number,
    shape_answer,
)
from cnncalc.drill.topics.receptive import analyze_stack, stack_layers
from cnncalc.drill.wording import conv_command, grid

STEM = {"type": "conv2d", "out": 64, "kernel": 7, "stride": 2, "padding": 3}
STAGES = ("conv1", "maxpool", "layer1", "layer2", "layer3", "layer4")


def fixed_questions(topics: Iterable[str] | None = None) -> tuple[Question, ...]:
    """The fixed questions (of `topics`, or all), in the order of the notes; each is built once."""
    wanted = None if topics is None else set(topics)
    return tuple(build() for topic, build in _BANK if wanted is None or topic in wanted)


@cache
def _stem_shape() -> Question:
    result = analyze_layers((3, 224, 224), [STEM], batch=32)
    row = result.layers[0]
    return Question(
        id="notes/stem-shape",
        topic="conv-output",
        level="easy",
        prompt="The stem of the notes' ImageNet example: Conv 7x7, 64 filters, stride 2, padding 3, on the input "
        "tensor (32, 3, 224, 224). What is the output shape?",
        expected=shape_answer(row.output_shape),
        solution=solution(explain_row(result, row, ("shape",)), grid(row.output_shape), ["The notes agree."]),
        answer_format=SHAPE_FORMAT,
        facts={"input": [3, 224, 224], "batch": 32, "layer": STEM},
        source="study notes 003 §3 (numeric example)",
        command=conv_command((3, 224, 224), STEM, 32),
    )


@cache
def _stem_params() -> Question:
    result = analyze_layers((3, 224, 224), [STEM], batch=32)
    row = result.layers[0]
    return Question(
        id="notes/stem-params",
        topic="conv-params",
        level="easy",
        prompt="How many parameters does the stem conv have: 7x7 kernel, 3 input channels, 64 filters, with bias?",
        expected=exact_number(row.params),
        solution=solution(
            explain_row(result, row, ("params",)), num(row.params), ["The notes agree: 9,408 + 64 = 9,472."]
        ),
        answer_format=COUNT_FORMAT,
        facts={"input": [3, 224, 224], "layer": STEM},
        source="study notes 003 §3 (numeric example)",
        command=conv_command((3, 224, 224), STEM),
        mistakes=((Fraction(9408), "that is the weights alone: add the 64 biases"),),
    )


_CONV3X3 = {"type": "conv2d", "out": 64, "kernel": 3, "stride": 1, "padding": 1}


@cache
def _conv3x3_shape() -> Question:
    result = analyze_layers((32, 64, 64), [_CONV3X3])
    row = result.layers[0]
    return Question(
        id="notes/conv3x3-shape",
        topic="conv-output",
        level="easy",
        prompt="Input 64x64 with 32 channels → Conv 3x3, stride 1, padding 1, 64 output channels. "
        "What is the output shape (C x H x W)?",
        expected=shape_answer(row.output_shape),
        solution=solution(explain_row(result, row, ("shape",)), grid(row.output_shape[1:]), ["The notes agree."]),
        answer_format=SHAPE_FORMAT,
        facts={"input": [32, 64, 64], "layer": _CONV3X3},
        source="study notes 002 §13 (tiny worked example)",
        command=conv_command((32, 64, 64), _CONV3X3),
    )


@cache
def _conv3x3_params() -> Question:
    result = analyze_layers((32, 64, 64), [_CONV3X3])
    row = result.layers[0]
    return Question(
        id="notes/conv3x3-params",
        topic="conv-params",
        level="easy",
        prompt="Input 64x64 with 32 channels → Conv 3x3, stride 1, padding 1, 64 output channels, with bias. "
        "How many parameters?",
        expected=exact_number(row.params),
        solution=solution(explain_row(result, row, ("params",)), num(row.params), ["The notes agree: 18,496."]),
        answer_format=COUNT_FORMAT,
        facts={"input": [32, 64, 64], "layer": _CONV3X3},
        source="study notes 002 §13 (tiny worked example)",
        command=conv_command((32, 64, 64), _CONV3X3),
        mistakes=((Fraction(18432), "that is the weights alone: add the 64 biases"),),
    )


@cache
def _conv3x3_flops() -> Question:
    result = analyze_layers((32, 64, 64), [_CONV3X3])
    row = result.layers[0]
    seed_value = Fraction(15, 10) * 10**9
    note = (
        f"The notes write 2·64·64·3·3·32·64 ≈ 1.5×10⁹; that product is {num(row.flops)} ≈ 1.5×10⁸ "
        "(151 MFLOPs) for one image. The notes are off by 10×; 1.5×10⁹ would be a batch of 10."
    )
    return Question(
        id="notes/conv3x3-flops",
        topic="macs-flops",
        level="easy",
        prompt="Input 64x64 with 32 channels → Conv 3x3, stride 1, padding 1, 64 output channels. Approximately how "
        "many FLOPs for one image (FLOPs = 2 × MACs, bias adds not counted), in MFLOPs?",
        expected=approximate_number(row.flops, APPROX, "M"),
        solution=solution(explain_row(result, row, ("macs",)), f"{num(row.flops)} ≈ 151 MFLOPs", [note]),
        answer_format=approx_format("M", APPROX),
        facts={"input": [32, 64, 64], "layer": _CONV3X3, "ask": "flops"},
        source="study notes 002 §13 (tiny worked example)",
        command=conv_command((32, 64, 64), _CONV3X3),
        mistakes=(
            (seed_value, "1.5×10⁹ is the notes' figure, and it is 10× too large"),
            (Fraction(row.macs), "that is the MAC count: FLOPs = 2 × MACs"),
        ),
    )


@cache
def _micro_example_weights() -> Question:
    layer = {"type": "conv2d", "out": 128, "kernel": 3, "padding": 1, "bias": False}
    result = analyze_layers((64, 56, 56), [layer])
    row = result.layers[0]
    return Question(
        id="notes/micro-example-weights",
        topic="conv-params",
        level="easy",
        prompt="A 3x3 convolution from 64 input channels to 128 output channels: how many weights (no bias)?",
        expected=exact_number(row.params),
        solution=solution(
            explain_row(result, row, ("params",)),
            num(row.params),
            ["The notes leave this number out of their 'worked micro-example'; it does not depend on H or W."],
        ),
        answer_format=COUNT_FORMAT,
        facts={"input": [64, 56, 56], "layer": layer},
        source="study notes 004 §1.1 (worked micro-example)",
        command=conv_command((64, 56, 56), layer),
    )


@cache
def _same_padding() -> Question:
    layer = {"type": "conv2d", "out": 64, "kernel": 5, "padding": "same"}
    result = analyze_layers((64, 56, 56), [layer])
    row = result.layers[0]
    padding = row.spec.padding
    left = conv_geometry(row, input_shape_of(result, row)).axes[0].pad_left
    worked = Worked()
    worked.say("Stride 1: out = n + 2p − k + 1 = n needs p = (k − 1) / 2 = (5 − 1) / 2 = 2")
    worked.extend(explain_row(result, row, ("shape",)))
    return Question(
        id="notes/same-padding",
        topic="conv-output",
        level="easy",
        prompt="'Same' padding: which padding p keeps a 56x56 feature map at 56x56 under a 5x5 conv with stride 1?",
        expected=exact_number(left),
        solution=solution(
            worked,
            str(left),
            [
                f"The notes' rule P = ⌊K/2⌋ holds for odd K (and no dilation); for even K no symmetric padding "
                f"works, and PyTorch's padding='{padding}' pads one more on one side."
            ],
        ),
        answer_format=COUNT_FORMAT,
        facts={"size": 56, "kernel": 5},
        source="study notes 002 §2 (same padding)",
        command=conv_command((64, 56, 56), {"out": 64, "kernel": 5, "padding": 2}),
    )


@cache
def _batchnorm_stem() -> Question:
    result = analyze_layers((64, 112, 112), [{"type": "batchnorm2d"}], batch=32)
    row = result.layers[0]
    return Question(
        id="notes/batchnorm-stem",
        topic="batchnorm",
        level="easy",
        prompt="The BatchNorm after the 64-filter stem conv learns γ_c and β_c per channel. How many learnable "
        "parameters does it have?",
        expected=exact_number(row.params),
        solution=solution(
            explain_row(result, row, ("params",)),
            num(row.params),
            ["The running mean and variance used at inference are buffers (128 numbers), not parameters."],
        ),
        answer_format=COUNT_FORMAT,
        facts={"channels": 64},
        source="study notes 003 §5 (batch normalization)",
        command="cnncalc calc batchnorm --input 64x112x112 --explain",
        mistakes=((Fraction(256), "the running statistics are buffers, not parameters"),),
    )


@cache
def _maxpool_halving() -> Question:
    layer = {"type": "maxpool2d", "kernel": 2, "stride": 2}
    result = analyze_layers((256, 56, 56), [layer])
    row = result.layers[0]
    return Question(
        id="notes/maxpool-halving",
        topic="pool-output",
        level="easy",
        prompt="MaxPool 2x2 with stride 2 on (B, 256, 56, 56): what is the output shape?",
        expected=shape_answer(row.output_shape),
        solution=solution(
            explain_row(result, row, ("shape",)), "B x 256 x 28 x 28", ["The notes agree: K = S = 2 halves H and W."]
        ),
        answer_format=SHAPE_FORMAT,
        facts={"input": [256, 56, 56], "layer": layer},
        source="study notes 003 §6 (max pooling)",
        command="cnncalc calc maxpool --input 256x56x56 -k 2 --explain",
    )


@cache
def _stem_maxpool() -> Question:
    layer = {"type": "maxpool2d", "kernel": 3, "stride": 2}
    result = analyze_layers((64, 112, 112), [layer], batch=32)
    padded = analyze_layers((64, 112, 112), [layer | {"padding": 1}], batch=32)
    row = result.layers[0]
    worked = explain_row(result, row, ("shape",))
    worked.say("With padding 1, as torchvision's ResNet has it:")
    worked.extend(explain_row(padded, padded.layers[0], ("shape",)), 1)
    return Question(
        id="notes/stem-maxpool",
        topic="pool-output",
        level="medium",
        prompt="The notes' lifecycle applies 'MaxPool 3x3, stride 2' to (32, 64, 112, 112). Without padding, "
        "what is the output shape?",
        expected=shape_answer(row.output_shape),
        solution=solution(
            worked,
            grid(row.output_shape),
            [
                "The notes' diagram shows (32, 64, 56, 56): that needs padding 1 (torchvision's ResNet uses "
                "nn.MaxPool2d(3, 2, padding=1)); the diagram leaves the padding out."
            ],
        ),
        answer_format=SHAPE_FORMAT,
        facts={"input": [64, 112, 112], "batch": 32, "layer": layer},
        source="study notes 003 §8 (end-to-end lifecycle)",
        command="cnncalc calc maxpool --input 64x112x112 -k 3 -s 2 --batch 32 --explain",
        mistakes=(
            ((32, 64, 56, 56), "56 needs padding 1; this pool has none"),
            ((64, 56, 56), "56 needs padding 1; this pool has none"),
        ),
    )


@cache
def _gap_head() -> Question:
    result = analyze_layers((2048, 7, 7), [{"type": "global_avgpool"}, {"type": "linear", "out": 1000}])
    row = result.layers[1]
    worked = explain_row(result, result.layers[0], ("shape",))
    worked.extend(explain_row(result, row, ("params",)))
    return Question(
        id="notes/gap-head",
        topic="linear-head",
        level="easy",
        prompt="Classifier head: (B, 2048, 7, 7) → global average pooling → linear layer to 1000 ImageNet classes. "
        "How many parameters does the head have?",
        expected=exact_number(result.totals.params),
        solution=solution(worked, num(result.totals.params), ["The notes agree: 2048 × 1000 + 1000 = 2,049,000."]),
        answer_format=COUNT_FORMAT,
        facts={"input": [2048, 7, 7], "classes": 1000, "head": "gap"},
        source="study notes 003 §7 (classifier head)",
        command="cnncalc calc linear --input 2048 --out 1000 --explain",
        mistakes=((Fraction(2048000), "that is the weights alone: add the 1000 biases"),),
    )


@cache
def _flatten_head() -> Question:
    result = analyze_layers((2048, 7, 7), [{"type": "flatten"}, {"type": "linear", "out": 1000}])
    gap = analyze_layers((2048, 7, 7), [{"type": "global_avgpool"}, {"type": "linear", "out": 1000}])
    worked = explain_row(result, result.layers[0], ("shape",))
    worked.extend(explain_row(result, result.layers[1], ("params",)))
    saved = 1 - Fraction(gap.totals.params, result.totals.params)
    worked.say(f"GAP saves 1 − {num(gap.totals.params)} / {num(result.totals.params)} ≈ {float(saved):.1%} of them")
    return Question(
        id="notes/flatten-head",
        topic="linear-head",
        level="medium",
        prompt="Instead of GAP, flatten (B, 2048, 7, 7) and apply one linear layer to 1000 classes. Approximately how "
        "many parameters, in millions?",
        expected=approximate_number(result.totals.params, APPROX, "M"),
        solution=solution(
            worked,
            f"{num(result.totals.params)} ≈ 100 M",
            ["The notes agree: ~100 million, and GAP removes ~98% of the head's parameters."],
        ),
        answer_format=approx_format("M", APPROX),
        facts={"input": [2048, 7, 7], "classes": 1000, "head": "flatten"},
        source="study notes 003 §7 (why GAP instead of flatten)",
        command="cnncalc calc linear --input 2048x7x7 --out 1000 --explain",
    )


@cache
def _separable_ratio() -> Question:
    common = {"kernel": 3, "padding": 1, "bias": False}
    separable = analyze_layers((256, 56, 56), [{"type": "separable", "out": 256, **common}])
    standard = analyze_layers((256, 56, 56), [{"type": "conv2d", "out": 256, **common}])
    ratio = separable_ratio(separable, standard)
    worked = explain_separable_ratio(separable, standard, 3, 256, 1)
    return Question(
        id="notes/separable-ratio",
        topic="separable-ratio",
        level="easy",
        prompt="Depthwise-separable vs standard 3x3 conv, 256 → 256 channels, same output size: what fraction of "
        "the standard conv's cost does the separable one need (1/C_out + 1/K²)?",
        expected=approximate_number(ratio, Fraction(1, 200)),
        solution=solution(
            worked,
            f"{ratio.numerator}/{ratio.denominator} ≈ {float(ratio):.3f}",
            [
                f"The notes' ≈ 1/9 is the limit for large C_out; here 1/256 + 1/9 ≈ {float(ratio):.3f}, "
                f"{float(1 / ratio):.2f}× cheaper, within their '8–9×'."
            ],
        ),
        answer_format=RATIO_FORMAT + " (within 0.5%)",
        facts={"in": 256, "out": 256, "kernel": 3, "size": 56},
        source="study notes 003 §6 (depthwise-separable convolution)",
        command="cnncalc calc separable --input 256x56x56 --out 256 -k 3 -p 1 --no-bias --explain",
        mistakes=((Fraction(1, 9), "1/9 leaves out the pointwise term 1/C_out = 1/256"),),
    )


def _rf_stack(identifier: str, text: str, prompt: str, note: str) -> Question:
    layers = stack_layers(text)
    result = analyze_stack(layers)
    field = result.receptive_field
    assert field is not None
    return Question(
        id=identifier,
        topic="receptive-field",
        level="easy",
        prompt=prompt,
        expected=exact_number(field[0].size),
        solution=solution(explain_field_stack(result, dict(enumerate(text.split(", ")))), str(field[0].size), [note]),
        answer_format=COUNT_FORMAT,
        facts={"ask": "size", "layers": layers},
        source="study notes 003 §6 (receptive field recurrence)",
        command=f'cnncalc calc stack "{text}" --explain',
    )


@cache
def _rf_two_convs() -> Question:
    return _rf_stack(
        "notes/rf-two-3x3",
        "conv3, conv3",
        "Receptive field recurrence r_l = r_(l−1) + (K_l − 1)·j_(l−1): two stacked 3x3 convs with stride 1. "
        "What is the receptive field of one output unit?",
        "The notes agree: r₁ = 3, r₂ = 5.",
    )


@cache
def _rf_three_convs() -> Question:
    return _rf_stack(
        "notes/rf-three-3x3",
        "conv3, conv3, conv3",
        "Three stacked 3x3 convs with stride 1: what is the receptive field (the reason VGG replaces a 7x7 conv)?",
        "The notes' figure labels the input r = 7: three 3x3 convs see as much as one 7x7, with 27·C² instead of "
        "49·C² weights.",
    )


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


@cache
def _resnet_stage_rf(spec: str, stage: str, notes_value: int) -> Question:
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
    note = (
        f"The notes' stage table (a ResNet-18 walkthrough) says ~35 and ~91. Those are exactly ResNet-50's layer1 and "
        f"layer2 ({num(r50['layer1'].size)}, {num(r50['layer2'].size)}); ResNet-18's stages have "
        f"{', '.join(num(r18[name].size) for name in ('layer1', 'layer2', 'layer3', 'layer4'))}."
    )
    network = "ResNet-18" if spec == "resnet18" else "ResNet-50"
    return Question(
        id=f"notes/{spec}-{stage}-rf",
        topic="receptive-field",
        level="hard",
        prompt=f"The notes' stage table gives ~{notes_value} px for a receptive field. What is the exact receptive "
        f"field (in input pixels) of a unit at the end of {network}'s {stage} (torchvision layout, 224x224 input)?",
        expected=exact_number(value),
        solution=solution(worked, num(value), [note]),
        answer_format=COUNT_FORMAT,
        facts={"spec": spec, "stage": stage},
        source="study notes 003 §8 (stage table)",
        command=f"cnncalc analyze {spec} --depth 1",
        mistakes=((Fraction(notes_value), f"~{notes_value} is the notes' table; the exact value differs"),)
        if notes_value != value
        else (),
    )


@cache
def _dense_vs_conv() -> Question:
    conv = analyze_layers((3, 224, 224), [STEM])
    dense = analyze_layers(
        (3, 224, 224), [{"type": "flatten"}, {"type": "linear", "out": 64 * 112 * 112, "bias": False}]
    )
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
    return Question(
        id="notes/dense-vs-conv",
        topic="dense-vs-conv",
        level="medium",
        prompt="A fully connected layer from the (224·224·3) input to the (112·112·64) output of the 7x7 stem, "
        "without bias: approximately how many parameters, in billions?",
        expected=approximate_number(params, APPROX, "G"),
        solution=solution(
            worked,
            f"{num(params)} ≈ 121 billion",
            [
                f"The notes say ≈ 24 billion: that is about 5× too small. The reduction against the conv's 9,472 "
                f"weights is ≈ {float(ratio) / 1e6:.1f} million×, not 'over 2.5 million×' (true, but an "
                "understatement)."
            ],
        ),
        answer_format=approx_format("G", APPROX),
        facts={"input": [3, 224, 224], "out": [64, 112, 112]},
        source="study notes 003 §3 (why convolution)",
        command="cnncalc calc linear --input 3x224x224 --out 802816 --no-bias --explain",
        mistakes=((Fraction(24 * 10**9), "≈ 24 billion is the notes' figure; it is 5× too small"),),
    )


@cache
def _projection_shortcut() -> Question:
    layers = [{"type": "pointwise", "out": 128, "stride": 2, "bias": False}, {"type": "batchnorm2d"}]
    result = analyze_layers((64, 56, 56), layers)
    worked = Worked()
    worked.say("64 → 128 channels and 56 → 28: the shapes differ, so y = F(x) + W_s·x with W_s = 1x1 conv, stride 2")
    for row in result.layers:
        worked.extend(explain_row(result, row, ("params",)))
    worked.say(f"Total = {num(result.layers[0].params)} + {num(result.layers[1].params)} = {num(result.totals.params)}")
    return Question(
        id="notes/projection-shortcut",
        topic="shortcut",
        level="medium",
        prompt="ResNet-18's first block of layer2 maps (B, 64, 56, 56) to (B, 128, 28, 28). Its projection shortcut "
        "is a 1x1 conv with stride 2 (no bias) and a BatchNorm. How many parameters does the shortcut have?",
        expected=exact_number(result.totals.params),
        solution=solution(worked, num(result.totals.params)),
        answer_format=COUNT_FORMAT,
        facts={"in": 64, "out": 128, "stride": 2, "size": 56},
        source="study notes 001 (projection shortcut)",
        command="cnncalc calc pointwise --input 64x56x56 --out 128 -s 2 --no-bias --explain",
        mistakes=((Fraction(8192), "that is the 1x1 conv alone: add the BatchNorm's 2 × 128"),),
    )


@cache
def _bottleneck() -> Question:
    block = analyze_layers(
        (256, 56, 56),
        [
            {"type": "pointwise", "out": 64, "bias": False},
            {"type": "conv2d", "out": 64, "kernel": 3, "padding": 1, "bias": False},
            {"type": "pointwise", "out": 256, "bias": False},
        ],
    )
    plain = analyze_layers(
        (256, 56, 56), [{"type": "conv2d", "out": 256, "kernel": 3, "padding": 1, "bias": False}] * 2
    )
    ratio = Fraction(plain.totals.params, block.totals.params)
    worked = Worked()
    for row in block.layers:
        worked.extend(explain_row(block, row, ("params",)))
    worked.say(f"Bottleneck total: {num(block.totals.params)}; two 3x3 convs at 256: {num(plain.totals.params)}")
    worked.say(f"Savings: {num(plain.totals.params)} / {num(block.totals.params)} ≈ {float(ratio):.1f}×")
    return Question(
        id="notes/bottleneck",
        topic="bottleneck",
        level="medium",
        prompt="'Why bottleneck in ResNet-50?' A bottleneck on 256 channels: 1x1 256→64, 3x3 64→64, 1x1 64→256 "
        "(no bias, ignore BatchNorm). How many conv parameters?",
        expected=exact_number(block.totals.params),
        solution=solution(worked, num(block.totals.params)),
        answer_format=COUNT_FORMAT,
        facts={"width": 64, "channels": 256, "size": 56},
        source="study notes 002 §5 and §11 C (bottleneck)",
        command='cnncalc calc stack "pw64 nobias, conv3 p1 nobias, pw256 nobias" --input 256x56x56 --explain',
    )


@cache
def _stem_memory() -> Question:
    result = analyze_layers((3, 224, 224), [STEM], batch=32)
    row = result.layers[0]
    return Question(
        id="notes/stem-memory",
        topic="activation-memory",
        level="easy",
        prompt="The stem output (32, 64, 112, 112) in float32: approximately how much memory, in MiB?",
        expected=approximate_number(row.activation_bytes, APPROX, "MiB", memory=True),
        solution=solution(explain_row(result, row, ("memory",)), f"{num(row.activation_bytes)} bytes = 98 MiB"),
        answer_format=approx_format("MiB", APPROX, "98, 98 MiB, or a byte count"),
        facts={"input": [3, 224, 224], "batch": 32, "layer": STEM, "dtype": "float32"},
        source="study notes 003 §8 (end-to-end lifecycle)",
        command=conv_command((3, 224, 224), STEM, 32),
    )


@cache
def _stem_im2col() -> Question:
    layer = STEM | {"bias": False}
    result = analyze_layers((3, 224, 224), [layer])
    row = result.layers[0]
    patch = row.params // 64
    positions = row.output_shape[2] * row.output_shape[3]
    worked = explain_row(result, row, ("shape",))
    worked.say(
        f"One patch: C_in × k × k = {product_text(3, 7, 7)} = {num(patch)} values; "
        f"patches: 112 × 112 = {num(positions)}"
    )
    worked.say(f"GEMM: (64 x {patch}) weights × ({patch} x {num(positions)}) unfolded input = (64 x {num(positions)})")
    return Question(
        id="notes/stem-im2col",
        topic="im2col",
        level="medium",
        prompt="'On GPU, convolution is implemented as im2col + GEMM.' For the 7x7/2 stem (3 → 64, padding 3) on one "
        "224x224 image, what is the shape of the unfolded input matrix (rows = values per patch, columns = patches)?",
        expected=shape_answer((patch, positions), batch_axis=False),
        solution=solution(worked, f"{patch}x{positions}"),
        answer_format="a shape: rows x columns",
        facts={"input": [3, 224, 224], "layer": layer},
        source="study notes 003 §3 (hardware execution)",
        command=conv_command((3, 224, 224), layer),
        mistakes=(((positions, patch), "rows and columns swapped: a column is one patch"),),
    )


@cache
def _vit_patch_params() -> Question:
    result = analyze_layers((3, 224, 224), [{"type": "patch_embed", "patch": 16, "dim": 768}])
    row = result.layers[0]
    return Question(
        id="notes/vit-patch-params",
        topic="vit-patch",
        level="easy",
        prompt="'ViT patch projection is a strided convolution': ViT-B/16 embeds 16x16 patches of a 3x224x224 image "
        "into D = 768 with a 16x16 conv of stride 16 (with bias). How many parameters does it have?",
        expected=exact_number(row.params),
        solution=solution(explain_row(result, row, ("shape", "params")), num(row.params)),
        answer_format=COUNT_FORMAT,
        facts={"size": 224, "patch": 16, "dim": 768},
        source="study notes 004 §9.4 (patch embedding)",
        command="cnncalc calc patch-embed --input 3x224x224 --patch 16 --dim 768 --explain",
    )


# (topic, builder) in the order of the notes.
_BANK: tuple[tuple[str, Callable[[], Question]], ...] = (
    ("conv-output", _stem_shape),
    ("conv-params", _stem_params),
    ("conv-output", _conv3x3_shape),
    ("conv-params", _conv3x3_params),
    ("macs-flops", _conv3x3_flops),
    ("conv-params", _micro_example_weights),
    ("conv-output", _same_padding),
    ("batchnorm", _batchnorm_stem),
    ("pool-output", _maxpool_halving),
    ("pool-output", _stem_maxpool),
    ("linear-head", _gap_head),
    ("linear-head", _flatten_head),
    ("separable-ratio", _separable_ratio),
    ("receptive-field", _rf_two_convs),
    ("receptive-field", _rf_three_convs),
    ("receptive-field", partial(_resnet_stage_rf, "resnet18", "layer1", 35)),
    ("receptive-field", partial(_resnet_stage_rf, "resnet18", "layer2", 91)),
    ("receptive-field", partial(_resnet_stage_rf, "resnet50", "layer1", 35)),
    ("receptive-field", partial(_resnet_stage_rf, "resnet50", "layer2", 91)),
    ("dense-vs-conv", _dense_vs_conv),
    ("shortcut", _projection_shortcut),
    ("bottleneck", _bottleneck),
    ("activation-memory", _stem_memory),
    ("im2col", _stem_im2col),
    ("vit-patch", _vit_patch_params),
)
