"""Training rules by arithmetic (no torch): hand-worked layers and networks, the registry, the command line
and the Python API of `--mode train`. Every figure was worked by hand from what PyTorch 2.13 keeps; the
torch side checks the same rules against PyTorch itself (tests/test_training_torch.py)."""

from __future__ import annotations

import json

import pytest

import cnncalc
from cnncalc.engine import analyze_text
from cnncalc.kinds import COMPOSITES, REGISTRY
from cnncalc.training import TRAINING_RULES, TrainingOptions, TrainingRefused, analyze_training
from tests.clirunner import invoke

CONV_BN_ACT = """
name: block
input: {{shape: [3, 8, 8], batch: 2}}
layers:
  - {{name: c1, type: conv2d, out: 4, kernel: 3, padding: 1, bias: false{frozen}}}
  - {{name: bn, type: batchnorm2d}}
  - {{name: act, type: {activation}{inplace}}}
  - {{name: c2, type: conv2d, out: 4, kernel: 3, padding: 1, bias: false}}
"""


def block(activation: str = "relu", inplace: bool = True, frozen: bool = False) -> str:
    return CONV_BN_ACT.format(
        activation=activation, inplace=", inplace: true" if inplace else "", frozen=", frozen: true" if frozen else ""
    )


def training(text: str, **options: object):
    return analyze_training(analyze_text(text), TrainingOptions(**options))  # type: ignore[arg-type]


def test_every_kind_has_a_training_rule():
    assert set(TRAINING_RULES) == set(REGISTRY)
    # a composite expands into registered kinds, whose rules apply
    for name, composite in COMPOSITES.items():
        assert name not in TRAINING_RULES, f"{name} is a composite: its parts have the rules"
        assert composite is not None


def test_conv_bn_inplace_relu_conv_by_hand():
    result = training(block("relu", inplace=True))
    saved = [layer.saved_activation_bytes for layer in result.layers]
    # c1 keeps the network input (2x3x8x8 fp32 = 1,536 B: its weights train, though the input needs no gradient);
    # bn its input (2x4x8x8 = 2,048 B) and a mean and an inverse deviation per channel (2 x 4 x 4 = 32 B);
    # the in-place relu its output, the bn output it overwrote (2,048 B); c2 the same storage again: nothing new.
    assert saved == [1536, 2080, 2048, 0]
    assert result.totals.saved_activation_bytes == 5664
    # c1: weight gradient only (the input needs none): 2 x 13,824 MACs; c2: input and weight gradients.
    assert [layer.backward_flops for layer in result.layers] == [27648, 0, 0, 73728]
    assert result.totals.backward_flops == 101376
    assert result.totals.training_flops == 2 * (13824 + 18432) + 101376


@pytest.mark.parametrize(
    ("activation", "inplace", "act_bytes", "conv_bytes"),
    [
        ("relu", False, 2048, 0),  # its own output, which c2 keeps too
        ("relu6", False, 2048, 2048),  # its input (the bn output), and c2 the relu6 output
        ("relu6", True, 2048 + 2048, 0),  # in place, hardtanh_ keeps a copy of its input
        ("silu", False, 2048, 2048),
        ("silu", True, 2048 + 2048, 0),  # in place: a copy of its input, and c2 keeps the overwritten storage
        ("gelu", False, 2048, 2048),
        ("sigmoid", False, 2048, 0),
        ("hardswish", True, 2048 + 2048, 0),
    ],
)
def test_what_each_activation_keeps(activation, inplace, act_bytes, conv_bytes):
    result = training(block(activation, inplace=inplace))
    _, bn, act, c2 = (layer.saved_activation_bytes for layer in result.layers)
    assert bn == 2080
    assert act + c2 == act_bytes + conv_bytes


def test_a_frozen_first_layer_keeps_nothing_and_computes_no_gradient():
    result = training(block(frozen=True))
    # c1 is frozen and its input needs no gradient: autograd does not record it at all
    assert result.layers[0].saved_activation_bytes == 0
    assert result.layers[0].backward_flops == 0
    # bn trains: it keeps its input although nothing below it needs a gradient
    assert result.layers[1].saved_activation_bytes == 2080
    assert result.totals.backward_flops == 73728
    assert result.totals.saved_activation_bytes == 4128


