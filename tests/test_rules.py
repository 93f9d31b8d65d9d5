"""Hand-worked cases for every layer kind's engine rule, the receptive field, the totals and memory.

Each expected integer is worked out in the comment beside it. Shapes, parameter counts, buffers and FLOPs
(= 2 x MACs) were cross-checked once against torch 2.13 (torch.nn modules on small inputs,
sum(p.numel()), torch.utils.flop_counter.FlopCounterMode); these tests never import torch.

Convention (cnncalc README): MACs exclude the bias; a transposed conv's MACs are counted on its input grid;
BatchNorm's running mean/var are buffers (num_batches_tracked is not counted); FLOPs = 2 x MACs.
"""

from fractions import Fraction

import pytest
import yaml

from cnncalc.base.errors import SpecError
from cnncalc.base.tensor import AxisField
from cnncalc.engine import analyze_text

# -------------------------------------------------------------------------------------------- helpers


def spec_text(shape, layers, *, batch=1, dtype="float32", blocks=None):
    """A spec with input (channels, *spatial) = shape; batch and dtype in the input section."""
    document = {"input": {"shape": list(shape), "batch": batch, "dtype": dtype}}
    if blocks:
        document["blocks"] = blocks
    document["layers"] = layers
    return yaml.safe_dump(document, sort_keys=False)


def analyze(shape, layers, **options):
    return analyze_text(spec_text(shape, layers, **options))


def by_path(result):
    return {row.path: row for row in result.layers}


def stats(row):
    return row.output_shape, row.params, row.buffers, row.macs


def field(size, jump, padding):
    return AxisField(size, jump, padding)


def square(size, jump, padding):
    return (field(size, jump, padding),) * 2


# ---------------------------------------------------------------------------------- single-layer table
#
# (input shape with batch first, layer, expected output shape, params, buffers, MACs)

CONV_CASES = [
    pytest.param(
        (32, 3, 224, 224), {"type": "conv2d", "out": 64, "kernel": 7, "stride": 2, "padding": 3},
        # (224 + 6 - 7) // 2 + 1 = 112; params 64*3*49 + 64 = 9,472;
        # MACs 32 * 64 * 112*112 * 3*49 = 32 * 64 * 12,544 * 147
        (32, 64, 112, 112), 9_472, 0, 3_776_446_464, id="seed-stem-7x7-s2-p3-batch32",
    ),
    pytest.param(
        (1, 3, 224, 224), {"type": "conv2d", "out": 64, "kernel": 7, "stride": 2, "padding": 3, "bias": False},
        # 64*3*49 = 9,408; MACs 64 * 12,544 * 147
        (1, 64, 112, 112), 9_408, 0, 118_013_952, id="stem-no-bias",
    ),
    pytest.param(
        (1, 32, 64, 64), {"type": "conv2d", "out": 64, "kernel": 3, "padding": 1},
        # 64*32*9 + 64 = 18,496; MACs 64*64 * 9*32*64 = 75,497,472 (FLOPs 150,994,944)
        (1, 64, 64, 64), 18_496, 0, 75_497_472, id="seed-3x3-32to64-at-64",
    ),
    pytest.param(
        (2, 4, 50), {"type": "conv1d", "out": 6, "kernel": 5, "stride": 3, "padding": 2, "dilation": 2},
        # k_eff 9: (50 + 4 - 9) // 3 + 1 = 16; 6*4*5 + 6 = 126; MACs 2 * 6 * 16 * 20 = 3,840
        (2, 6, 16), 126, 0, 3_840, id="conv1d-stride-dilation",
    ),
    pytest.param(
        (2, 3, 17, 20),
        {"type": "conv2d", "out": 8, "kernel": [3, 5], "stride": [2, 1], "padding": [1, 2], "dilation": [1, 2]},
        # H: (17 + 2 - 3) // 2 + 1 = 9; W: k_eff 9, (20 + 4 - 9) + 1 = 16
        # params 8*3*15 + 8 = 368; MACs 2 * 8 * 9*16 * 45 = 103,680
        (2, 8, 9, 16), 368, 0, 103_680, id="conv2d-per-axis",
    ),
    pytest.param(
        (2, 2, 9, 10, 11), {"type": "conv3d", "out": 4, "kernel": [3, 1, 2], "stride": [1, 2, 3], "padding": [1, 0, 1]},
        # D (9 + 2 - 3) + 1 = 9; H (10 - 1) // 2 + 1 = 5; W (11 + 2 - 2) // 3 + 1 = 4
        # params 4*2*6 + 4 = 52; MACs 2 * 4 * 180 * 12 = 17,280
        (2, 4, 9, 5, 4), 52, 0, 17_280, id="conv3d-per-axis",
    ),
    pytest.param(
        (1, 3, 10, 10), {"type": "conv2d", "out": 5, "kernel": 3, "stride": 2, "padding": [[1, 2], [0, 1]]},
        # H: (10 + 1 + 2 - 3) // 2 + 1 = 6; W: (10 + 0 + 1 - 3) // 2 + 1 = 5; 5*27 + 5 = 140; MACs 5*30*27
        (1, 5, 6, 5), 140, 0, 4_050, id="conv2d-per-side-pairs",
    ),
    pytest.param(
        (1, 3, 11, 11), {"type": "conv2d", "out": 5, "kernel": 4, "padding": "same"},
        # stride 1 'same' = PyTorch: total 3 -> (1, 2); size kept; 5*3*16 + 5 = 245; MACs 5*121*48
        (1, 5, 11, 11), 245, 0, 29_040, id="same-stride1-even-kernel",
    ),
    pytest.param(
        (1, 3, 11, 11), {"type": "conv2d", "out": 5, "kernel": 3, "dilation": 2, "padding": "same"},
        # k_eff 5: total 4 -> (2, 2); 5*27 + 5 = 140; MACs 5*121*27
        (1, 5, 11, 11), 140, 0, 16_335, id="same-stride1-dilated",
    ),
    pytest.param(
        (1, 3, 224, 224), {"type": "conv2d", "out": 8, "kernel": 3, "stride": 2, "padding": "same"},
        # TF SAME: ceil(224/2) = 112 (pads (0, 1)); 8*27 + 8 = 224; MACs 8 * 12,544 * 27
        (1, 8, 112, 112), 224, 0, 2_709_504, id="same-stride2-tf-even-input",
    ),
    pytest.param(
        (1, 3, 225, 225), {"type": "conv2d", "out": 8, "kernel": 3, "stride": 2, "padding": "same"},
        # TF SAME: ceil(225/2) = 113 (pads (1, 1)); MACs 8 * 12,769 * 27
        (1, 8, 113, 113), 224, 0, 2_758_104, id="same-stride2-tf-odd-input",
    ),
    pytest.param(
        (1, 2, 7), {"type": "conv1d", "out": 3, "kernel": 4, "stride": 2, "padding": "same"},
        # TF SAME: ceil(7/2) = 4, total 3*2 + 4 - 7 = 3 -> (1, 2); 3*2*4 + 3 = 27; MACs 3*4*8
        (1, 3, 4), 27, 0, 96, id="same-stride2-tf-even-kernel",
    ),
    pytest.param(
        (1, 3, 10, 12), {"type": "conv2d", "out": 8, "kernel": 3, "stride": 2, "padding": "valid"},
        # (10 - 3) // 2 + 1 = 4; (12 - 3) // 2 + 1 = 5; MACs 8 * 20 * 27
        (1, 8, 4, 5), 224, 0, 4_320, id="valid",
    ),
    pytest.param(
        (2, 8, 10, 10), {"type": "conv2d", "out": 12, "kernel": 3, "padding": 1, "groups": 4, "bias": False},
        # 8/4 = 2 inputs per output: 12*2*9 = 216; MACs 2 * 12 * 100 * 18 = 43,200
        (2, 12, 10, 10), 216, 0, 43_200, id="groups-no-bias",
    ),
    pytest.param(
        (1, 4, 20), {"type": "conv", "out": 3, "kernel": 3},
        # rank from the input: 1-d; 18 outputs; 3*4*3 + 3 = 39; MACs 3*18*12
        (1, 3, 18), 39, 0, 648, id="conv-generic-1d",
    ),
    pytest.param(
        (1, 2, 6, 6, 6), {"type": "conv", "out": 3, "kernel": 3, "padding": "same"},
        # 3-d, size kept; 3*2*27 + 3 = 165; MACs 3 * 216 * 54
        (1, 3, 6, 6, 6), 165, 0, 34_992, id="conv-generic-3d-same",
    ),
    pytest.param(
        (1, 3, 8, 8), {"type": "conv2d", "out": 4, "kernel": 3, "padding": 1, "padding_mode": "reflect"},
        # padding mode changes values, not counts: 4*27 + 4 = 112; MACs 4*64*27
        (1, 4, 8, 8), 112, 0, 6_912, id="reflect-padding",
    ),
    pytest.param(
        (1, 6, 15, 15), {"type": "depthwise", "kernel": 3, "stride": 2, "padding": 1, "multiplier": 2},
        # groups = 6, out = 12: (15 + 2 - 3) // 2 + 1 = 8; 12*1*9 + 12 = 120; MACs 12 * 64 * 9
        (1, 12, 8, 8), 120, 0, 6_912, id="depthwise-multiplier-2",
    ),
    pytest.param(
        (1, 6, 15, 15), {"type": "depthwise", "kernel": 5, "padding": 2, "bias": False},
        # 6 * 25 = 150; MACs 6 * 225 * 25
        (1, 6, 15, 15), 150, 0, 33_750, id="depthwise-no-bias",
    ),
    pytest.param(
        (2, 16, 7, 7), {"type": "pointwise", "out": 32},
        # 16*32 + 32 = 544; MACs 2 * 32 * 49 * 16
        (2, 32, 7, 7), 544, 0, 50_176, id="pointwise",
    ),
    pytest.param(
        (1, 8, 9, 9), {"type": "pointwise", "out": 4, "stride": 2, "groups": 2},
        # (9 - 1) // 2 + 1 = 5; 4 * (8/2) + 4 = 20; MACs 4 * 25 * 4
        (1, 4, 5, 5), 20, 0, 400, id="pointwise-strided-grouped",
    ),
    pytest.param(
        (2, 4, 7, 7),
        {"type": "conv_transpose2d", "out": 3, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1},
        # (7 - 1)*2 - 2 + 2 + 1 + 1 = 14; params 4*3*9 + 3 = 111; MACs on the input grid 2 * 4*49 * 3*9
        (2, 3, 14, 14), 111, 0, 10_584, id="conv-transpose2d-output-padding",
    ),
    pytest.param(
        (1, 4, 7, 9),
        {"type": "conv_transpose2d", "out": 6, "kernel": [3, 2], "stride": [2, 3], "padding": [1, 0],
         "output_padding": [1, 2], "dilation": [2, 1], "groups": 2},
        # H: 6*2 - 2 + 2*2 + 1 + 1 = 16; W: 8*3 - 0 + 1 + 2 + 1 = 28
        # params 4 * (6/2) * 6 + 6 = 78; MACs 4 * 63 * 3 * 6 = 4,536
        (1, 6, 16, 28), 78, 0, 4_536, id="conv-transpose2d-dilated-grouped",
    ),
    pytest.param(
        (1, 4, 10), {"type": "conv_transpose1d", "out": 2, "kernel": 4, "stride": 2, "padding": 1, "bias": False},
        # 9*2 - 2 + 3 + 1 = 20; 4*2*4 = 32; MACs 4 * 10 * 8
        (1, 2, 20), 32, 0, 320, id="conv-transpose1d",
    ),
    pytest.param(
        (1, 2, 3, 4, 5), {"type": "conv_transpose3d", "out": 3, "kernel": 2, "stride": 2},
        # doubles every axis; 2*3*8 + 3 = 51; MACs 2 * 60 * 24
        (1, 3, 6, 8, 10), 51, 0, 2_880, id="conv-transpose3d",
    ),
    pytest.param(
        (1, 4, 5, 5), {"type": "conv_transpose", "out": 3, "kernel": 3, "dilation": 3, "output_padding": 2},
        # output_padding 2 < dilation 3 is allowed: 4 + 3*2 + 2 + 1 = 13; MACs 4 * 25 * 27
        (1, 3, 13, 13), 111, 0, 2_700, id="conv-transpose-output-padding-below-dilation",
    ),
]

