"""Property-based check of the training rules against PyTorch: random valid specs over every layer kind.

The specs come from the generators of tests/test_property_torch.py. Each is analysed by the engine and its
training rules, then built by the torch bridge and run for one training step on the CPU, where
`cnncalc.bridge.training_probe` measures what autograd keeps (saved_tensors_hooks) and what the backward
computes (FlopCounterMode): per layer, the rules must give exactly what PyTorch did, with the network input
needing a gradient or not, in fp32 and under autocast (bf16-mixed, fp16-mixed: then the half-precision weight
copies autocast keeps are checked too).
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="the torch extra is not installed: pip install 'cnncalc[torch]'")

from cnncalc.bridge.training_probe import probe_training  # noqa: E402
from cnncalc.engine import analyze_text  # noqa: E402
from cnncalc.engine.analysis import InputOverrides  # noqa: E402
from cnncalc.training import TrainingOptions, TrainingRefused, analyze_training  # noqa: E402
from tests.test_property_torch import CPU, KINDS, SETTINGS, kind_case, network_case  # noqa: E402

EXAMPLES_PER_KIND = 6
NETWORK_EXAMPLES = 60
AUTOCAST_EXAMPLES_PER_KIND = 4
AUTOCAST_NETWORK_EXAMPLES = 40
MIXED = ("bf16-mixed", "fp16-mixed")


def training_mismatches(text: str, input_requires_grad: bool, precision: str = "fp32") -> list[str]:
    result = analyze_text(text, overrides=InputOverrides(dtype="float32"))  # a model in fp32 (master weights)
    options = TrainingOptions(input_requires_grad=input_requires_grad, precision=precision)
    try:
        rules = analyze_training(result, options)
    except TrainingRefused as refused:  # then PyTorch must refuse too (or be unable to run it at all)
        note(f"refused: {refused}")
        if not refused.pytorch_raises:  # it would corrupt memory
            return []
        with pytest.raises((RuntimeError, ValueError), match=r"in-?place|when training"):
            probe_training(result, "cpu", input_requires_grad=input_requires_grad, precision=precision)
        return []
    # Under autocast only the forward runs (what it saves): the backward's FLOPs do not depend on the dtype
    # (checked in fp32, and on the zoo under autocast), and PyTorch 2.13 crashed (segmentation fault) now and
    # then on random half-precision 3-d convolutions under FlopCounterMode.
    mixed = precision != "fp32"
    measured = probe_training(
        result, "cpu", input_requires_grad=input_requires_grad, precision=precision, count_flops=not mixed
    )
    wrong = []
    if mixed:
        fp32 = analyze_training(result, TrainingOptions(input_requires_grad=input_requires_grad))
        measured.backward_flops = {layer.index: layer.torch_backward_flops for layer in fp32.layers}
        measured.total_backward_flops = fp32.totals.torch_backward_flops
    for row, layer in zip(result.layers, rules.layers, strict=True):
        saved, flops = measured.saved_bytes(row.index), measured.backward_flops.get(row.index, 0)
        copies = measured.weight_copy_bytes(row.index)
        if copies != layer.saved_weight_copy_bytes:
            wrong.append(f"{row.path} ({row.kind}): weight copies {layer.saved_weight_copy_bytes} != torch {copies}")
        if (saved, flops) != (layer.saved_activation_bytes, layer.torch_backward_flops):
            kept = [
                (item.role, item.shape, item.dtype, item.nbytes) for item in measured.saved if item.layer == row.index
            ]
            wrong.append(
                f"{row.path} ({row.kind}): saved {layer.saved_activation_bytes} != torch {saved} {kept}; "
                f"backward FLOPs {layer.torch_backward_flops} != torch {flops}"
            )
    if measured.total_saved_bytes != rules.totals.saved_activation_bytes:
        wrong.append(f"total saved {rules.totals.saved_activation_bytes} != torch {measured.total_saved_bytes}")
    if measured.total_backward_flops != rules.totals.torch_backward_flops:
        wrong.append(f"total backward {rules.totals.torch_backward_flops} != torch {measured.total_backward_flops}")
    return wrong


def check(text: str, input_requires_grad: bool, precision: str = "fp32") -> None:
    threads = torch.get_num_threads()
    # the rules assume PyTorch runs more than one thread, its default on a multi-core CPU (which kernel takes
    # some 3-d transposed convolutions depends on it)
    torch.set_num_threads(max(2, threads))
    try:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            wrong = training_mismatches(text, input_requires_grad, precision)
    finally:
        torch.set_num_threads(threads)
    situation = f"input requires grad: {input_requires_grad}, {precision}"
    assert not wrong, f"training rules != torch ({situation}):\n{text}\n" + "\n".join(wrong)


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=EXAMPLES_PER_KIND, **SETTINGS)
@given(data=st.data())
def test_each_kind_trains_as_torch(kind, data):
    _, text = data.draw(kind_case(kind, CPU), label="spec")
    check(text, data.draw(st.booleans(), label="input requires grad"))


@settings(max_examples=NETWORK_EXAMPLES, **SETTINGS)
@given(case=network_case(CPU, steps=7), input_requires_grad=st.booleans())
def test_random_networks_train_as_torch(case, input_requires_grad):
    _, text = case
    check(text, input_requires_grad)


# PyTorch 2.13's half-precision 3-d convolution on the CPU (oneDNN) crashes the process (segmentation fault)
# on some shapes, autocast or not: Conv3d(3, 15, 2, stride=2, padding=(0, 2, 0), dilation=(1, 3, 1)) on a
# bf16 1x3x6x1x7 input does. Random specs under autocast leave 3-d convolutions out; fixed 3-d networks are
# checked under autocast below.
THREE_D_CONVOLUTIONS = {"conv3d", "conv_transpose3d"}
AUTOCAST_KINDS = sorted(set(KINDS) - THREE_D_CONVOLUTIONS)


def without_3d_convolution(text: str) -> bool:
    result = analyze_text(text, overrides=InputOverrides(dtype="float32"))
    return not any(
        row.kind.startswith(("conv", "depthwise", "pointwise")) and len(row.input_shape) == 5 for row in result.layers
    )


@pytest.mark.parametrize("kind", AUTOCAST_KINDS)
@settings(max_examples=AUTOCAST_EXAMPLES_PER_KIND, **SETTINGS)
@given(data=st.data())
def test_each_kind_trains_as_torch_under_autocast(kind, data):
    _, text = data.draw(kind_case(kind, CPU), label="spec")
    assume(without_3d_convolution(text))
    check(text, data.draw(st.booleans(), label="input requires grad"), data.draw(st.sampled_from(MIXED)))


@settings(max_examples=AUTOCAST_NETWORK_EXAMPLES, **SETTINGS)
@given(case=network_case(CPU, steps=7), input_requires_grad=st.booleans(), precision=st.sampled_from(MIXED))
def test_random_networks_train_as_torch_under_autocast(case, input_requires_grad, precision):
    _, text = case
    assume(without_3d_convolution(text))
    check(text, input_requires_grad, precision)


VOLUME_NETWORK = """
name: volume
input: {shape: [2, 6, 8, 8], batch: 2}
layers:
  - {name: stem, type: conv3d, out: 8, kernel: 3, padding: 1, padding_mode: replicate}
  - {name: norm, type: batchnorm3d}
  - {name: act, type: relu, inplace: true}
  - {name: pool, type: maxpool3d, kernel: 2}
  - {name: grouped, type: conv3d, out: 8, kernel: 3, padding: 1, groups: 2}
  - {name: average, type: avgpool3d, kernel: 2, stride: 1}
  - {name: up, type: conv_transpose3d, out: 4, kernel: 2, stride: 2}
  - {name: instances, type: instancenorm, affine: true}
  - {name: gelu, type: gelu}
  - {name: head, type: adaptive_avgpool, output_size: 1}
"""


@pytest.mark.parametrize("precision", MIXED)
@pytest.mark.parametrize("input_requires_grad", [False, True])
def test_a_3d_network_trains_as_torch_under_autocast(precision, input_requires_grad):
    check(VOLUME_NETWORK, input_requires_grad, precision)