def test_freeze_by_path_is_the_frozen_flag():
    assert training(block(), freeze=("c1",)) == training(block(frozen=True))


@pytest.mark.parametrize(("optimizer", "copies"), [("sgd", 0), ("momentum", 1), ("adam", 2), ("adamw", 2)])
def test_optimizer_state_and_gradients(optimizer, copies):
    totals = training(block(), optimizer=optimizer).totals
    trainable = 108 + 8 + 144  # c1, bn (weight and bias), c2
    assert totals.gradient_bytes == 4 * trainable
    assert totals.optimizer_state_bytes == copies * 4 * trainable
    frozen = training(block(frozen=True), optimizer=optimizer).totals
    assert frozen.gradient_bytes == 4 * (trainable - 108)


def test_training_peak_is_the_sum_of_its_parts():
    result = analyze_text(block())
    totals = analyze_training(result).totals
    # the largest transient: c2's (or bn's) output gradient and input gradient, 2 x 2,048 B
    assert totals.backward_transient_bytes == 4096
    assert totals.training_peak_bytes == (
        result.totals.param_bytes
        + result.totals.buffer_bytes
        + totals.gradient_bytes
        + totals.optimizer_state_bytes
        + totals.saved_activation_bytes
        + 4096
    )


def test_grouped_convolution_weight_gradient_as_flop_counter_counts_it():
    text = """
input: {shape: [8, 6, 6], batch: 2}
layers:
  - {name: c1, type: conv2d, out: 8, kernel: 1}
  - {name: dw, type: depthwise, kernel: 3, padding: 1}
"""
    dw = training(text).layers[1]
    macs = 2 * 8 * 6 * 6 * 9  # 5,184
    assert dw.backward_flops == 2 * 2 * macs  # input and weight gradients, each 2 x MACs
    # FlopCounterMode (torch 2.13) counts the weight gradient of a grouped convolution `groups` (8) times
    assert dw.torch_backward_flops == 2 * macs + 8 * 2 * macs


def test_maxpool_keeps_int64_indices_and_dropout_a_float_noise():
    text = """
input: {shape: [2, 4, 4], batch: 3}
layers:
  - {name: c, type: conv2d, out: 2, kernel: 1}
  - {name: pool, type: maxpool2d, kernel: 2}
  - {name: drop, type: dropout, p: 0.5}
  - {name: fc, type: flatten}
  - {name: head, type: linear, out: 5}
"""
    _, pool, drop, flatten, head = (layer.saved_activation_bytes for layer in training(text).layers)
    assert pool == 3 * 2 * 4 * 4 * 4 + 3 * 2 * 2 * 2 * 8  # the conv output and the int64 indices
    assert drop == 3 * 2 * 2 * 2 * 4  # the noise: 0 or 2, float32
    assert flatten == 0
    assert head == 3 * 2 * 2 * 2 * 4  # the dropout output (flatten is a view of it)


def test_analyze_mode_train_json():
    run = invoke("analyze", "specs/resnet18.yaml", "--mode", "train", "--optimizer", "sgd", "--format", "json")
    assert run.code == 0, run.output
    document = run.json()
    totals = document["totals"]
    assert document["mode"] == "train"
    assert document["training_rules"] == "PyTorch 2.13, CPU, fp32"
    for key in (
        "backward_flops",
        "training_flops",
        "gradient_bytes",
        "optimizer_state_bytes",
        "saved_activation_bytes",
        "training_peak_bytes",
    ):
        assert isinstance(totals[key], int), key
    assert totals["optimizer_state_bytes"] == 0
    assert totals["gradient_bytes"] == 4 * 11689512
    assert totals["training_flops"] == totals["flops"] + totals["backward_flops"]
    layers = document["layers"]
    assert sum(layer["backward_flops"] for layer in layers) == totals["backward_flops"]
    assert sum(layer["saved_activation_bytes"] for layer in layers) == totals["saved_activation_bytes"]