POOL_CASES = [
    pytest.param((2, 256, 56, 56), {"type": "maxpool", "kernel": 2}, (2, 256, 28, 28), 0, 0, 0, id="seed-maxpool-2x2"),
    pytest.param(
        (1, 64, 112, 112), {"type": "maxpool2d", "kernel": 3, "stride": 2, "padding": 1},
        (1, 64, 56, 56), 0, 0, 0, id="resnet-stem-pool",
    ),
    # ceil((5 - 2) / 2) + 1 = 3 (floor: 2)
    pytest.param((1, 2, 5), {"type": "maxpool1d", "kernel": 2, "stride": 2, "ceil_mode": True}, (1, 2, 3), 0, 0, 0,
                 id="ceil-5-k2-s2"),
    pytest.param((1, 2, 5), {"type": "maxpool1d", "kernel": 2, "stride": 2}, (1, 2, 2), 0, 0, 0, id="floor-5-k2-s2"),
    # ceil((3 + 2 - 2) / 2) + 1 = 3, but window 2 starts at 4 >= 3 + 1 (right padding only): dropped -> 2
    pytest.param((1, 2, 3), {"type": "maxpool1d", "kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True},
                 (1, 2, 2), 0, 0, 0, id="ceil-correction-max"),
    pytest.param((1, 2, 3), {"type": "avgpool1d", "kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True},
                 (1, 2, 2), 0, 0, 0, id="ceil-correction-avg"),
    # ceil((5 - 1) / 3) + 1 = 3, window 2 starts at 6 >= 5: dropped -> 2
    pytest.param((1, 2, 5), {"type": "maxpool1d", "kernel": 1, "stride": 3, "ceil_mode": True}, (1, 2, 2), 0, 0, 0,
                 id="ceil-correction-no-padding"),
    # ceil((6 + 2 - 3) / 2) + 1 = 4, last start 6 < 7: kept
    pytest.param((1, 2, 6), {"type": "maxpool1d", "kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True},
                 (1, 2, 4), 0, 0, 0, id="ceil-no-correction"),
    # GoogLeNet: ceil(109 / 2) + 1 = 56
    pytest.param((1, 2, 112), {"type": "maxpool1d", "kernel": 3, "stride": 2, "ceil_mode": True}, (1, 2, 56), 0, 0, 0,
                 id="ceil-googlenet"),
    # k_eff 5: ceil((20 + 2 - 5) / 2) + 1 = 10
    pytest.param((1, 2, 20),
                 {"type": "maxpool1d", "kernel": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
                 (1, 2, 10), 0, 0, 0, id="maxpool-dilated-ceil"),
    # stride defaults to the kernel: floor((7 - 3) / 3) + 1 = 2; with ceil 3
    pytest.param((1, 2, 7), {"type": "maxpool1d", "kernel": 3}, (1, 2, 2), 0, 0, 0, id="stride-defaults-to-kernel"),
    pytest.param((1, 2, 7), {"type": "avgpool1d", "kernel": 3, "ceil_mode": True}, (1, 2, 3), 0, 0, 0,
                 id="avg-stride-default-ceil"),
    # H: ceil((13 + 2 - 3) / 2) + 1 = 7; W: ceil((10 - 2) / 3) + 1 = 4
    pytest.param((1, 3, 13, 10),
                 {"type": "avgpool2d", "kernel": [3, 2], "stride": [2, 3], "padding": [1, 0], "ceil_mode": True},
                 (1, 3, 7, 4), 0, 0, 0, id="avgpool2d-per-axis-ceil"),
    # D (7 - 2) + 1 = 6; H (8 - 2) // 2 + 1 = 4; W (9 - 2) // 2 + 1 = 4
    pytest.param((1, 2, 7, 8, 9), {"type": "maxpool3d", "kernel": 2, "stride": [1, 2, 2]}, (1, 2, 6, 4, 4), 0, 0, 0,
                 id="maxpool3d"),
    pytest.param((1, 2048, 7, 7), {"type": "adaptive_avgpool2d", "output_size": 1}, (1, 2048, 1, 1), 0, 0, 0,
                 id="adaptive-to-1"),
    pytest.param((1, 8, 14, 14), {"type": "adaptive_avgpool2d", "output_size": 7}, (1, 8, 7, 7), 0, 0, 0,
                 id="adaptive-divisible"),
    pytest.param((1, 8, 10, 10), {"type": "adaptive_avgpool2d", "output_size": [3, None]}, (1, 8, 3, 10), 0, 0, 0,
                 id="adaptive-not-divisible-keep-axis"),
    pytest.param((1, 8, 10), {"type": "adaptive_maxpool1d", "output_size": 4}, (1, 8, 4), 0, 0, 0,
                 id="adaptive-max-1d"),
    pytest.param((1, 2, 5, 6, 7), {"type": "adaptive_maxpool3d", "output_size": [2, 3, 4]}, (1, 2, 2, 3, 4), 0, 0, 0,
                 id="adaptive-max-3d"),
    pytest.param((1, 2, 3, 3), {"type": "adaptive_avgpool", "output_size": 5}, (1, 2, 5, 5), 0, 0, 0,
                 id="adaptive-larger-than-input"),
    pytest.param((2, 16, 7, 7), {"type": "global_avgpool"}, (2, 16), 0, 0, 0, id="global-avg"),
    pytest.param((2, 16, 7, 9), {"type": "global_maxpool", "keepdim": True}, (2, 16, 1, 1), 0, 0, 0,
                 id="global-max-keepdim"),
]

DENSE_CASES = [
    # linear on the last axis of a (B, N, D) input: (2, 5, 8) -> (2, 5, 6); 8*6 + 6 = 54; MACs 2*5*6*8
    pytest.param((2, 5, 8), {"type": "linear", "out": 6}, (2, 5, 6), 54, 0, 480, id="linear-on-tokens"),
    pytest.param((2, 5, 8), {"type": "linear", "out": 6, "bias": False}, (2, 5, 6), 48, 0, 480, id="linear-no-bias"),
    pytest.param((2, 3, 4, 5, 6), {"type": "flatten", "start_dim": 2, "end_dim": 3}, (2, 3, 20, 6), 0, 0, 0,
                 id="flatten-middle"),
    pytest.param((2, 3, 4, 5), {"type": "flatten"}, (2, 60), 0, 0, 0, id="flatten-default"),
    # 12*4*4 = 192 per sample; 192 / (3*8) = 8
    pytest.param((2, 12, 4, 4), {"type": "reshape", "shape": [3, -1, 8]}, (2, 3, 8, 8), 0, 0, 0, id="reshape"),
    pytest.param((2, 3, 4, 5), {"type": "permute", "dims": [0, 2, 3, 1]}, (2, 4, 5, 3), 0, 0, 0, id="permute"),
    pytest.param((2, 3, 4, 5), {"type": "transpose", "dim0": 1, "dim1": 3}, (2, 5, 4, 3), 0, 0, 0, id="transpose"),
    pytest.param((2, 3, 4, 5), {"type": "transpose", "dim0": -1, "dim1": -2}, (2, 3, 5, 4), 0, 0, 0,
                 id="transpose-from-the-end"),
]

NORM_CASES = [
    # BatchNorm: weight + bias = 2C parameters; running mean + var = 2C buffers
    pytest.param((2, 16, 5, 5), {"type": "batchnorm"}, (2, 16, 5, 5), 32, 32, 0, id="batchnorm"),
    pytest.param((2, 16, 5, 5), {"type": "batchnorm2d"}, (2, 16, 5, 5), 32, 32, 0, id="batchnorm2d"),
    pytest.param((2, 16, 10), {"type": "batchnorm1d"}, (2, 16, 10), 32, 32, 0, id="batchnorm1d-on-BCL"),
    pytest.param((2, 4, 3, 3, 3), {"type": "batchnorm3d", "affine": False}, (2, 4, 3, 3, 3), 0, 8, 0,
                 id="batchnorm3d-no-affine"),
    pytest.param((2, 4, 3, 3), {"type": "batchnorm", "track_running_stats": False}, (2, 4, 3, 3), 8, 0, 0,
                 id="batchnorm-no-running-stats"),
    # LayerNorm over the last axis: 2 * 6
    pytest.param((2, 12, 5, 6), {"type": "layernorm"}, (2, 12, 5, 6), 12, 0, 0, id="layernorm-last-axis"),
    pytest.param((2, 4, 10), {"type": "layernorm"}, (2, 4, 10), 20, 0, 0, id="layernorm-tokens"),
    # last 2 axes, weight only: 4*10
    pytest.param((2, 4, 10), {"type": "layernorm", "dims": 2, "bias": False}, (2, 4, 10), 40, 0, 0,
                 id="layernorm-two-axes-no-bias"),
    pytest.param((2, 12, 5, 5), {"type": "layernorm", "channels_first": True}, (2, 12, 5, 5), 24, 0, 0,
                 id="layernorm-channels-first"),
    pytest.param((2, 12, 5, 5), {"type": "layernorm", "channels_first": True, "elementwise_affine": False},
                 (2, 12, 5, 5), 0, 0, 0, id="layernorm-no-affine"),
    pytest.param((2, 12, 5, 5), {"type": "groupnorm", "groups": 4}, (2, 12, 5, 5), 24, 0, 0, id="groupnorm"),
    pytest.param((2, 12, 5, 5), {"type": "groupnorm", "groups": 3, "affine": False}, (2, 12, 5, 5), 0, 0, 0,
                 id="groupnorm-no-affine"),
    pytest.param((2, 12, 5, 5), {"type": "instancenorm"}, (2, 12, 5, 5), 0, 0, 0, id="instancenorm-default"),
    pytest.param((2, 12, 5, 5), {"type": "instancenorm", "affine": True, "track_running_stats": True},
                 (2, 12, 5, 5), 24, 24, 0, id="instancenorm-affine-stats"),
    pytest.param((2, 12, 5, 5), {"type": "prelu"}, (2, 12, 5, 5), 1, 0, 0, id="prelu-shared"),
    pytest.param((2, 12, 5, 5), {"type": "prelu", "per_channel": True}, (2, 12, 5, 5), 12, 0, 0,
                 id="prelu-per-channel"),
    pytest.param((2, 12, 4, 4), {"type": "layer_scale"}, (2, 12, 4, 4), 12, 0, 0, id="layer-scale"),
]

RESAMPLE_CASES = [
    pytest.param((2, 3, 4, 5), {"type": "upsample", "scale": 2}, (2, 3, 8, 10), 0, 0, 0, id="upsample-nearest-2x"),
    pytest.param((2, 3, 4, 5), {"type": "upsample", "size": [7, 9], "mode": "bilinear", "align_corners": True},
                 (2, 3, 7, 9), 0, 0, 0, id="upsample-bilinear-size"),
    # floor(4 * 1.5) = 6, floor(5 * 1.5) = 7
    pytest.param((2, 3, 4, 5), {"type": "upsample", "scale": 1.5, "mode": "bilinear"}, (2, 3, 6, 7), 0, 0, 0,
                 id="upsample-bilinear-scale-1.5"),
    pytest.param((2, 3, 4, 5), {"type": "upsample", "scale": [2, 3]}, (2, 3, 8, 15), 0, 0, 0,
                 id="upsample-per-axis-scale"),
    pytest.param((1, 3, 4, 5, 6), {"type": "upsample", "scale": 2, "mode": "trilinear"}, (1, 3, 8, 10, 12), 0, 0, 0,
                 id="upsample-trilinear"),
    pytest.param((1, 3, 7), {"type": "upsample", "size": 11, "mode": "linear"}, (1, 3, 11), 0, 0, 0,
                 id="upsample-linear-size"),
    pytest.param((1, 3, 10, 10), {"type": "upsample", "scale": 0.5}, (1, 3, 5, 5), 0, 0, 0, id="upsample-downscale"),
    # (B, C r^2, H, W) -> (B, C, H r, W r): 18 / 9 = 2
    pytest.param((2, 18, 4, 5), {"type": "pixel_shuffle", "factor": 3}, (2, 2, 12, 15), 0, 0, 0, id="pixel-shuffle"),
    pytest.param((2, 2, 6, 9), {"type": "pixel_unshuffle", "factor": 3}, (2, 18, 2, 3), 0, 0, 0,
                 id="pixel-unshuffle"),
    pytest.param((2, 12, 4, 4), {"type": "channel_shuffle", "groups": 3}, (2, 12, 4, 4), 0, 0, 0,
                 id="channel-shuffle"),
    pytest.param((2, 12, 4, 4), {"type": "channel_split", "parts": 2, "take": 1}, (2, 6, 4, 4), 0, 0, 0,
                 id="channel-split-parts"),
    pytest.param((2, 12, 4, 4), {"type": "channel_split", "sizes": [5, 7], "take": 1}, (2, 7, 4, 4), 0, 0, 0,
                 id="channel-split-sizes"),
    pytest.param((2, 12, 4, 4), {"type": "channel_split", "sizes": [5, 7]}, (2, 5, 4, 4), 0, 0, 0,
                 id="channel-split-take-default"),
]

SHAPE_PRESERVING = [
    "relu", "relu6", "leaky_relu", "elu", "gelu", "silu", "mish", "sigmoid", "hardsigmoid", "hardswish",
    "hardtanh", "tanh", "softmax", "dropout", "identity",
]
ACTIVATION_CASES = [
    pytest.param((2, 3, 4, 5), {"type": kind}, (2, 3, 4, 5), 0, 0, 0, id=kind) for kind in SHAPE_PRESERVING
] + [
    pytest.param((2, 3, 4, 5), {"type": "dropout", "p": 0.3}, (2, 3, 4, 5), 0, 0, 0, id="dropout-p"),
    pytest.param((2, 3, 4, 5), {"type": "stochastic_depth", "p": 0.1}, (2, 3, 4, 5), 0, 0, 0, id="stochastic-depth"),
    pytest.param((2, 3, 4, 5), {"type": "gelu", "approximate": "tanh"}, (2, 3, 4, 5), 0, 0, 0, id="gelu-tanh"),
    pytest.param((2, 3, 4, 5), {"type": "softmax", "dim": -1}, (2, 3, 4, 5), 0, 0, 0, id="softmax-last"),
]

TRANSFORMER_CASES = [
    # 16/4 = 4 -> N = 16 tokens; params 24 * 3*16 + 24 = 1,176; MACs 2 * 16 * 24 * 48 = 36,864
    pytest.param((2, 3, 16, 16), {"type": "patch_embed", "patch": 4, "dim": 24}, (2, 16, 24), 1_176, 0, 36_864,
                 id="patch-embed"),
    pytest.param((2, 3, 16, 16), {"type": "patch_embed", "patch": 4, "dim": 24, "bias": False}, (2, 16, 24), 1_152, 0,
                 36_864, id="patch-embed-no-bias"),
    # per-axis patch: 16/4 * 12/3 = 16 tokens; 10 * 3*12 + 10 = 370; MACs 16 * 10 * 36
    pytest.param((1, 3, 16, 12), {"type": "patch_embed", "patch": [4, 3], "dim": 10}, (1, 16, 10), 370, 0, 5_760,
                 id="patch-embed-per-axis"),
]

ALL_SINGLE = CONV_CASES + POOL_CASES + DENSE_CASES + NORM_CASES + RESAMPLE_CASES + ACTIVATION_CASES + TRANSFORMER_CASES


@pytest.mark.parametrize(("shape", "layer", "out_shape", "params", "buffers", "macs"), ALL_SINGLE)
def test_single_layer(shape, layer, out_shape, params, buffers, macs):
    batch, *sample = shape
    result = analyze(sample, [layer], batch=batch)
    assert len(result.layers) == 1
    row = result.layers[0]
    assert row.kind == layer["type"]
    assert stats(row) == (out_shape, params, buffers, macs)
    assert row.flops == 2 * macs
    assert result.output_shape == out_shape
    assert (result.totals.params, result.totals.buffers, result.totals.macs) == (params, buffers, macs)


# ---------------------------------------------------------------------------------------- convolutions


def test_seed_3x3_conv_flops_and_batch_scaling():
    layer = {"type": "conv2d", "out": 64, "kernel": 3, "padding": 1}
    one = analyze([32, 64, 64], [layer])
    ten = analyze([32, 64, 64], [layer], batch=10)
    # 2 * 64*64 * 9*32 * 64 = 150,994,944 FLOPs for one image; ten images: 1,509,949,440
    assert one.totals.flops == 2 * 64 * 64 * 9 * 32 * 64 == 150_994_944
    assert ten.totals.flops == 1_509_949_440
    assert ten.layers[0].output_shape == (10, 64, 64, 64)
    assert one.totals.params == ten.totals.params == 18_496


def test_separable_is_two_rows():
    result = analyze([8, 16, 16], [{"name": "sep", "type": "separable", "out": 16, "kernel": 3, "stride": 2,
                                    "padding": 1}], batch=2)
    rows = by_path(result)
    assert list(rows) == ["sep.depthwise", "sep.pointwise"]
    # depthwise 3x3 s2 on 8 channels: 16 -> 8; 8*9 + 8 = 80; MACs 2 * 8 * 64 * 9 = 9,216
    assert stats(rows["sep.depthwise"]) == ((2, 8, 8, 8), 80, 0, 9_216)
    assert rows["sep.depthwise"].kind == "depthwise"
    # pointwise 8 -> 16: 8*16 + 16 = 144; MACs 2 * 16 * 64 * 8 = 16,384
    assert stats(rows["sep.pointwise"]) == ((2, 16, 8, 8), 144, 0, 16_384)
    assert rows["sep.pointwise"].kind == "pointwise"
    assert result.totals.params == 224
    assert result.totals.macs == 25_600


def test_separable_multiplier_no_bias():
    result = analyze([4, 16, 16], [{"name": "sep", "type": "separable", "out": 10, "kernel": 3, "padding": 1,
                                    "multiplier": 2, "bias": False}])
    rows = by_path(result)
    # depthwise 4 -> 8 channels: 8 * 9 = 72; MACs 8 * 256 * 9 = 18,432
    assert stats(rows["sep.depthwise"]) == ((1, 8, 16, 16), 72, 0, 18_432)
    # pointwise 8 -> 10: 80; MACs 10 * 256 * 8 = 20,480
    assert stats(rows["sep.pointwise"]) == ((1, 10, 16, 16), 80, 0, 20_480)


def test_conv_errors():
    # groups must divide the channels; an empty output is refused
    with pytest.raises(SpecError, match="does not divide"):
        analyze([6, 8, 8], [{"type": "conv2d", "out": 4, "kernel": 3, "groups": 4}])
    with pytest.raises(SpecError, match="effective kernel"):
        analyze([3, 4, 4], [{"type": "conv2d", "out": 4, "kernel": 3, "dilation": 2}])
    with pytest.raises(SpecError, match="smaller than the stride"):
        analyze([3, 4, 4], [{"type": "conv_transpose2d", "out": 4, "kernel": 3, "stride": 2, "output_padding": 2}])
    # reflect padding must be smaller than the input (PyTorch refuses padding 3 on a 3-wide input)
    with pytest.raises(SpecError, match="reflect"):
        analyze([3, 3, 3], [{"type": "conv2d", "out": 4, "kernel": 3, "padding": 3, "padding_mode": "reflect"}])


def test_circular_padding_larger_than_input_is_refused():
    with pytest.raises(SpecError, match=r"0 \(conv2d\): circular padding 4 on axis 0 is too large for an input of 3"):
        analyze([3, 3, 3], [{"type": "conv2d", "out": 4, "kernel": 3, "padding": 4, "padding_mode": "circular"}])


# ---------------------------------------------------------------------------------------------- pooling


def test_pool_padding_more_than_half_kernel_is_refused():
    with pytest.raises(SpecError, match="half the kernel"):
        analyze([2, 20], [{"type": "avgpool1d", "kernel": 3, "padding": 2}])
    with pytest.raises(SpecError, match="half the kernel"):
        analyze([2, 20], [{"type": "maxpool1d", "kernel": 3, "padding": 2}])


def test_maxpool_padding_limit_ignores_dilation():
    # the limit is half the kernel (3), not half the dilated span (5)
    with pytest.raises(SpecError, match=r"0 \(maxpool1d\): padding 2 on axis 0 is more than half the kernel \(3\)"):
        analyze([2, 20], [{"type": "maxpool1d", "kernel": 3, "dilation": 2, "padding": 2}])


def test_softmax_dim_out_of_range_is_refused():
    with pytest.raises(SpecError, match=r"0 \(softmax\): dim 4 is out of range for a tensor of rank 4"):
        analyze([3, 4, 5], [{"type": "softmax", "dim": 4}])


# ---------------------------------------------------------------------------------------------- linear


def test_seed_gap_fc_head():
    result = analyze([2048, 7, 7], [
        {"name": "avgpool", "type": "adaptive_avgpool2d", "output_size": 1},
        {"name": "flatten", "type": "flatten"},
        {"name": "fc", "type": "linear", "out": 1000},
    ])
    rows = by_path(result)
    assert rows["avgpool"].output_shape == (1, 2048, 1, 1)
    assert rows["flatten"].output_shape == (1, 2048)
    # 2048 * 1000 + 1000 = 2,049,000; MACs 2,048,000
    assert stats(rows["fc"]) == ((1, 1000), 2_049_000, 0, 2_048_000)
    assert result.totals.params == 2_049_000


def test_linear_on_batch_features_scales_with_batch():
    # global_avgpool gives (B, F); linear 16 -> 10: 170 params, MACs B * 10 * 16
    layers = [{"type": "global_avgpool"}, {"name": "fc", "type": "linear", "out": 10}]
    for batch in (1, 8):
        rows = by_path(analyze([16, 7, 7], layers, batch=batch))
        assert stats(rows["fc"]) == ((batch, 10), 170, 0, batch * 160)


def test_linear_after_flatten_no_bias():
    result = analyze([3, 5, 8], [{"type": "flatten"}, {"name": "fc", "type": "linear", "out": 7, "bias": False}],
                     batch=2)
    # 120 * 7 = 840; MACs 2 * 7 * 120
    assert stats(by_path(result)["fc"]) == ((2, 7), 840, 0, 1_680)


def test_reshape_errors():
    with pytest.raises(SpecError, match="elements per sample"):
        analyze([12, 4, 4], [{"type": "reshape", "shape": [5, -1]}])
    with pytest.raises(SpecError, match="permutation"):
        analyze([3, 4, 5], [{"type": "permute", "dims": [0, 1, 1, 2]}])
    with pytest.raises(SpecError, match=r"transpose must keep the batch axis first \(neither dim0 nor dim1 is 0\)"):
        analyze([3, 4, 5], [{"type": "transpose", "dim0": 0, "dim1": 2}])
    with pytest.raises(SpecError, match="dim1 4 is out of range for a tensor of rank 4"):
        analyze([3, 4, 5], [{"type": "transpose", "dim0": 1, "dim1": 4}])


def test_transpose_moves_the_channel_axis_with_it():
    # (1, 3, 4, 5) with channels on axis 1: swapping axes 1 and 3 puts them last, where a linear layer reads
    result = analyze([3, 4, 5], [{"type": "transpose", "dim0": 1, "dim1": 3}, {"type": "linear", "out": 7}])
    assert [row.channel_axis for row in result.layers] == [3, 3]
    assert result.layers[1].output_shape == (1, 5, 4, 7) and result.layers[1].params == 3 * 7 + 7


def test_batchnorm1d_on_batch_features():
    rows = by_path(analyze([16, 5, 5], [{"type": "global_avgpool"}, {"name": "bn", "type": "batchnorm1d"}], batch=2))
    assert stats(rows["bn"]) == ((2, 16), 32, 32, 0)


# ---------------------------------------------------------------------------------------------- merges


def test_add_residual():
    result = analyze([4, 8, 8], [
        {"name": "conv", "type": "conv2d", "out": 4, "kernel": 3, "padding": 1},
        {"name": "add", "type": "add", "from": ["conv", "input"]},
    ])
    assert stats(by_path(result)["add"]) == ((1, 4, 8, 8), 0, 0, 0)


def test_multiply_broadcasts_se_gate():
    # squeeze-and-excitation: (B, 8, 6, 6) * (B, 8, 1, 1)
    result = analyze([8, 6, 6], [
        {"name": "conv", "type": "conv2d", "out": 8, "kernel": 3, "padding": 1},
        {"name": "squeeze", "type": "global_avgpool", "keepdim": True},
        {"name": "fc1", "type": "conv2d", "out": 2, "kernel": 1},
        {"type": "relu"},
        {"name": "fc2", "type": "conv2d", "out": 8, "kernel": 1},
        {"name": "gate", "type": "sigmoid"},
        {"name": "scale", "type": "multiply", "from": ["conv", "gate"]},
    ], batch=2)
    rows = by_path(result)
    assert rows["squeeze"].output_shape == (2, 8, 1, 1)
    assert stats(rows["scale"]) == ((2, 8, 6, 6), 0, 0, 0)
    # conv 8*8*9 + 8 = 584, fc1 8*2 + 2 = 18, fc2 2*8 + 8 = 24
    assert result.totals.params == 626
    # conv 2*8*36*72 = 41,472; fc1 2*2*8 = 32; fc2 2*8*2 = 32
    assert result.totals.macs == 41_536
    # the gate is global context: the product keeps the conv's field
    assert rows["scale"].field == square(3, 1, 1)
    assert rows["scale"].global_field is False
    assert not result.warnings


def test_concat_channels():
    result = analyze([4, 6, 6], [
        {"name": "a", "type": "conv2d", "out": 3, "kernel": 1},
        {"name": "b", "type": "conv2d", "out": 5, "kernel": 3, "padding": 1, "from": "input"},
        {"name": "cat", "type": "concat", "from": ["a", "b", "input"]},
    ], batch=2)
    # 3 + 5 + 4 = 12 channels; params 4*3 + 3 + 4*5*9 + 5 = 15 + 185
    assert by_path(result)["cat"].output_shape == (2, 12, 6, 6)
    assert result.totals.params == 200
    # MACs 2*3*36*4 + 2*5*36*36 = 864 + 12,960
    assert result.totals.macs == 13_824


def test_concat_other_axis():
    result = analyze([4, 6, 6], [
        {"name": "a", "type": "identity"},
        {"name": "b", "type": "adaptive_avgpool2d", "output_size": [2, None], "from": "input"},
        {"name": "cat", "type": "concat", "dim": 2, "from": ["a", "b"]},
    ], batch=2)
    assert by_path(result)["cat"].output_shape == (2, 4, 8, 6)


def test_add_broadcast_of_channels_vector():
    # (B, C, H, W) + (B, C) broadcasts only if trailing axes line up; (B, C, 1, 1) does
    result = analyze([6, 4, 4], [
        {"name": "g", "type": "global_maxpool", "keepdim": True},
        {"name": "sum", "type": "add", "from": ["input", "g"]},
    ])
    assert by_path(result)["sum"].output_shape == (1, 6, 4, 4)


def test_merge_shape_mismatch_is_an_error():
    with pytest.raises(SpecError, match="do not match"):
        analyze([4, 8, 8], [
            {"name": "a", "type": "conv2d", "out": 8, "kernel": 1},
            {"name": "add", "type": "add", "from": ["a", "input"]},
        ])


def test_add_broadcasts_both_ways():
    result = analyze([2, 5, 7], [
        {"name": "rows", "type": "adaptive_avgpool2d", "output_size": [None, 1]},
        {"name": "cols", "type": "adaptive_avgpool2d", "output_size": [1, None], "from": "input"},
        {"name": "sum", "type": "add", "from": ["rows", "cols"]},
    ])
    assert by_path(result)["sum"].output_shape == (1, 2, 5, 7)


# --------------------------------------------------------------------------------------- vision transformer

VIT_LAYERS = [
    {"name": "patch", "type": "patch_embed", "patch": 4, "dim": 24},
    {"name": "cls", "type": "class_token"},
    {"name": "pos", "type": "pos_embed"},
    {"name": "norm", "type": "layernorm"},
    {"name": "attn", "type": "attention", "heads": 3},
    {"name": "res1", "type": "add", "from": ["pos", "attn"]},
    {"name": "mlp", "type": "mlp", "hidden": 48},
    {"name": "res2", "type": "add", "from": ["res1", "mlp"]},
    {"name": "take", "type": "take_token"},
    {"name": "head", "type": "linear", "out": 10},
]


def test_vit_rows():
    # B = 2, D = 24, N = 16 patches + 1 class token = 17
    rows = by_path(analyze([3, 16, 16], VIT_LAYERS, batch=2))
    assert stats(rows["patch"]) == ((2, 16, 24), 1_176, 0, 36_864)
    assert stats(rows["cls"]) == ((2, 17, 24), 24, 0, 0)  # D parameters, N -> N + 1
    assert stats(rows["pos"]) == ((2, 17, 24), 17 * 24, 0, 0)  # N * D = 408
    assert stats(rows["norm"]) == ((2, 17, 24), 48, 0, 0)
    # attention: params 4 D^2 + 4 D = 2,304 + 96
    # MACs B (3 N D^2 + 2 N^2 D + N D^2) = 2 * (29,376 + 13,872 + 9,792) = 106,080
    assert stats(rows["attn"]) == ((2, 17, 24), 2_400, 0, 2 * (3 * 17 * 24**2 + 2 * 17**2 * 24 + 17 * 24**2))
    assert rows["attn"].macs == 106_080
    # mlp: 24*48 + 48 + 48*24 + 24 = 2,376; MACs 2 * 17 * (24*48 + 48*24) = 78,336
    assert stats(rows["mlp"]) == ((2, 17, 24), 2_376, 0, 78_336)
    assert stats(rows["take"]) == ((2, 24), 0, 0, 0)
    assert stats(rows["head"]) == ((2, 10), 250, 0, 480)


def test_vit_totals():
    result = analyze([3, 16, 16], VIT_LAYERS, batch=2)
    # 1,176 + 24 + 408 + 48 + 2,400 + 2,376 + 250
    assert result.totals.params == 6_682
    # 36,864 + 106,080 + 78,336 + 480; FLOPs 443,520
    assert result.totals.macs == 221_760
    assert result.totals.flops == 443_520
    assert result.output_shape == (2, 10)


def test_attention_no_bias_and_mlp_out():
    rows = by_path(analyze([3, 16, 16], [
        {"name": "patch", "type": "patch_embed", "patch": 4, "dim": 24},
        {"name": "attn", "type": "attention", "heads": 4, "bias": False},
        {"name": "mlp", "type": "mlp", "hidden": 48, "out": 12, "activation": "relu"},
        {"name": "take", "type": "take_token", "index": -1},
    ], batch=1))
    # 4 D^2 = 2,304; MACs N = 16: 3*16*576 + 2*256*24 + 16*576 = 27,648 + 12,288 + 9,216
    assert stats(rows["attn"]) == ((1, 16, 24), 2_304, 0, 49_152)
    # 24*48 + 48*12 + 48 + 12 = 1,788; MACs 16 * (1,152 + 576) = 27,648
    assert stats(rows["mlp"]) == ((1, 16, 12), 1_788, 0, 27_648)
    assert rows["take"].output_shape == (1, 12)


def test_attention_heads_must_divide_dim():
    with pytest.raises(SpecError, match="heads"):
        analyze([3, 16, 16], [{"type": "patch_embed", "patch": 4, "dim": 24}, {"type": "attention", "heads": 5}])


def test_patch_embed_remainder_warns():
    # 18 = 4*4 + 2: the remainder is dropped (as Conv2d(k=4, s=4) does), N = 16
    result = analyze([3, 18, 18], [{"type": "patch_embed", "patch": 4, "dim": 8}])
    assert result.layers[0].output_shape == (1, 16, 8)
    assert [warning.message for warning in result.warnings] == [
        f"0 (patch_embed): axis {axis} (18) is not a multiple of the patch (4); the remainder is dropped"
        for axis in (0, 1)
    ]


def test_layer_scale_on_tokens():
    rows = by_path(analyze([3, 16, 16], [
        {"name": "patch", "type": "patch_embed", "patch": 4, "dim": 24},
        {"name": "ls", "type": "layer_scale"},
    ]))
    assert stats(rows["ls"]) == ((1, 16, 24), 24, 0, 0)  # D parameters


# --------------------------------------------------------------------------------------- upsample bug


@pytest.mark.parametrize(("scale", "size"), [(0.7, 7), (2.3, 23)])
def test_upsample_scale_matches_pytorch(scale, size):
    result = analyze([2, 10, 10], [{"type": "upsample", "scale": scale}])
    assert result.output_shape == (1, 2, size, size)


# -------------------------------------------------------------------------------------- receptive field


def test_receptive_field_readme_example():
    # pytorch-receptive-field README: conv 7 s2 p3 -> bn -> relu -> maxpool 3 s2 p1 (plus an avgpool 3 s2 p1)
    result = analyze([3, 256, 256], [
        {"name": "conv", "type": "conv2d", "out": 64, "kernel": 7, "stride": 2, "padding": 3, "bias": False},
        {"name": "bn", "type": "batchnorm"},
        {"name": "relu", "type": "relu"},
        {"name": "maxpool", "type": "maxpool", "kernel": 3, "stride": 2, "padding": 1},
        {"name": "avgpool", "type": "avgpool", "kernel": 3, "stride": 2, "padding": 1},
    ])
    rows = by_path(result)
    assert rows["conv"].output_shape == (1, 64, 128, 128)
    assert rows["maxpool"].output_shape == (1, 64, 64, 64)
    assert rows["avgpool"].output_shape == (1, 64, 32, 32)
    # r: 7, 7 + 2*2 = 11, 11 + 2*4 = 19; j: 2, 4, 8; P: 3, 3 + 1*2 = 5, 5 + 1*4 = 9
    assert rows["conv"].field == square(7, 2, 3)
    assert rows["bn"].field == square(7, 2, 3)
    assert rows["relu"].field == square(7, 2, 3)
    assert rows["maxpool"].field == square(11, 4, 5)
    assert rows["avgpool"].field == square(19, 8, 9)
    assert result.receptive_field == square(19, 8, 9)
    assert result.receptive_field_layer == "avgpool"
    # the README's start 0.5 (centre of unit 0 on pixel 0): (r - 1)/2 - P = 0 at every layer
    assert all(axis.center == 0 for row in result.layers for axis in row.field)


def test_receptive_field_two_stacked_3x3():
    result = analyze([1, 9, 9], [{"type": "conv2d", "out": 1, "kernel": 3}, {"type": "conv2d", "out": 1, "kernel": 3}])
    assert result.receptive_field == square(5, 1, 0)
    padded = analyze([1, 9, 9], [{"type": "conv2d", "out": 1, "kernel": 3, "padding": 1}] * 2)
    assert padded.receptive_field == square(5, 1, 2)


def test_receptive_field_dilation():
    # k_eff = d(k - 1) + 1 = 3, 5, 9: r = 3, 7, 15; P = 1, 1 + 2, 3 + 4
    result = analyze([1, 32], [
        {"name": "a", "type": "conv1d", "out": 1, "kernel": 3, "padding": 1},
        {"name": "b", "type": "conv1d", "out": 1, "kernel": 3, "padding": 2, "dilation": 2},
        {"name": "c", "type": "conv1d", "out": 1, "kernel": 3, "padding": 4, "dilation": 4},
    ])
    rows = by_path(result)
    assert [rows[name].field for name in "abc"] == [(field(3, 1, 1),), (field(7, 1, 3),), (field(15, 1, 7),)]
    assert rows["c"].output_shape == (1, 1, 32)


def test_receptive_field_per_axis_and_per_side_padding():
    # H: k3 s2 p_top 1 -> (3, 2, 1); W: k5 s1 p_left 0 -> (5, 1, 0)
    result = analyze([1, 10, 10], [{"type": "conv2d", "out": 1, "kernel": [3, 5], "stride": [2, 1],
                                    "padding": [[1, 0], [0, 4]]}])
    assert result.layers[0].output_shape == (1, 1, 5, 10)  # (10 + 1 - 3)//2 + 1 = 5; 10 + 4 - 5 + 1 = 10
    assert result.receptive_field == (field(3, 2, 1), field(5, 1, 0))


def test_receptive_field_same_stride2_uses_left_padding():
    # TF SAME on 224 pads (0, 1): P = 0; on 225 pads (1, 1): P = 1
    even = analyze([3, 224, 224], [{"type": "conv2d", "out": 8, "kernel": 3, "stride": 2, "padding": "same"}])
    odd = analyze([3, 225, 225], [{"type": "conv2d", "out": 8, "kernel": 3, "stride": 2, "padding": "same"}])
    assert even.receptive_field == square(3, 2, 0)
    assert odd.receptive_field == square(3, 2, 1)


def test_receptive_field_distill_chain():
    # three 3x3 s2 p1 convs: (3, 2, 1), (7, 4, 3), (15, 8, 7)
    result = analyze([1, 64, 64], [{"type": "conv2d", "out": 1, "kernel": 3, "stride": 2, "padding": 1}] * 3)
    assert [row.field for row in result.layers] == [square(3, 2, 1), square(7, 4, 3), square(15, 8, 7)]
    assert result.layers[-1].output_shape == (1, 1, 8, 8)


def test_receptive_field_aligned_merge_takes_max():
    result = analyze([2, 16, 16], [
        {"name": "a", "type": "conv2d", "out": 2, "kernel": 3, "padding": 1},
        {"name": "b", "type": "conv2d", "out": 2, "kernel": 5, "padding": 2, "from": "input"},
        {"name": "sum", "type": "add", "from": ["a", "b"]},
        {"name": "cat", "type": "concat", "from": ["a", "b"]},
    ])
    rows = by_path(result)
    assert rows["a"].field == square(3, 1, 1)
    assert rows["b"].field == square(5, 1, 2)
    assert rows["sum"].field == square(5, 1, 2)
    assert rows["cat"].field == square(5, 1, 2)
    assert not result.warnings


def test_receptive_field_misaligned_merge_warns():
    # 1x1 s2 units sit on pixels 0, 2, 4, ...; 2x2 s2 units on 0.5, 2.5, ...: same jump, different centres
    result = analyze([4, 8, 8], [
        {"name": "a", "type": "conv2d", "out": 3, "kernel": 1, "stride": 2},
        {"name": "b", "type": "conv2d", "out": 3, "kernel": 2, "stride": 2, "from": "input"},
        {"name": "sum", "type": "add", "from": ["a", "b"]},
    ])
    rows = by_path(result)
    assert rows["a"].field == square(1, 2, 0)
    assert rows["b"].field == square(2, 2, 0)
    assert rows["sum"].output_shape == (1, 3, 4, 4)
    assert rows["sum"].field == square(2, 2, 0)  # the widest path
    assert [warning.message for warning in result.warnings] == [
        f"sum (add): add: the paths are not aligned on axis {axis} (size 1, jump 2, centre 0; size 2, jump 2, "
        "centre 1/2); the receptive field shown is the union of the paths' fields"
        for axis in "HW"
    ]
    assert all(warning.severity == "warning" for warning in result.warnings)


def test_receptive_field_misaligned_merge_is_the_union():
    # a: k2 s1 reads pixels y..y+1; b: k2 s1 padded one on the left reads y-1..y: the sum's unit y reads y-1..y+1
    result = analyze([1, 8], [
        {"name": "a", "type": "conv1d", "out": 1, "kernel": 2, "padding": [[0, 1]]},
        {"name": "b", "type": "conv1d", "out": 1, "kernel": 2, "padding": [[1, 0]], "from": "input"},
        {"name": "sum", "type": "add", "from": ["a", "b"]},
    ])
    rows = by_path(result)
    assert (rows["a"].field, rows["b"].field) == ((field(2, 1, 0),), (field(2, 1, 1),))
    assert rows["sum"].field == (field(3, 1, 1),)  # wider than either path
    assert len(result.warnings) == 1


def test_receptive_field_global_pool_rows():
    result = analyze([8, 6, 6], [
        {"name": "conv", "type": "conv2d", "out": 8, "kernel": 3, "padding": 1},
        {"name": "gap", "type": "global_avgpool"},
        {"name": "fc", "type": "linear", "out": 4},
    ])
    rows = by_path(result)
    # the whole 6-wide map of (3, 1, 1) units: r = 3 + 5 = 8, j = 6, P = 1
    assert rows["gap"].field == square(8, 6, 1)
    assert rows["gap"].global_field
    assert rows["fc"].global_field
    # the reported field is the deepest spatial feature map's
    assert result.receptive_field == square(3, 1, 1)
    assert result.receptive_field_layer == "conv"


def test_receptive_field_adaptive_and_unshuffle():
    result = analyze([4, 14, 14], [
        {"name": "pool", "type": "adaptive_avgpool2d", "output_size": 7},
        {"name": "unshuffle", "type": "pixel_unshuffle", "factor": 7},
    ])
    rows = by_path(result)
    assert rows["pool"].field == square(2, 2, 0)  # 14 -> 7: window 2, stride 2
    assert rows["unshuffle"].field == square(14, 14, 0)  # then a 7x7 s7 window: 2 + 6*2 = 14
    assert rows["unshuffle"].output_shape == (1, 196, 1, 1)


def test_receptive_field_patch_embed():
    rows = by_path(analyze([3, 16, 16], VIT_LAYERS))
    assert rows["patch"].field == square(4, 4, 0)
    assert rows["attn"].global_field


def test_receptive_field_upsample_fractional_jump():
    result = analyze([1, 8, 8], [
        {"name": "down", "type": "conv2d", "out": 1, "kernel": 3, "stride": 2, "padding": 1},
        {"name": "up", "type": "upsample", "scale": 2},
    ])
    up = by_path(result)["up"].field[0]
    assert up.jump == 1  # 2 * 1/2
    assert up.size == 3  # nearest reads one unit
    assert isinstance(up.start, Fraction | int)


# --------------------------------------------------------------------------------------- totals & memory

SMALL_NET = [
    {"name": "conv1", "type": "conv2d", "out": 8, "kernel": 3, "padding": 1, "bias": False},
    {"name": "bn1", "type": "batchnorm"},
    {"name": "relu1", "type": "relu"},
    {"name": "pool", "type": "maxpool", "kernel": 2},
    {"name": "conv2", "type": "conv2d", "out": 16, "kernel": 3, "padding": 1},
    {"name": "gap", "type": "global_avgpool"},
    {"name": "fc", "type": "linear", "out": 10},
]


def test_rows_sum_to_totals():
    result = analyze([3, 16, 16], SMALL_NET, batch=2)
    totals = result.totals
    assert totals.params == sum(row.params for row in result.layers)
    assert totals.buffers == sum(row.buffers for row in result.layers)
    assert totals.macs == sum(row.macs for row in result.layers)
    assert totals.flops == 2 * totals.macs == sum(row.flops for row in result.layers)
    assert totals.trainable_params == totals.params
    # conv1 8*27 = 216; bn1 16 (+16 buffers); conv2 16*72 + 16 = 1,168; fc 16*10 + 10 = 170
    assert totals.params == 216 + 16 + 1_168 + 170 == 1_570
    assert totals.buffers == 16
    # conv1 2*8*256*27 = 110,592; conv2 2*16*64*72 = 147,456; fc 2*10*16 = 320
    assert totals.macs == 110_592 + 147_456 + 320 == 258_368


def test_dtype_bytes():
    float32 = analyze([3, 16, 16], SMALL_NET, dtype="float32").totals
    float16 = analyze([3, 16, 16], SMALL_NET, dtype="float16").totals
    half = analyze([3, 16, 16], SMALL_NET, dtype="half").totals
    assert float32.param_bytes == 1_570 * 4 == 6_280
    assert float16.param_bytes == 1_570 * 2 == 3_140
    assert half.param_bytes == float16.param_bytes
    assert float32.buffer_bytes == 16 * 4
    assert float32.macs == float16.macs


def test_activation_bytes_is_sum_of_outputs():
    result = analyze([3, 16, 16], SMALL_NET, batch=2, dtype="float16")
    numels = [
        2 * 8 * 16 * 16,  # conv1 4,096
        2 * 8 * 16 * 16,  # bn1
        2 * 8 * 16 * 16,  # relu1
        2 * 8 * 8 * 8,  # pool 1,024
        2 * 16 * 8 * 8,  # conv2 2,048
        2 * 16,  # gap
        2 * 10,  # fc
    ]
    assert [row.activation_elements for row in result.layers] == numels
    assert [row.activation_bytes for row in result.layers] == [2 * n for n in numels]
    assert result.totals.activation_bytes == 2 * sum(numels) == 2 * 15_412 == 30_824


def test_peak_activation_chain():
    # input (1, 3, 8, 8) float32 = 768 B; conv 1,024 B; relu 1,024; pool 256; flatten 256; linear 40
    result = analyze([3, 8, 8], [
        {"type": "conv2d", "out": 4, "kernel": 3, "padding": 1},
        {"type": "relu"},
        {"type": "maxpool", "kernel": 2},
        {"type": "flatten"},
        {"type": "linear", "out": 10},
    ])
    assert [row.activation_bytes for row in result.layers] == [1_024, 1_024, 256, 256, 40]
    assert result.totals.activation_bytes == 2_600
    # live sets: input+conv 1,792; conv+relu 2,048; relu+pool 1,280; pool+flatten 512; flatten+linear 296
    assert result.totals.peak_activation_bytes == 2_048


def test_peak_activation_residual_keeps_the_input_alive():
    # input (1, 4, 8, 8) = 1,024 B; a: conv to 8 ch 2,048 B; b: relu 2,048; c: conv to 4 ch 1,024;
    # add(c, input) 1,024; relu 1,024
    layers = [
        {"name": "a", "type": "conv2d", "out": 8, "kernel": 3, "padding": 1},
        {"name": "b", "type": "relu"},
        {"name": "c", "type": "conv2d", "out": 4, "kernel": 3, "padding": 1},
        {"name": "add", "type": "add", "from": ["c", "input"]},
        {"name": "out", "type": "relu"},
    ]
    result = analyze([4, 8, 8], layers)
    # step a: input + a = 3,072; step b: input + a + b = 5,120 (a freed after); step c: input + b + c = 4,096;
    # step add: input + c + add = 3,072; step out: add + out = 2,048
    assert result.totals.peak_activation_bytes == 5_120
    # the same layers as a plain chain (no shortcut) peak at a + b = 4,096
    chain = analyze([4, 8, 8], [*layers[:3], {"name": "out", "type": "relu"}])
    assert chain.totals.peak_activation_bytes == 4_096


def test_batch_scaling():
    one = analyze([3, 16, 16], SMALL_NET, batch=1).totals
    four = analyze([3, 16, 16], SMALL_NET, batch=4).totals
    assert four.macs == 4 * one.macs
    assert four.flops == 4 * one.flops
    assert four.activation_bytes == 4 * one.activation_bytes
    assert four.peak_activation_bytes == 4 * one.peak_activation_bytes
    assert (four.params, four.buffers, four.param_bytes) == (one.params, one.buffers, one.param_bytes)
    assert four.batch == 4


def test_frozen_layers_are_not_trainable():
    layers = [dict(SMALL_NET[0], frozen=True), *SMALL_NET[1:]]
    totals = analyze([3, 16, 16], layers).totals
    assert totals.params == 1_570
    assert totals.trainable_params == 1_570 - 216
    assert totals.non_trainable_params == 216


def test_resnet50_block_spec():
    # The bottleneck block language of specs/resnet50.yaml on one stage-2 block (projection shortcut).
    blocks = {
        "bottleneck": {
            "args": {"width": None, "stride": 1},
            "vars": {"out": "width * 4", "project": "stride != 1 or in_channels != width * 4"},
            "layers": [
                {"name": "conv1", "type": "conv2d", "out": "width", "kernel": 1, "bias": False},
                {"name": "bn1", "type": "batchnorm"},
                {"name": "relu1", "type": "relu"},
                {"name": "conv2", "type": "conv2d", "out": "width", "kernel": 3, "stride": "stride", "padding": 1,
                 "bias": False},
                {"name": "bn2", "type": "batchnorm"},
                {"name": "relu2", "type": "relu"},
                {"name": "conv3", "type": "conv2d", "out": "out", "kernel": 1, "bias": False},
                {"name": "bn3", "type": "batchnorm"},
                {"name": "downsample", "from": "input", "when": "project", "layers": [
                    {"type": "conv2d", "out": "out", "kernel": 1, "stride": "stride", "bias": False},
                    {"type": "batchnorm"},
                ]},
                {"name": "add", "type": "add", "from": ["bn3", "downsample"]},
                {"name": "relu", "type": "relu"},
            ],
        }
    }
    result = analyze([256, 56, 56], [{"name": "block", "block": "bottleneck", "args": {"width": 128, "stride": 2}}],
                     blocks=blocks)
    rows = by_path(result)
    # conv1 256*128 = 32,768; conv2 128*128*9 = 147,456; conv3 128*512 = 65,536; downsample 256*512 = 131,072
    # BN: 2*(128 + 128 + 512 + 512) = 2,560 params and as many buffers
    assert result.totals.params == 32_768 + 147_456 + 65_536 + 131_072 + 2_560 == 379_392
    assert result.totals.buffers == 2_560
    assert rows["block.conv2"].output_shape == (1, 128, 28, 28)
    assert rows["block.downsample.0"].output_shape == (1, 512, 28, 28)
    # MACs: conv1 128*3,136*256 + conv2 128*784*1,152 + conv3 512*784*128 + downsample 512*784*256
    assert result.totals.macs == 102_760_448 + 115_605_504 + 51_380_224 + 102_760_448
    assert result.output_shape == (1, 512, 28, 28)
    # main path r = 1 + 0 + 2*1 + 0 = 3, jump 2, P 1; shortcut 1x1 s2: (1, 2, 0) -- both centred on pixel 0
    assert rows["block.add"].field == square(3, 2, 1)
    assert not result.warnings


def test_resnet50_zoo_spec_totals():
    from pathlib import Path

    from cnncalc.engine import analyze_file

    spec = Path(__file__).resolve().parent.parent / "specs" / "resnet50.yaml"
    result = analyze_file(spec)
    # torchvision resnet50: 25,557,032 parameters; BN buffers 53,120; 4,089,184,256 MACs
    # (FlopCounterMode on an equivalent torch model: 8,178,368,512 FLOPs)
    assert result.totals.params == 25_557_032
    assert result.totals.buffers == 53_120
    assert result.totals.macs == 4_089_184_256
    assert result.output_shape == (1, 1000)
    # r = 11 + 3*8 + 8 + 3*16 + 16 + 5*32 + 32 + 2*64 = 427, jump 32, P 213 (centred on pixel 0)
    assert result.receptive_field == square(427, 32, 213)
    assert result.receptive_field_layer == "layer4.2.relu"
