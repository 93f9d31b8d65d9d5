"""Activation checkpointing (`checkpoint: true`, `--checkpoint`, `checkpoint=`) against PyTorch: the block runs
through torch.utils.checkpoint(use_reentrant=False), which keeps the block's inputs, runs its forward again in
the backward (`recompute_flops`) and keeps what the block's layers save only while its backward runs."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc.base.errors import UsageError
from cnncalc.engine import analyze_text
from cnncalc.engine.analysis import InputOverrides, analyze_file
from cnncalc.language.zoo import zoo_specs
from cnncalc.training import TrainingOptions, analyze_training
from tests.clirunner import invoke

# Worked by hand (batch 2, fp32):
# - stem (3->4, 3x3 on 8x8) keeps its input: 2*3*8*8*4 = 1,536 B; backward: the weight gradient only,
#   2 x MACs = 2 * (2*4*64*27) = 27,648.
# - the checkpointed block keeps its input, the stem's output: 2*4*8*8*4 = 2,048 B (credited to block.conv).
#   Its conv (4->8, 3x3): MACs 2*8*64*36 = 36,864; backward input + weight gradients 4 x MACs = 147,456; run
#   again in the backward: 2 x MACs = 73,728 (the ReLU at the end keeps its output, so all of it runs again).
#   What its layers keep, only during its backward: BatchNorm's input 2*8*64*4 = 4,096 + mean and invstd
#   2*8*4 = 64, ReLU's output 4,096 (the conv's input is the block input, kept already): 8,256 B.
# - head (8->2, 1x1) keeps its input, the ReLU's output (not kept across the forward inside the block):
#   4,096 B; backward 4 x MACs = 4 * (2*2*64*8) = 8,192.
CHECKPOINTED_CBR = """name: checkpointed_cbr
input: {shape: [3, 8, 8], batch: 2}
blocks:
  cbr:
    layers:
      - {name: conv, type: conv2d, out: 8, kernel: 3, padding: 1, bias: false}
      - {name: bn, type: batchnorm}
      - {name: relu, type: relu}
layers:
  - {name: stem, type: conv2d, out: 4, kernel: 3, padding: 1, bias: false}
  - {name: block, block: cbr, checkpoint: true}
  - {name: head, type: conv2d, out: 2, kernel: 1, bias: false}
"""

# resnet18 at batch 2, one stage checkpointed: (saved activation bytes, recompute FLOPs) in total
RESNET18_STAGES = {
    "layer1": (33_156_608, 1_849_688_064),
    "layer2": (37_970_432, 1_644_167_168),
    "layer3": (41_176_576, 1_644_167_168),
    "layer4": (42_571_264, 1_644_167_168),
}


def _resnet18():
    return analyze_file(zoo_specs()["resnet18"], InputOverrides(batch=2))


def test_hand_worked_conv_bn_relu_block():
    training = analyze_training(analyze_text(CHECKPOINTED_CBR))
    figures = {
        row.path: (layer.saved_activation_bytes, layer.backward_flops, layer.recompute_flops)
        for row, layer in zip(analyze_text(CHECKPOINTED_CBR).layers, training.layers, strict=True)
    }
    assert figures == {
        "stem": (1_536, 27_648, 0),
        "block.conv": (2_048, 147_456, 73_728),
        "block.bn": (0, 0, 0),
        "block.relu": (0, 0, 0),
        "head": (4_096, 8_192, 0),
    }
    totals = training.totals
    assert totals.saved_activation_bytes == 7_680
    assert totals.recompute_flops == 73_728
    forward = 2 * (2 * 4 * 64 * 27 + 36_864 + 2 * 2 * 64 * 8)
    assert totals.training_flops == forward + 183_296 + 73_728
    assert totals.recomputed_activation_bytes == 8_256
    assert totals.backward_transient_bytes == 8_192  # the block's ReLU: its output's and input's gradients
    assert totals.training_peak_bytes == 1_776 + 1_712 + 3_424 + 7_680 + 8_192 + 8_256


def test_hand_worked_block_matches_pytorch():
    pytest.importorskip("torch")
    from cnncalc.bridge.training_probe import probe_training

    result = analyze_text(CHECKPOINTED_CBR)
    rules = analyze_training(result)
    measured = probe_training(result, "cpu")
    for row, layer in zip(result.layers, rules.layers, strict=True):
        assert layer.saved_activation_bytes == measured.saved_bytes(row.index), row.path
        assert layer.torch_backward_flops == measured.backward_flops.get(row.index, 0), row.path
        assert layer.recompute_flops == measured.recompute_flops.get(row.index, 0), row.path
    assert measured.total_saved_bytes == 7_680
    assert (measured.total_backward_flops, measured.total_recompute_flops) == (183_296, 73_728)


def test_a_trailing_layer_that_keeps_only_its_input_is_not_run_again():
    """PyTorch stops the recomputation once the last tensor the block saved is saved again: a convolution
    at the block's end saves its input before it computes anything, so it does not run again."""
    text = CHECKPOINTED_CBR.replace(
        "      - {name: relu, type: relu}\n",
        "      - {name: relu, type: relu}\n      - {name: last, type: conv2d, out: 8, kernel: 1, bias: false}\n",
    )
    result = analyze_text(text)
    rules = analyze_training(result)
    recomputed = {row.path: layer.recompute_flops for row, layer in zip(result.layers, rules.layers, strict=True)}
    assert recomputed["block.conv"] == 73_728 and recomputed["block.last"] == 0
    pytest.importorskip("torch")
    from cnncalc.bridge.training_probe import probe_training

    measured = probe_training(result, "cpu")
    assert measured.recompute_flops == {row.index: 73_728 for row in result.layers if row.path == "block.conv"}
    assert rules.totals.saved_activation_bytes == measured.total_saved_bytes