def test_analyze_without_mode_train_has_no_training_keys():
    document = invoke("analyze", "specs/resnet18.yaml", "--format", "json").json()
    assert "mode" not in document and "backward_flops" not in document["totals"]
    assert "backward_flops" not in document["layers"][0]


def test_depth_sums_the_training_figures_of_a_block():
    full = invoke("analyze", "specs/resnet18.yaml", "--mode", "train", "--format", "json").json()
    collapsed = invoke("analyze", "specs/resnet18.yaml", "--mode", "train", "--format", "json", "-d", "1").json()
    layer1 = next(row for row in collapsed["layers"] if row["name"] == "layer1")
    members = [row for row in full["layers"] if row["name"].startswith("layer1.")]
    assert layer1["backward_flops"] == sum(row["backward_flops"] for row in members)
    assert layer1["saved_activation_bytes"] == sum(row["saved_activation_bytes"] for row in members)


def test_train_table_fits_80_columns():
    run = invoke("analyze", "specs/resnet18.yaml", "--mode", "train", columns=80)
    assert run.code == 0, run.output
    assert all(len(line) <= 80 for line in run.stdout.splitlines())
    header = run.stdout.splitlines()[1]
    assert "Bwd FLOPs" in header and "Saved" in header
    assert "Training peak" in run.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "train", "--freeze", "layr1"], "--freeze layr1: no layer has this path"),
        (["--freeze", "layer1"], "--freeze applies to a training step"),
        (["--mode", "train", "--dtype", "bfloat16"], "the training rules are for a float32 model"),
        (["--precision", "bf16-mixed"], "--precision applies to a training step"),
        (["--mode", "train", "--precision", "bf16"], "Invalid value for '--precision'"),
    ],
)
def test_training_usage_errors(args, message):
    run = invoke("analyze", "specs/resnet18.yaml", *args)
    assert run.code == 2
    assert message in run.stderr


def test_python_api_mode_train():
    analysis = cnncalc.analyze("resnet18", batch=2, mode="train", optimizer="momentum", freeze=["conv1"])
    document = invoke(
        "analyze",
        "resnet18",
        "-b",
        "2",
        "--mode",
        "train",
        "--optimizer",
        "momentum",
        "--freeze",
        "conv1",
        "--format",
        "json",
    ).json()
    assert analysis.to_dict()["totals"] == document["totals"]
    assert analysis.training is not None
    assert analysis.training.training_peak_bytes == document["totals"]["training_peak_bytes"]
    assert analysis.layers[0].backward_flops == 0  # conv1 frozen, input needs no gradient
    assert json.dumps(analysis.to_dict())
    with pytest.raises(cnncalc.UsageError, match="optimizer"):
        cnncalc.analyze("resnet18", mode="train", optimizer="lion")
    with pytest.raises(cnncalc.UsageError, match="training step"):
        cnncalc.analyze("resnet18", freeze="conv1")
    assert cnncalc.analyze("resnet18").training is None


WINDOW_ATTENTION = """
name: windows
input: {{shape: [4, 4, 8], batch: 2}}
layers:
  - {{name: attn, type: window_attention, heads: {heads}, window: 4}}
"""


@pytest.mark.parametrize(("heads", "saved_bytes"), [(1, 8192), (2, 9216)])
def test_window_attention_keeps_the_packed_qkv_where_its_heads_fold(heads, saved_bytes):
    # 2 maps of 4x4x8, one 4x4 window each: 32 positions x 8 channels = 1,024 B per (positions, C) tensor.
    # Always: the windows (F.pad copies), Q scaled, the heads' output: 3 x 1,024 B; the softmax 2 x heads x 16
    # x 16 x 4 B. One head: Kᵀ and V fold to 3 axes as views of the packed QKV (3 x 1,024 B, kept once);
    # two heads: they do not, and matmul keeps a copy of each (1,024 B each).
    result = training(WINDOW_ATTENTION.format(heads=heads))
    softmax = 2 * heads * 16 * 16 * 4
    assert saved_bytes == 3 * 1024 + softmax + (3 * 1024 if heads == 1 else 2 * 1024)
    assert result.totals.saved_activation_bytes == saved_bytes


