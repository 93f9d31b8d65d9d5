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
from cnncalc.engine import analyze_text  # noqa: E402
from cnncalc.engine.analysis import InputOverrides, analyze_file  # noqa: E402
from cnncalc.language.zoo import zoo_specs  # noqa: E402
from cnncalc.training import TrainingOptions, analyze_training  # noqa: E402
from tests.clirunner import invoke  # noqa: E402

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


@pytest.mark.parametrize("number", range(9))
def test_views_and_copies_are_what_pytorch_keeps(number):
    """Kᵀ and V of window attention as views of the packed QKV or copies; group norm's input as is or copied;
    the layouts of softmax's and an elementwise op's outputs; a 3-d transposed convolution's output storage;
    attention on scaled_dot_product_attention's math path; window attention's output cut from its padding."""
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
        cases.ATTENTION_DROPOUT,
        cases.WINDOW_PADDED_CUT,
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


# A depthwise convolution (FlopCounterMode counts its weight gradient 8 times) and attention on the CPU flash
# kernel (FlopCounterMode has no formula for it), between layers it counts right.
VERIFY_TRAIN = """name: verify_train
input: {shape: [8, 4, 4], batch: 2}
layers:
  - {name: stem, type: conv2d, out: 8, kernel: 3, padding: 1}
  - {name: dw, type: conv2d, out: 8, kernel: 3, padding: 1, groups: 8}
  - {name: act, type: relu, inplace: true}
  - {name: tokens, type: flatten, start_dim: 2}
  - {name: moved, type: transpose, dim0: 1, dim1: 2}
  - {name: attn, type: attention, heads: 2, need_weights: false}
  - {name: pool, type: take_token}
  - {name: fc, type: linear, out: 3}
"""


def test_verify_mode_train_checks_every_layer_and_shows_the_true_backward_flops(tmp_path):
    spec = tmp_path / "verify_train.yaml"
    spec.write_text(VERIFY_TRAIN)
    outcome = invoke("verify", str(spec), "--mode", "train", "--device", "cpu", "--format", "json")
    assert outcome.code == 0, outcome.stderr
    document = outcome.json()
    assert document["ok"] is True and document["mismatches"] == []
    assert document["training_rules"] == "PyTorch 2.13, CPU, fp32"
    layers = {layer["name"]: layer for layer in document["layers"]}
    result = analyze_text(VERIFY_TRAIN)
    rules = analyze_training(result)
    measured = probe_training(result, "cpu")
    for row, layer in zip(result.layers, rules.layers, strict=True):
        entry = layers[row.path]
        pytorch = {
            "backward_flops": measured.backward_flops.get(row.index, 0),
            "saved_activation_bytes": measured.saved_bytes(row.index),
        }
        assert entry["engine"] == entry["torch"] == pytorch
        assert entry["true_backward_flops"] == layer.backward_flops
    dw = next(row for row in result.layers if row.path == "dw")
    # true: input and weight gradients, 2 x 2 x MACs; FlopCounterMode: the weight gradient 8 times
    assert layers["dw"]["true_backward_flops"] == 4 * dw.macs
    assert layers["dw"]["torch"]["backward_flops"] == 4 * dw.macs + 7 * 2 * dw.macs
    assert "FlopCounterMode counts the weight gradient 8 times" in layers["dw"]["note"]
    assert "flash-attention" in layers["attn"]["note"]
    assert layers["attn"]["true_backward_flops"] > layers["attn"]["torch"]["backward_flops"]
    assert layers["stem"]["note"] == ""
    assert document["totals"]["true_backward_flops"] == rules.totals.backward_flops
    table = invoke("verify", str(spec), "--mode", "train", "--device", "cpu")
    assert table.code == 0
    assert "OK: all 8 layers match PyTorch (backward FLOPs, saved bytes)." in table.stdout


def test_verify_mode_train_reports_a_wrong_rule_and_refuses_what_it_cannot_check(monkeypatch, tmp_path):
    from cnncalc.training import TRAINING_RULES
    from cnncalc.training.registry import TrainingCost

    spec = tmp_path / "verify_train.yaml"
    spec.write_text(VERIFY_TRAIN)
    # the meta device does not run the CPU's flash attention; without a GPU, CUDA is refused with the reason
    meta = invoke("verify", str(spec), "--mode", "train", "--device", "meta")
    assert meta.code == 2
    assert "layer 'attn': attention runs the CPU flash kernel" in meta.stderr
    assert "hint: use --device cpu" in meta.stderr
    if not torch.cuda.is_available():
        cuda = invoke("verify", str(spec), "--mode", "train", "--device", "cuda")
        assert cuda.code == 2 and "--device cuda but no CUDA device is available" in cuda.stderr
    mixed_on_meta = invoke("verify", str(spec), "--mode", "train", "--device", "meta", "--precision", "bf16-mixed")
    assert mixed_on_meta.code == 2 and "autocast, which has no meta device" in mixed_on_meta.stderr
    # a rule that forgets what relu keeps is caught: exit 1, the mismatch listed
    monkeypatch.setitem(TRAINING_RULES, "relu", lambda view: TrainingCost(output_alias="input0"))
    wrong = invoke("verify", str(spec), "--mode", "train", "--device", "cpu", "--format", "json")
    assert wrong.code == 1
    mismatches = wrong.json()["mismatches"]
    assert {"layer": "act", "check": "saved_activation_bytes", "engine": 0, "torch": 2 * 8 * 4 * 4 * 4} in mismatches