@pytest.mark.parametrize("stage", sorted(RESNET18_STAGES))
def test_resnet18_each_stage_checkpointed_matches_pytorch(stage):
    pytest.importorskip("torch")
    from cnncalc.bridge.training_probe import probe_training

    result = _resnet18()
    plain = analyze_training(result)
    rules = analyze_training(result, TrainingOptions(checkpoint=(stage,)))
    measured = probe_training(result, "meta", checkpoint_paths=(stage,))
    for row, layer in zip(result.layers, rules.layers, strict=True):
        assert layer.saved_activation_bytes == measured.saved_bytes(row.index), row.path
        assert layer.torch_backward_flops == measured.backward_flops.get(row.index, 0), row.path
        assert layer.recompute_flops == measured.recompute_flops.get(row.index, 0), row.path
        # every layer of the stage runs again (each basic block ends with a ReLU, which keeps its output)
        assert layer.recompute_flops == (row.flops if row.path.startswith(stage + ".") else 0), row.path
    totals = rules.totals
    assert (totals.saved_activation_bytes, totals.recompute_flops) == RESNET18_STAGES[stage]
    assert (measured.total_saved_bytes, measured.total_recompute_flops) == RESNET18_STAGES[stage]
    assert totals.backward_flops == plain.totals.backward_flops == measured.total_backward_flops
    assert totals.training_flops == plain.totals.training_flops + totals.recompute_flops
    assert totals.saved_activation_bytes < plain.totals.saved_activation_bytes


@pytest.mark.parametrize(
    ("frozen", "saved", "recompute"),
    [
        # nothing trainable below layer1 or in it: autograd records nothing there, and drops the block's input
        (("conv1", "bn1", "layer1"), 14_289_920, 0),
        # layer1 frozen, the stem trains: the gradient flows through the block, which runs again
        (("layer1",), 33_156_608, 1_849_688_064),
    ],
)
def test_checkpointing_a_frozen_stage_matches_pytorch(frozen, saved, recompute):
    pytest.importorskip("torch")
    from cnncalc.bridge.training_probe import probe_training

    result = _resnet18()
    rules = analyze_training(result, TrainingOptions(freeze=frozen, checkpoint=("layer1",)))
    measured = probe_training(result, "meta", frozen_paths=frozen, checkpoint_paths=("layer1",))
    for row, layer in zip(result.layers, rules.layers, strict=True):
        assert layer.saved_activation_bytes == measured.saved_bytes(row.index), row.path
        assert layer.torch_backward_flops == measured.backward_flops.get(row.index, 0), row.path
        assert layer.recompute_flops == measured.recompute_flops.get(row.index, 0), row.path
    assert (rules.totals.saved_activation_bytes, rules.totals.recompute_flops) == (saved, recompute)
    assert (measured.total_saved_bytes, measured.total_recompute_flops) == (saved, recompute)