GROUPNORM_ON_A_VIEW = """
name: groupnorm_view
input: {{shape: {shape}, batch: 2}}
layers:
  - {{name: moved, type: permute, dims: {dims}}}
  - {{name: norm, type: groupnorm, groups: 2}}
  - {{name: conv, from: moved, type: {conv}, out: 2, kernel: 1}}
"""
GROUPNORM_CHANNELS_LAST = GROUPNORM_ON_A_VIEW.format(shape=[4, 4, 8], dims=[0, 3, 1, 2], conv="conv2d")
GROUPNORM_PERMUTED_3D = GROUPNORM_ON_A_VIEW.format(shape=[4, 6], dims=[0, 2, 1], conv="conv1d")


@pytest.mark.parametrize(
    ("text", "saved"),
    [
        # a channels-last view is contiguous in the format it suggests: group norm keeps the network input
        # itself (2x4x4x8 fp32 = 1,024 B) with 2 x 2 means and deviations (32 B); the conv keeps it again
        (GROUPNORM_CHANNELS_LAST, [0, 1056, 0]),
        # a permuted 3-d tensor is copied first (2x6x4 = 192 B) and the copy kept; the conv keeps the input
        (GROUPNORM_PERMUTED_3D, [0, 224, 192]),
    ],
)
def test_groupnorm_keeps_a_contiguous_copy_of_an_input_laid_out_otherwise(text, saved):
    assert [layer.saved_activation_bytes for layer in training(text).layers] == saved


SPLIT_THEN_INPLACE = """name: split_inplace
input: {shape: [4, 4, 4], batch: 2}
layers:
  - {name: conv, type: conv2d, out: 4, kernel: 1}
  - {name: half, type: channel_split, parts: 2}
  - {name: act, type: relu, inplace: true}
"""


def test_an_inplace_layer_on_a_split_is_refused_as_pytorch_refuses_it(tmp_path):
    spec = tmp_path / "split.yaml"
    spec.write_text(SPLIT_THEN_INPLACE)
    run = invoke("analyze", str(spec), "--mode", "train")
    assert run.code == 1
    assert f"{spec}:6:5: layer 'act' (relu, inplace: true) overwrites one of the views channel_split" in run.stderr
    assert "hint: set inplace: false on 'act'" in run.stderr
    assert "Traceback" not in run.stderr
    with pytest.raises(cnncalc.UsageError, match="overwrites one of the views"):
        cnncalc.analyze(SPLIT_THEN_INPLACE, mode="train")
    # not tracked (the conv frozen, the input needs no gradient): PyTorch allows it, and so do the rules
    assert training(SPLIT_THEN_INPLACE.replace("kernel: 1}", "kernel: 1, frozen: true}")).totals.backward_flops == 0


def test_an_inplace_first_layer_is_refused_when_the_input_needs_a_gradient():
    text = "name: leaf\ninput: {shape: [4, 4, 4]}\nlayers:\n  - {name: act, type: relu, inplace: true}\n"
    assert training(text).totals.saved_activation_bytes == 0  # nothing tracked: PyTorch allows it
    with pytest.raises(TrainingRefused, match="overwrites the network input, which needs a gradient"):
        training(text, input_requires_grad=True)


ONE_VALUE_BATCHNORM = "name: bn\ninput: {shape: [4, 1, 1]}\nlayers:\n  - {name: norm, type: batchnorm2d}\n"
ONE_POSITION_INSTANCENORM = (
    "name: inorm\ninput: {shape: [4, 1, 1], batch: 2}\nlayers:\n"
    "  - {name: norm, type: instancenorm, track_running_stats: true}\n"
)


def test_batch_statistics_of_one_value_are_refused_in_training():
    # batch 1, 1x1 positions: fine at inference with running statistics (the engine warns), refused in training
    # (group and instance norm of one value are refused by the engine in any mode)
    with pytest.raises(TrainingRefused, match="training mode would be of one value per channel") as refused:
        training(ONE_VALUE_BATCHNORM)
    assert str(refused.value).startswith("<spec>:4:5: layer 'norm' (batchnorm2d): ")
    assert refused.value.hint == "train with a larger batch or input"
    # batch 2: its input (2x4 fp32, 32 B) with a mean and an inverse deviation per channel (2 x 4 x 4 B)
    assert training(ONE_VALUE_BATCHNORM.replace("[4, 1, 1]", "[4, 1, 1], batch: 2")).totals.saved_activation_bytes == 64
    # instance norm with running statistics: fine at inference, refused in training at one position
    with pytest.raises(TrainingRefused, match="one value per sample and channel"):
        training(ONE_POSITION_INSTANCENORM)