# The zoo under autocast runs on the CPU (autocast has no meta device), at batch 2: every layer's saved
# activations (in the dtype autocast gives each tensor) and the half-precision weight copies it keeps.
@pytest.mark.parametrize("name", zoo())
def test_zoo_training_step_matches_pytorch_in_bf16_mixed(name):
    check_mixed_precision(name, "bf16-mixed")


@pytest.mark.parametrize("name", ["resnet18", "vit_b_16", "convnext_tiny", "efficientnet_b0"])
def test_training_step_matches_pytorch_in_fp16_mixed(name):
    check_mixed_precision(name, "fp16-mixed")


def check_mixed_precision(name: str, precision: str) -> None:
    result = analyze_file(zoo_specs()[name], InputOverrides(batch=2))
    rules = analyze_training(result, TrainingOptions(precision=precision))
    measured = probe_training(result, "cpu", precision=precision)
    for row, layer in zip(result.layers, rules.layers, strict=True):
        assert layer.saved_activation_bytes == measured.saved_bytes(row.index), row.path
        assert layer.saved_weight_copy_bytes == measured.weight_copy_bytes(row.index), row.path
        assert layer.torch_backward_flops == measured.backward_flops.get(row.index, 0), row.path
    assert rules.totals.saved_activation_bytes == measured.total_saved_bytes
    assert rules.totals.saved_weight_copy_bytes == measured.total_weight_copy_bytes
    assert rules.totals.torch_backward_flops == measured.total_backward_flops
    fp32 = analyze_training(result)
    assert rules.totals.backward_flops == fp32.totals.backward_flops  # the work does not depend on the dtype
    assert rules.totals.gradient_bytes == fp32.totals.gradient_bytes  # fp32 master weights and gradients
    assert 0 < rules.totals.saved_weight_copy_bytes < result.totals.param_bytes


def test_resnet18_in_bf16_mixed_keeps_half_precision_activations_and_weight_copies():
    """By hand: every convolution keeps a bf16 copy of its weight, and so does the fc layer (its input needs a
    gradient); the first convolution keeps a bf16 copy of the fp32 input; BatchNorm its bf16 input and fp32
    statistics."""
    result = analyze_file(zoo_specs()["resnet18"], InputOverrides(batch=2))
    rules = analyze_training(result, TrainingOptions(precision="bf16-mixed"))
    layers = {row.path: (row, layer) for row, layer in zip(result.layers, rules.layers, strict=True)}
    _, first = layers["conv1"]
    assert first.saved_activation_bytes == 2 * 3 * 224 * 224 * 2  # the bf16 copy of the fp32 input
    assert first.saved_weight_copy_bytes == 64 * 3 * 7 * 7 * 2
    _, norm = layers["bn1"]
    assert norm.saved_activation_bytes == 2 * 64 * 112 * 112 * 2 + 2 * 64 * 4  # bf16 input, fp32 mean and invstd
    _, fc = layers["fc"]
    assert fc.saved_weight_copy_bytes == 1000 * 512 * 2
    weights = sum(
        row.params - (row.geometry.out_channels if row.geometry and row.geometry.bias else 0)
        for row in result.layers
        if row.kind.startswith("conv")
    )
    assert rules.totals.saved_weight_copy_bytes == weights * 2 + 1000 * 512 * 2 == 23_357_824
    assert rules.totals.saved_activation_bytes == 23_823_872


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (CUDA's rules are measured there)")
@pytest.mark.parametrize("precision", ["fp32", "bf16-mixed"])
def test_cuda_rules_match_a_training_step_on_the_gpu(precision):
    """CUDA's rules, written from PyTorch's source, against a real step on the GPU: a network with dropout,
    normalization and attention (the kinds whose kernels differ from the CPU's)."""
    from cnncalc.bridge.verify_training import verify_training

    result = analyze_text(KERNELS_THAT_DIFFER, overrides=InputOverrides(batch=2))
    report = verify_training(result, "cuda", precision=precision)
    assert report.ok, report.mismatches()


KERNELS_THAT_DIFFER = """name: kernels_that_differ
input: {shape: [8, 8, 8], batch: 2}
layers:
  - {name: stem, type: conv2d, out: 16, kernel: 3, padding: 1}
  - {name: bn, type: batchnorm2d}
  - {name: act, type: relu, inplace: true}
  - {name: up, type: upsample, scale: 2}
  - {name: gn, type: groupnorm, groups: 4}
  - {name: drop, type: dropout, p: 0.25}
  - {name: tokens, type: flatten, start_dim: 2}
  - {name: moved, type: transpose, dim0: 1, dim1: 2}
  - {name: norm, type: layernorm}
  - {name: attn, type: attention, heads: 2, need_weights: false, dropout: 0.1}
  - {name: explicit, type: attention, heads: 2, need_weights: true, dropout: 0.1}
  - {name: mlp, type: mlp, hidden: 32, dropout: 0.1}
  - {name: pool, type: take_token}
  - {name: scores, type: softmax}
"""


@pytest.mark.parametrize("precision", ["fp32", "bf16-mixed"])
def test_the_network_cuda_is_checked_on_trains_as_the_cpu_rules_say(precision):
    """The network the GPU check runs is itself checked here, on the CPU against the CPU's rules."""
    from cnncalc.bridge.verify_training import verify_training

    result = analyze_text(KERNELS_THAT_DIFFER, overrides=InputOverrides(batch=2))
    report = verify_training(result, "cpu", precision=precision)
    assert report.ok, report.mismatches()
    cpu = analyze_training(result, TrainingOptions(precision=precision)).totals
    cuda = analyze_training(result, TrainingOptions(precision=precision, device="cuda")).totals
    assert cuda.saved_activation_bytes != cpu.saved_activation_bytes  # the check on a GPU has work to do