def test_spec_checkpoint_marks_each_copy_of_a_repeat():
    text = """name: repeated
input: {shape: [3, 8, 8], batch: 2}
layers:
  - {name: stem, type: conv2d, out: 4, kernel: 3, padding: 1}
  - name: stage
    repeat: 2
    checkpoint: true
    layers:
      - {type: conv2d, out: 4, kernel: 3, padding: 1}
      - {type: relu}
"""
    result = analyze_text(text)
    assert result.checkpoint_paths == ("stage.0", "stage.1")
    given = analyze_training(analyze_text(text.replace("    checkpoint: true\n", "")), TrainingOptions())
    assert analyze_training(result).totals.saved_activation_bytes < given.totals.saved_activation_bytes


def test_cli_and_api_agree_and_inference_is_unchanged():
    run = invoke("analyze", "specs/resnet18.yaml", "-b", "2", "--mode", "train", "--checkpoint", "layer3", "-f", "json")
    assert run.code == 0, run.stderr
    document = run.json()
    totals = document["totals"]
    assert (totals["saved_activation_bytes"], totals["recompute_flops"]) == RESNET18_STAGES["layer3"]
    assert totals["training_flops"] == totals["flops"] + totals["backward_flops"] + totals["recompute_flops"]
    assert sum(layer["recompute_flops"] for layer in document["layers"]) == totals["recompute_flops"]
    analysis = cnncalc.analyze("resnet18", batch=2, mode="train", checkpoint="layer3")
    assert analysis.training.recompute_flops == totals["recompute_flops"]
    assert analysis.training.recomputed_activation_bytes == totals["recomputed_activation_bytes"]
    table = invoke("analyze", "specs/resnet18.yaml", "--mode", "train", "--checkpoint", "layer3", columns=200)
    assert "Recompute FLOPs" in table.stdout and "forward + backward + recomputation" in table.stdout
    # `checkpoint: true` changes nothing at inference
    marked = CHECKPOINTED_CBR
    unmarked = CHECKPOINTED_CBR.replace(", checkpoint: true", "")
    assert cnncalc.analyze(marked).to_dict() == cnncalc.analyze(unmarked).to_dict()


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (("--mode", "train", "--checkpoint", "layr1"), "--checkpoint layr1: no layer has this path", "'layer1'"),
        (
            ("--mode", "train", "--checkpoint", "layer1", "--checkpoint", "layer1.0"),
            "--checkpoint layer1.0 lies inside layer1, checkpointed too (--checkpoint)",
            "nested checkpointing is not covered",
        ),
        (("--checkpoint", "layer1"), "--checkpoint applies to a training step", "add --mode train"),
    ],
)
def test_bad_checkpoint_paths_are_refused_clearly(args, message, hint):
    run = invoke("analyze", "specs/resnet18.yaml", *args)
    assert run.code == 2
    assert f"error: {message}" in run.stderr
    assert hint in run.stderr
    assert "Traceback" not in run.stderr


def test_bad_checkpoint_in_the_spec_and_the_api():
    bad = CHECKPOINTED_CBR.replace("checkpoint: true", "checkpoint: 1")
    spec_run = invoke("analyze", "-", stdin=bad)
    assert spec_run.code != 0
    assert "<stdin>:11:43: error: `checkpoint` must be true or false" in spec_run.stderr
    assert "hint: checkpoint: true recomputes" in spec_run.stderr
    with pytest.raises(UsageError, match="checkpoint applies to a training step"):
        cnncalc.analyze("resnet18", checkpoint=["layer1"])
    with pytest.raises(UsageError, match="no layer has this path"):
        cnncalc.analyze("resnet18", mode="train", checkpoint=["layer9"])
    with pytest.raises(UsageError, match="expected block paths"):
        cnncalc.analyze("resnet18", mode="train", checkpoint=[1])


def test_verify_mode_train_checks_the_recomputation(tmp_path):
    pytest.importorskip("torch")
    spec = tmp_path / "cbr.yaml"
    spec.write_text(CHECKPOINTED_CBR)
    run = invoke("verify", str(spec), "--mode", "train", "--device", "cpu", "--format", "json")
    assert run.code == 0, run.stderr
    document = run.json()
    assert document["ok"] is True
    assert document["totals"]["recompute_flops"] == {"engine": 73_728, "torch": 73_728}
    conv = next(layer for layer in document["layers"] if layer["name"] == "block.conv")
    assert (
        conv["engine"]
        == conv["torch"]
        == {
            "backward_flops": 147_456,
            "saved_activation_bytes": 2_048,
            "recompute_flops": 73_728,
        }
    )
    table = invoke("verify", str(spec), "--mode", "train", "--device", "cpu", columns=160)
    assert "Recompute" in table.stdout and "OK: all 5 layers match PyTorch" in table.stdout
