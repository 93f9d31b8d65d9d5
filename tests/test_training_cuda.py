"""The CUDA training rules (`--device cuda`), by arithmetic: where CUDA's kernels keep something else than the
CPU's. They come from PyTorch's source and are not yet measured on a GPU (`verify --mode train` on CUDA is
what measures them); each figure here is worked by hand from that source."""

from __future__ import annotations

import json

import pytest

import cnncalc
from cnncalc.engine import analyze_text
from cnncalc.engine.analysis import InputOverrides, analyze_file
from cnncalc.language.zoo import zoo_specs
from cnncalc.training import TrainingOptions, analyze_training
from tests.clirunner import invoke


def saved(text: str, precision: str = "fp32", device: str = "cpu") -> list[int]:
    result = analyze_text(text)
    training = analyze_training(result, TrainingOptions(precision=precision, device=device))
    return [layer.saved_activation_bytes for layer in training.layers]


MLP_HEAD = """
name: head
input: {shape: [4, 64], batch: 8}
layers:
  - {name: fc1, type: linear, out: 32}
  - {name: drop, type: dropout, p: 0.5}
  - {name: fc2, type: linear, out: 10}
"""


def test_dropout_keeps_a_one_byte_mask_on_cuda() -> None:
    # fc1 keeps its 8x4x64 input (its weight trains), fc2 the dropout's output
    cpu, cuda = saved(MLP_HEAD), saved(MLP_HEAD, device="cuda")
    assert cpu[1] == 8 * 4 * 32 * 4  # the CPU: a float noise tensor
    assert cuda[1] == 8 * 4 * 32 * 1  # CUDA's fused kernel: a bool mask
    assert cpu[0] == cuda[0] == 8 * 4 * 64 * 4 and cpu[2] == cuda[2] == 8 * 4 * 32 * 4
    inplace = MLP_HEAD.replace("p: 0.5}", "p: 0.5, inplace: true}")
    assert saved(inplace, device="cuda")[1] == 8 * 4 * 32 * 4  # in place: the noise tensor, as on the CPU


def test_alexnet_classifier_dropouts_on_cuda() -> None:
    result = analyze_file(zoo_specs()["alexnet"], InputOverrides(batch=2))
    cpu = analyze_training(result).totals.saved_activation_bytes
    cuda = analyze_training(result, TrainingOptions(device="cuda")).totals.saved_activation_bytes
    assert cpu - cuda == (2 * 9216 + 2 * 4096) * (4 - 1)  # two dropouts, 4 bytes a value -> 1


TOKENS = """
name: tokens
input: {shape: [16, 24], batch: 2}
layers:
  - {name: proj, type: linear, out: 24}
  - {name: norm, type: layernorm}
  - {name: scores, type: softmax}
"""


def test_cuda_autocast_runs_layer_norm_and_softmax_in_fp32() -> None:
    elements = 2 * 16 * 24
    cpu = saved(TOKENS, "bf16-mixed")
    cuda = saved(TOKENS, "bf16-mixed", "cuda")
    # the CPU: LayerNorm keeps its bf16 input and fp32 statistics, softmax its bf16 output
    assert cpu[1:] == [elements * 2 + 2 * 32 * 4, elements * 2]
    # CUDA: LayerNorm keeps an fp32 copy of its bf16 input; softmax reads fp32 and keeps its fp32 output
    assert cuda[1:] == [elements * 4 + 2 * 32 * 4, elements * 4]


def test_fused_attention_on_cuda_vit_b_16() -> None:
    """fp32: the memory-efficient kernel pads its log-sum-exp to 32 queries (197 -> 224) and keeps a 0-d int64
    seed and offset; bf16: the flash kernel keeps an unpadded one and a random state of three uint64."""
    result = analyze_file(zoo_specs()["vit_b_16"], InputOverrides(batch=2))
    for precision, per_layer in (("fp32", 2 * 12 * (224 - 197) * 4 + 2 * 8), ("bf16-mixed", 3 * 8)):
        cpu = analyze_training(result, TrainingOptions(precision=precision)).totals
        cuda = analyze_training(result, TrainingOptions(precision=precision, device="cuda")).totals
        assert cuda.saved_activation_bytes - cpu.saved_activation_bytes == 12 * per_layer, precision
        assert cuda.backward_flops == cpu.backward_flops


def test_device_option_on_the_command_line_and_in_python() -> None:
    run = invoke("analyze", "alexnet", "--mode", "train", "--device", "cuda", "--precision", "bf16-mixed", "-f", "json")
    assert run.code == 0, run.output
    assert json.loads(run.stdout)["training_rules"] == "PyTorch 2.13, CUDA, bf16-mixed"
    refused = invoke("analyze", "alexnet", "--device", "cuda")
    assert refused.code == 2 and "--device applies to a training step" in refused.stderr
    analysis = cnncalc.analyze("alexnet", batch=2, mode="train", device="cuda")
    assert analysis.training is not None
    assert analysis.training.saved_activation_bytes == 7_482_368 - 79_872
    with pytest.raises(cnncalc.UsageError, match="device: unknown device 'tpu'"):
        cnncalc.analyze("alexnet", mode="train", device="tpu")
    assert cnncalc.fit("alexnet", "4GiB", device="cuda").answer > cnncalc.fit("alexnet", "4GiB").answer
