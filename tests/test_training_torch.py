"""The training rules against PyTorch on every zoo spec: batch 2, fp32, CPU rules, per layer and in total.

`cnncalc.bridge.training_probe` runs one forward and backward in training mode and measures what autograd
keeps (saved_tensors_hooks, each storage once, parameters and buffers excluded) and what the backward computes
(FlopCounterMode around `loss.backward()`, credited per layer). The big networks run on the "meta" device,
where both work and nothing is allocated; vit_b_16 runs on the CPU, since its attention
(`need_weights: false`) takes the CPU flash kernel there, which "meta" does not (it decomposes the math).

FlopCounterMode's known faults are accounted for explicitly: it counts the weight gradient of grouped and
depthwise convolutions `groups` times (cnncalc's `backward_flops` gives the true figure, its
`torch_backward_flops` what FlopCounterMode prints), and it has no formula for the CPU flash-attention kernel
(counts 0 for it; cnncalc counts the four matmuls of its backward).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="the torch extra is not installed: pip install 'cnncalc[torch]'")

from cnncalc.bridge.training_probe import probe_training  # noqa: E402
from cnncalc.engine.analysis import InputOverrides, analyze_file  # noqa: E402
from cnncalc.language.zoo import zoo_specs  # noqa: E402
from cnncalc.training import TrainingOptions, analyze_training  # noqa: E402

CPU_SPECS = {"vit_b_16"}  # attention on its CPU flash kernel


def zoo() -> list[str]:
    return sorted(zoo_specs())


@pytest.mark.parametrize("name", zoo())
def test_zoo_training_step_matches_pytorch(name):
    result = analyze_file(zoo_specs()[name], InputOverrides(batch=2))
    rules = analyze_training(result)
    measured = probe_training(result, "cpu" if name in CPU_SPECS else "meta")
    for row, layer in zip(result.layers, rules.layers, strict=True):
        assert layer.saved_activation_bytes == measured.saved_bytes(row.index), row.path
        assert layer.torch_backward_flops == measured.backward_flops.get(row.index, 0), row.path
        # the true figure differs from FlopCounterMode's only where it is known to be wrong
        if layer.backward_flops != layer.torch_backward_flops:
            if row.kind == "attention":
                assert not row.spec.need_weights
                continue
            groups = row.geometry.groups
            assert groups > 1, row.path
            assert layer.torch_backward_flops - layer.backward_flops == (groups - 1) * 2 * row.macs, row.path
    assert rules.totals.saved_activation_bytes == measured.total_saved_bytes
    assert rules.totals.torch_backward_flops == measured.total_backward_flops


def test_freezing_resnet18_stem_and_first_stage_changes_what_pytorch_changes():
    path = zoo_specs()["resnet18"]
    result = analyze_file(path, InputOverrides(batch=2))
    frozen = ("conv1", "bn1", "relu", "maxpool", "layer1")
    rules = analyze_training(result, TrainingOptions(freeze=frozen))
    measured = probe_training(result, "meta", frozen_paths=frozen)
    assert rules.totals.saved_activation_bytes == measured.total_saved_bytes
    assert rules.totals.torch_backward_flops == measured.total_backward_flops
    for row, layer in zip(result.layers, rules.layers, strict=True):
        assert layer.saved_activation_bytes == measured.saved_bytes(row.index), row.path
        assert layer.backward_flops == measured.backward_flops.get(row.index, 0), row.path
    unfrozen = analyze_training(result)
    # Nothing below layer2 trains: the stem and layer1 keep nothing and run no backward; layer2.0 computes
    # no gradient for its input (layer1's output, 2x64x56x56), only its weights' (its conv1 and downsample
    # keep that input, 1,605,632 B, once).
    assert unfrozen.totals.saved_activation_bytes == 44_398_080
    assert rules.totals.saved_activation_bytes == 14_289_920
    assert unfrozen.totals.backward_flops == 14_040_530_944
    assert rules.totals.backward_flops == 9_612_197_888
    layer2_input = 2 * 64 * 56 * 56 * 4
    first = {layer.index: layer for layer in rules.layers}
    conv = next(row for row in result.layers if row.path == "layer2.0.conv1")
    assert first[conv.index].saved_activation_bytes == layer2_input
    assert first[conv.index].backward_flops == 2 * conv.macs  # weight gradient only
    assert all(first[row.index].saved_activation_bytes == 0 for row in result.layers if row.path.startswith(frozen))


@pytest.mark.parametrize(
    ("activation", "inplace", "frozen"),
    [
        ("relu", True, False),
        ("relu", True, True),
        ("relu6", True, False),
        ("silu", True, False),
        ("gelu", False, False),
    ],
)
def test_hand_worked_blocks_are_what_pytorch_keeps(activation, inplace, frozen):
    from cnncalc.engine import analyze_text
    from tests.test_training import block

    result = analyze_text(block(activation, inplace, frozen))
    rules = analyze_training(result)
    measured = probe_training(result, "cpu")
    assert [layer.saved_activation_bytes for layer in rules.layers] == [
        measured.saved_bytes(row.index) for row in result.layers
    ]
    assert [layer.backward_flops for layer in rules.layers] == [
        measured.backward_flops.get(row.index, 0) for row in result.layers
    ]


@pytest.mark.parametrize("number", range(7))
def test_views_and_copies_are_what_pytorch_keeps(number):
    """Kᵀ and V of window attention as views of the packed QKV or copies; group norm's input as is or copied;
    the layouts of softmax's and an elementwise op's outputs; a 3-d transposed convolution's output storage."""
    from cnncalc.engine import analyze_text
    from tests import test_training as cases

    text = [
        cases.WINDOW_ATTENTION.format(heads=1),
        cases.WINDOW_ATTENTION.format(heads=2),
        cases.GROUPNORM_CHANNELS_LAST,
        cases.GROUPNORM_PERMUTED_3D,
        cases.SOFTMAX_THEN_FLATTEN,
        cases.SLICE_THEN_SIGMOID,
        cases.TRANSPOSED_3D_THEN_GELU,
    ][number]
    result = analyze_text(text)
    rules = analyze_training(result)
    measured = probe_training(result, "cpu")
    assert [layer.saved_activation_bytes for layer in rules.layers] == [
        measured.saved_bytes(row.index) for row in result.layers
    ]


INPLACE_ON_THE_INPUT = "name: leaf\ninput: {shape: [4, 4, 4]}\nlayers:\n  - {name: act, type: relu, inplace: true}\n"


@pytest.mark.parametrize(
    ("case", "input_requires_grad"),
    [("split", False), ("leaf", True), ("batchnorm", False), ("instancenorm", False)],
)
def test_pytorch_refuses_what_the_rules_refuse(case, input_requires_grad):
    from cnncalc.engine import analyze_text
    from cnncalc.training import TrainingRefused
    from tests import test_training as cases

    text = {
        "split": cases.SPLIT_THEN_INPLACE,
        "leaf": INPLACE_ON_THE_INPUT,
        "batchnorm": cases.ONE_VALUE_BATCHNORM,
        "instancenorm": cases.ONE_POSITION_INSTANCENORM,
    }[case]
    result = analyze_text(text)
    with pytest.raises(TrainingRefused):
        analyze_training(result, TrainingOptions(input_requires_grad=input_requires_grad))
    with pytest.raises((RuntimeError, ValueError), match=r"in-?place|when training"):
        probe_training(result, "cpu", input_requires_grad=input_requires_grad)
