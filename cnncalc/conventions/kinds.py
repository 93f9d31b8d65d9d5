"""Layer kinds grouped the way the peer tools see them, and the facts about a layer that their rules need.

The tools count modules and function calls, so what matters is how cnncalc's torch bridge builds each
kind: an `nn.Conv2d`, a subclass of one (asymmetric padding, patch embedding), a plain tensor operator
(`a + b`), and so on. Those facts live here, in one place, next to the kind groups.
"""

from __future__ import annotations

from cnncalc.conventions.model import LayerView
from cnncalc.kinds import REGISTRY
from cnncalc.kinds.base import per_axis, product
from cnncalc.kinds.conv import resolve_padding


def _ranked(base: str) -> frozenset[str]:
    return frozenset({base, f"{base}1d", f"{base}2d", f"{base}3d"})


CONVOLUTIONS = frozenset({"conv", "conv1d", "conv2d", "conv3d", "depthwise", "pointwise"})
TRANSPOSED = _ranked("conv_transpose")
MAX_POOLS = _ranked("maxpool")
AVG_POOLS = _ranked("avgpool")
ADAPTIVE_AVG_POOLS = _ranked("adaptive_avgpool")
ADAPTIVE_MAX_POOLS = _ranked("adaptive_maxpool")
BATCH_NORMS = _ranked("batchnorm")
# Every activation kind the engine knows, read from the registry so that a new one is not forgotten here.
ACTIVATIONS = frozenset(name for name, kind in REGISTRY.items() if kind.family == "activation")

# Kinds every peer tool counts as zero: reshaping, routing, identities at inference, and what the bridge
# writes as plain tensor code (`a + b`, `a * b`, torch.cat, x.mean() for global pooling, a learned scale or
# token), which no module hook, patched function or handled operator sees.
ZERO_WORK = frozenset(
    {
        "flatten",
        "reshape",
        "permute",
        "dropout",
        "stochastic_depth",
        "identity",
        "concat",
        "add",
        "multiply",
        "pixel_shuffle",
        "pixel_unshuffle",
        "channel_shuffle",
        "channel_split",
        "class_token",
        "pos_embed",
        "take_token",
        "layer_scale",
        "global_avgpool",
        "global_maxpool",
    }
)


def numel(shape: tuple[int, ...]) -> int:
    return product(shape)


def spatial_rank(view: LayerView) -> int:
    return len(view.input_shape) - 2


def has_bias(view: LayerView) -> bool:
    return bool(getattr(view.spec, "bias", False))


def is_plain_conv(view: LayerView) -> bool:
    """True when the bridge builds this convolution as a plain nn.ConvNd.

    Asymmetric padding (explicit [left, right] pairs, or "same" with a stride) becomes a subclass that pads
    first; tools that match modules by exact type (ptflops, thop) do not see that subclass at all.
    """
    if view.kind == "pointwise":
        return True
    rank = spatial_rank(view)
    spec = view.spec
    kernels = per_axis(spec.kernel, rank, "kernel")
    strides = per_axis(spec.stride, rank, "stride")
    dilations = per_axis(spec.dilation, rank, "dilation")
    padding = resolve_padding(spec.padding, view.input_shape[2:], kernels, strides, dilations)
    return all(left == right for left, right in padding)


def output_spatial(view: LayerView) -> int:
    """Positions of the output grid (batch and channels excluded)."""
    return numel(view.output_shape[2:])


def conv_weights(view: LayerView) -> int:
    """Weights of a (transposed) convolution or patch embedding: its parameters without the bias."""
    channels = view.output_shape[1] if view.kind != "patch_embed" else view.output_shape[2]
    return view.params - (channels if has_bias(view) else 0)


def linear_widths(view: LayerView) -> tuple[int, int]:
    """(in_features, out_features) of a linear layer."""
    return view.input_shape[-1], view.output_shape[-1]


def mlp_widths(view: LayerView) -> tuple[int, int, int]:
    """(width, hidden, out) of a transformer MLP block."""
    return view.input_shape[-1], view.spec.hidden, view.output_shape[-1]


def positions(shape: tuple[int, ...]) -> int:
    """Number of vectors a layer acting on the last axis sees: every axis but the last, batch included."""
    return numel(shape[:-1])


def batch_norm_factor(view: LayerView) -> int:
    """Operations per element fvcore and DeepSpeed give a BatchNorm: 2 (1 without affine) in eval, but 5 (4)
    when it normalizes with batch statistics, as it does in eval too when it tracks no running statistics."""
    affine = view.spec.affine
    if view.spec.track_running_stats:
        return 2 if affine else 1
    return 5 if affine else 4


def attention_shapes(view: LayerView) -> tuple[int, int, int, int]:
    """(batch, tokens, width, heads) of a self-attention layer."""
    batch, tokens, width = view.input_shape
    return batch, tokens, width, view.spec.heads