# Layouts PyTorch gives outputs, which decide whether a later reshape is a view or a copy. Each ends with a
# linear layer whose weight trains, keeping its input: a view of a storage kept already (0 B) or a copy.
SOFTMAX_THEN_FLATTEN = """name: softmax_layout
input: {shape: [4, 6], batch: 2}
layers:
  - {name: conv, type: conv1d, out: 4, kernel: 1}
  - {name: moved, type: permute, dims: [0, 2, 1]}
  - {name: soft, type: softmax, dim: -1}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out: 2}
"""
SLICE_THEN_SIGMOID = """name: slice_layout
input: {shape: [6, 4], batch: 2}
layers:
  - {name: conv, type: conv1d, out: 6, kernel: 1}
  - {name: moved, type: permute, dims: [0, 2, 1]}
  - {name: half, type: channel_split, parts: 2, take: 1}
  - {name: act, type: sigmoid}
  - {name: back, type: permute, dims: [0, 2, 1]}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out: 2}
"""
# batch 1, small: PyTorch's CPU runs it on slow_conv_transpose3d, whose output storage stays as large as the
# input (2 x 3 x 3 x 3 = 54 values) though the output is a single value; gelu keeps all of it
TRANSPOSED_3D_THEN_GELU = """name: transposed_storage
input: {shape: [2, 3, 3, 3]}
layers:
  - {name: up, type: conv_transpose3d, out: 1, kernel: 1, padding: 1}
  - {name: act, type: gelu}
"""


@pytest.mark.parametrize(
    ("text", "saved"),
    [
        # conv keeps the input (2x4x6 fp32, 192 B); softmax its output, laid out contiguously whatever its
        # input's layout (192 B); flatten is a view of it, which fc keeps again
        (SOFTMAX_THEN_FLATTEN, [192, 0, 192, 0, 0]),
        # conv keeps the input (2x6x4, 192 B); sigmoid of a slice of a permuted map (2x2x6, strides 24, 1, 4)
        # makes a dense tensor in the slice's order (96 B, strides 12, 1, 2): moved back, it is contiguous, and
        # flattening it is a view
        (SLICE_THEN_SIGMOID, [192, 0, 0, 96, 0, 0, 0]),
        # conv_transpose3d keeps its input (216 B); gelu its input, the conv's whole output storage (216 B)
        (TRANSPOSED_3D_THEN_GELU, [216, 216]),
    ],
)
def test_output_layouts_and_storages_as_pytorch_makes_them(text, saved):
    assert [layer.saved_activation_bytes for layer in training(text).layers] == saved


ATTENTION_DROPOUT = """name: attention_dropout
input: {shape: [3, 4], batch: 2}
layers:
  - {name: scale, type: layer_scale, dim: -1}
  - {name: attn, type: attention, heads: 1, dropout: 0.1, need_weights: false}
"""
# one 1x1 map cut into a 1x2 window: padded to 1x2, and the cut (1x1) is contiguous in the padded storage
WINDOW_PADDED_CUT = """name: window_cut
input: {shape: [1, 1, 2]}
layers:
  - {name: attn, type: window_attention, heads: 1, window: [1, 2]}
  - {name: act, type: gelu}
"""


def test_attention_math_path_and_a_padded_window_cut():
    # attention dropout without need_weights: scaled_dot_product_attention's math path. Per (positions, E)
    # tensor 2 x 3 x 4 fp32 = 96 B: the transposed input's copy, Q and Kᵀ each scaled, the heads' output;
    # the packed QKV 288 B (V a view of it); softmax, its noise and the dropped matrix 2 x 3 x 3 x 4 = 72 B each
    assert training(ATTENTION_DROPOUT).layers[1].saved_activation_bytes == 4 * 96 + 288 + 3 * 72
    # gelu keeps the window attention's output, whose storage is the padded map's: 1x1x2x2 fp32 = 16 B
    assert [layer.saved_activation_bytes for layer in training(WINDOW_PADDED_CUT).layers][1] == 16


