"""Small networks that exercise every layer kind and the variants the peer tools count differently.

Shared by the convention tests: the arithmetic tests check that every kind is covered here, and the live
tests feed each network, built by the torch bridge, to every peer tool. Batches of 2 or 3 keep apart the
tools that report one image from those that report the batch.
"""

from __future__ import annotations

from cnncalc.kinds import REGISTRY

CASES: dict[str, str] = {
    "conv2d": """
input: {shape: [3, 12, 12], batch: 2}
layers:
  - {type: conv2d, out: 4, kernel: 3, padding: 1}
  - {type: conv2d, out: 6, kernel: 3, stride: 2, dilation: 2, groups: 2, bias: false}
  - {type: conv2d, out: 4, kernel: 3, padding: 1, padding_mode: reflect}
""",
    "conv_padding_asymmetric": """
input: {shape: [3, 13, 13], batch: 2}
layers:
  - {type: conv2d, out: 4, kernel: 3, padding: [[0, 1], [1, 0]]}
  - {type: conv2d, out: 4, kernel: 3, stride: 2, padding: same, bias: false}
  - {type: conv, out: 5, kernel: [3, 1], padding: [1, 0]}
""",
    "conv1d_3d": """
input: {shape: [2, 6, 6, 6], batch: 3}
layers:
  - {type: conv3d, out: 3, kernel: 3, padding: 1}
  - {type: batchnorm3d}
  - {type: reshape, shape: [3, 216]}
  - {type: conv1d, out: 4, kernel: 5, stride: 2}
""",
    "depthwise_pointwise_separable": """
input: {shape: [4, 10, 10], batch: 2}
layers:
  - {type: depthwise, kernel: 3, padding: 1, multiplier: 2}
  - {type: pointwise, out: 6, stride: 2, groups: 2}
  - {type: separable, out: 5, kernel: 3, padding: 1, bias: false}
""",
    "conv_transpose": """
input: {shape: [4, 7, 7], batch: 2}
layers:
  - {type: conv_transpose2d, out: 6, kernel: 3, stride: 2, padding: 1, output_padding: 1}
  - {type: conv_transpose, out: 4, kernel: 2, stride: 2, groups: 2, bias: false}
  - {type: conv_transpose2d, out: 4, kernel: 4, stride: 2, padding: 1, dilation: 2}
""",
    "conv_transpose_1d_3d": """
input: {shape: [2, 4, 4, 4], batch: 2}
layers:
  - {type: conv_transpose3d, out: 2, kernel: 2, stride: 2}
  - {type: reshape, shape: [2, 512]}
  - {type: conv_transpose1d, out: 3, kernel: 3, stride: 3, padding: 1}
""",
    "pooling_2d": """
input: {shape: [3, 15, 15], batch: 2}
layers:
  - {type: maxpool2d, kernel: 3, stride: 2, padding: 1, ceil_mode: true}
  - {type: avgpool2d, kernel: 2, count_include_pad: false}
  - {type: avgpool, kernel: 3, stride: 1, padding: 1}
  - {type: maxpool, kernel: 2, stride: 1, dilation: 2}
  - {type: adaptive_maxpool2d, output_size: 3}
  - {type: adaptive_avgpool2d, output_size: 3}
  - {type: adaptive_maxpool, output_size: [2, 1]}
  - {type: global_avgpool}
""",
    "adaptive_uneven": """
input: {shape: [2, 7, 5], batch: 3}
layers:
  - {type: adaptive_avgpool, output_size: [3, 2]}
  - {type: global_maxpool, keepdim: true}
""",
    "pooling_1d_3d": """
input: {shape: [2, 8, 8, 8], batch: 2}
layers:
  - {type: maxpool3d, kernel: 2}
  - {type: avgpool3d, kernel: 2, padding: 1}
  - {type: adaptive_avgpool3d, output_size: 1}
  - {type: adaptive_maxpool3d, output_size: 1}
  - {type: reshape, shape: [2, 1]}
  - {type: conv1d, out: 4, kernel: 1}
  - {type: upsample, scale: 6, mode: nearest}
  - {type: maxpool1d, kernel: 2}
  - {type: avgpool1d, kernel: 3}
  - {type: adaptive_avgpool1d, output_size: 1}
  - {type: adaptive_maxpool1d, output_size: 1}
""",
    "linear": """
input: {shape: [3, 4, 4], batch: 3}
layers:
  - {type: flatten}
  - {type: linear, out: 10}
  - {type: linear, out: 5, bias: false}
""",
    "linear_on_tokens": """
input: {shape: [6, 4, 4], batch: 2}
layers:
  - {type: flatten, start_dim: 2}
  - {type: permute, dims: [0, 2, 1]}
  - {type: linear, out: 8}
  - {type: layernorm}
  - {type: layernorm, elementwise_affine: false}
  - {type: layernorm, bias: false}
  - {type: transpose, dim0: 1, dim1: 2}
  - {type: transpose, dim0: -1, dim1: -2}
  - {type: softmax, dim: -1}
""",
    "batchnorm": """
input: {shape: [4, 6, 6], batch: 2}
layers:
  - {type: batchnorm2d}
  - {type: batchnorm, affine: false}
  - {type: batchnorm, track_running_stats: false}
  - {type: batchnorm, affine: false, track_running_stats: false}
  - {type: flatten}
  - {type: batchnorm1d}
""",
    "other_norms": """
input: {shape: [4, 6, 6], batch: 2}
layers:
  - {type: groupnorm, groups: 2}
  - {type: groupnorm, groups: 4, affine: false}
  - {type: instancenorm}
  - {type: instancenorm, affine: true}
  - {type: layernorm, channels_first: true}
  - {type: layernorm, dims: 3}
""",
    "activations": """
input: {shape: [3, 5, 5], batch: 2}
layers:
  - {type: relu}
  - {type: relu6}
  - {type: leaky_relu, negative_slope: 0.1}
  - {type: elu}
  - {type: gelu}
  - {type: gelu, approximate: tanh}
  - {type: silu}
  - {type: mish}
  - {type: sigmoid}
  - {type: hardsigmoid}
  - {type: hardswish}
  - {type: hardtanh}
  - {type: tanh}
  - {type: softmax}
  - {type: prelu}
  - {type: prelu, per_channel: true}
""",
    "structure_and_merges": """
input: {shape: [4, 6, 6], batch: 2}
layers:
  - {name: a, type: conv2d, out: 4, kernel: 1}
  - {name: drop, type: dropout, p: 0.2}
  - {name: depth, type: stochastic_depth, p: 0.1}
  - {name: same, type: identity}
  - {name: scale, type: layer_scale}
  - {name: sum, type: add, from: [scale, input]}
  - {name: gate, type: global_avgpool, keepdim: true}
  - {name: gate_act, type: sigmoid}
  - {name: gated, type: multiply, from: [sum, gate_act]}
  - {name: both, type: concat, from: [gated, a]}
""",
    "uncounted": """
input: {shape: [4, 6, 6], batch: 2}
layers:
  - {name: a, type: conv2d, out: 4, kernel: 1}
  - {name: roll, type: uncounted, op: torch.roll, shape: [4, 6, 6], traced_inputs: [[4, 6, 6]]}
  - {type: relu}
""",
    "upsample_modes": """
input: {shape: [2, 4, 4], batch: 2}
layers:
  - {type: upsample, scale: 2}
  - {type: upsample, scale: 2, mode: bilinear, align_corners: false}
  - {type: upsample, size: [20, 18], mode: bicubic}
  - {type: upsample, size: 10, mode: nearest-exact}
  - {type: upsample, scale: 1.5, mode: bilinear, align_corners: true}
""",
    "upsample_1d_3d": """
input: {shape: [2, 3, 3, 3], batch: 2}
layers:
  - {type: upsample, scale: 2, mode: trilinear}
  - {type: upsample, scale: 2}
  - {type: reshape, shape: [2, 1728]}
  - {type: upsample, scale: 2, mode: linear}
  - {type: upsample, size: 500}
""",
    "channels": """
input: {shape: [8, 6, 6], batch: 2}
layers:
  - {type: pixel_shuffle, factor: 2}
  - {type: pixel_unshuffle, factor: 3}
  - {type: channel_shuffle, groups: 2}
  - {type: channel_split, parts: 2, take: 1}
""",
    "tiny_vit": """
input: {shape: [3, 16, 16], batch: 2}
layers:
  - {type: patch_embed, patch: 4, dim: 16}
  - {type: class_token}
  - {name: position, type: pos_embed}
  - {name: norm, type: layernorm}
  - {name: attention, type: attention, heads: 2}
  - {name: residual, type: add, from: [attention, position]}
  - {type: mlp, hidden: 32, activation: gelu}
  - {type: mlp, hidden: 24, out: 12, activation: relu, bias: false}
  - {type: mlp, hidden: 20, activation: silu}
  - {type: mlp, hidden: 20, activation: tanh}
  - {type: take_token}
  - {type: linear, out: 10}
""",
    "patch_embed_no_bias": """
input: {shape: [3, 10, 10], batch: 3}
layers:
  - {type: patch_embed, patch: [5, 2], dim: 8, bias: false}
  - {type: attention, heads: 4, bias: false}
  - {type: take_token, index: -1}
""",
    "attention_without_weights": """
input: {shape: [3, 16, 16], batch: 2}
layers:
  - {type: patch_embed, patch: 4, dim: 16}
  - {type: attention, heads: 2, need_weights: false}
  - {type: attention, heads: 4, bias: false, need_weights: false}
  - {type: take_token}
""",
    # Swin's layers on a channels-last map: padding to whole windows (10 x 9 to 12 x 9), a shift kept, a shift
    # dropped where one window covers the padded axis (3 to 4 rows), odd patch merging, no biases, a batch.
    "swin_windows": """
input: {shape: [8, 10, 9], batch: 2}
layers:
  - {type: permute, dims: [0, 2, 3, 1]}
  - {type: window_attention, heads: 2, window: [4, 3], shift: [2, 1]}
  - {type: patch_merging}
  - {type: window_attention, heads: 4, window: [4, 3], shift: [2, 1], qkv_bias: false, proj_bias: false}
  - {type: patch_merging, eps: 1.0e-6}
""",
    # Every stateless kind run as a function call in forward (`functional: true`), as F.relu is in
    # torchvision's DenseNet: module hooks do not fire, patched functions and traced operators still count.
    "functional_calls": """
input: {shape: [4, 8, 8], batch: 2}
layers:
  - {type: conv2d, out: 8, kernel: 3, padding: 1}
  - {type: relu, functional: true}
  - {type: relu6, functional: true}
  - {type: leaky_relu, functional: true}
  - {type: elu, functional: true}
  - {type: gelu, functional: true}
  - {type: silu, functional: true}
  - {type: mish, functional: true}
  - {type: sigmoid, functional: true}
  - {type: hardsigmoid, functional: true}
  - {type: hardswish, functional: true}
  - {type: hardtanh, functional: true}
  - {type: tanh, functional: true}
  - {type: softmax, functional: true}
  - {type: batchnorm, affine: false, track_running_stats: false, functional: true}
  - {type: instancenorm, functional: true}
  - {type: groupnorm, groups: 2, affine: false, functional: true}
  - {type: layernorm, dims: 2, elementwise_affine: false, functional: true}
  - {type: dropout, p: 0.5, functional: true}
  - {type: stochastic_depth, p: 0.5, functional: true}
  - {type: identity, functional: true}
  - {type: upsample, scale: 2, functional: true}
  - {type: maxpool, kernel: 2, functional: true}
  - {type: upsample, size: 12, mode: bilinear, functional: true}
  - {type: avgpool, kernel: 3, stride: 2, functional: true}
  - {name: skip, type: adaptive_maxpool, output_size: 4, functional: true}
  - {type: pixel_shuffle, factor: 2, functional: true}
  - {type: pixel_unshuffle, factor: 2, functional: true}
  - {type: channel_shuffle, groups: 2, functional: true}
  - {name: half, type: channel_split, parts: 2, take: 0, functional: true}
  - {name: joined, type: concat, from: [half, skip], functional: true}
  - {type: add, from: [joined, joined], functional: true}
  - {type: adaptive_avgpool, output_size: 2, functional: true}
  - {type: permute, dims: [0, 2, 3, 1], functional: true}
  - {type: transpose, dim0: 1, dim1: 2, functional: true}
  - {type: reshape, shape: [16, 3], functional: true}
  - {type: global_avgpool, functional: true}
  - {type: flatten, functional: true}
  - {type: linear, out: 5}
""",
}


def kinds_covered() -> set[str]:
    """The layer kinds the cases use (composites expanded: `separable` covers depthwise and pointwise)."""
    from cnncalc.engine.analysis import analyze_text

    return {row.kind for text in CASES.values() for row in analyze_text(text).layers}


def uncovered_kinds() -> list[str]:
    return sorted(set(REGISTRY) - kinds_covered())