POOLING_WINDOW_OF_PADDING = """name: padding_window
input: {shape: [3, 1], batch: 2}
layers:
  - {name: conv, type: conv1d, out: 3, kernel: 1}
  - {name: pool, type: maxpool1d, kernel: 2, padding: 1, dilation: 2}
"""


def test_max_pooling_with_a_window_of_padding_only_is_refused_in_training():
    # length 1, padding 1, dilation 2: the one window reads positions -1 and 1, both padding. PyTorch's
    # backward then corrupts memory (the process aborts), so the rules refuse rather than answer.
    with pytest.raises(TrainingRefused, match="spatial axis 0 holds only padding") as refused:
        training(POOLING_WINDOW_OF_PADDING)
    assert refused.value.pytorch_raises is False
    # not tracked (the conv frozen, the input needs no gradient): no backward, no refusal
    frozen = training(POOLING_WINDOW_OF_PADDING.replace("kernel: 1}", "kernel: 1, frozen: true}"))
    assert frozen.totals.saved_activation_bytes == 0


def test_readme_worked_example_resnet50_batch32_adamw_bf16_mixed():
    """The README's worked example, every component exact (the rules are checked against PyTorch at batch 2
    on the zoo; everything here scales with the batch)."""
    run = invoke(
        "analyze", "resnet50", "--batch", "32", "--mode", "train", "--precision", "bf16-mixed", "--format", "json"
    )
    assert run.code == 0, run.stderr
    document = json.loads(run.stdout)
    totals = document["totals"]
    assert document["training_rules"] == "PyTorch 2.13, CPU, bf16-mixed"
    assert totals["precision"] == "bf16-mixed" and totals["optimizer"] == "adamw"
    expected = {
        "param_bytes": 102_228_128,
        "buffer_bytes": 212_480,
        "gradient_bytes": 102_228_128,
        "optimizer_state_bytes": 204_456_256,
        "saved_activation_bytes": 1_400_454_656,
        "saved_weight_copy_bytes": 51_005_824,
        "backward_transient_bytes": 154_140_672,
        "training_peak_bytes": 2_014_726_144,
        "backward_flops": 515_862_691_840,
    }
    assert {key: totals[key] for key in expected} == expected
    assert sum(expected[key] for key in list(expected)[:7]) == totals["training_peak_bytes"]
    # conv and fc weights (all parameters but BatchNorm's and the fc bias), one bf16 copy each
    assert totals["saved_weight_copy_bytes"] == 2 * (25_557_032 - 53_120 - 1000)
    per_layer = sum(layer["saved_weight_copy_bytes"] for layer in document["layers"])
    assert per_layer == totals["saved_weight_copy_bytes"]
    fp32 = json.loads(invoke("analyze", "resnet50", "--batch", "32", "--mode", "train", "-f", "json").stdout)
    assert fp32["totals"]["saved_weight_copy_bytes"] == 0 and fp32["totals"]["precision"] == "fp32"
    assert fp32["totals"]["backward_transient_bytes"] == 2 * totals["backward_transient_bytes"]


def test_python_api_precision():
    mixed = cnncalc.analyze("resnet18", batch=2, mode="train", precision="fp16-mixed")
    assert mixed.training is not None and mixed.training.precision == "fp16-mixed"
    assert mixed.training.saved_weight_copy_bytes == 23_357_824
    assert sum(layer.saved_weight_copy_bytes or 0 for layer in mixed.layers) == 23_357_824
    with pytest.raises(cnncalc.UsageError, match="precision: unknown precision 'bf16'"):
        cnncalc.analyze("resnet18", mode="train", precision="bf16")
    with pytest.raises(cnncalc.UsageError, match="precision applies to a training step"):
        cnncalc.analyze("resnet18", precision="bf16-mixed")
    fitted = cnncalc.fit("resnet50", "24GiB", precision="bf16-mixed")
    assert fitted.answer == 521 and fitted.precision == "bf16-mixed"
