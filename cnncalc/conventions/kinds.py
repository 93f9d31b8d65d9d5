"""Layer kinds grouped the way the peer tools see them, and the facts about a layer that their rules need.

The tools count modules and function calls, so what matters is how cnncalc's torch bridge builds each
kind: an `nn.Conv2d`, a subclass of one (asymmetric padding, patch embedding), a plain tensor operator
(`a + b`), and so on. Those facts live here, in one place, next to the kind groups.
"""

from __future__ import annotations

import math

from cnncalc.base.geometry import Geometry, Window
from cnncalc.conventions.model import LayerView
from cnncalc.kinds import REGISTRY
from cnncalc.kinds.base import LayerKind, kinds_where
from cnncalc.kinds.elementwise import BatchNormSpec
from cnncalc.kinds.pool import AdaptivePoolSpec, AvgPoolSpec, MaxPoolSpec
from cnncalc.kinds.window import axis_pair, padded_size

# The groups are read from the kinds' own records (window, schema, family), so a new kind of a group is in it.
CONVOLUTIONS = kinds_where(lambda kind: kind.window is Window.CONVOLUTION)
TRANSPOSED = kinds_where(lambda kind: kind.window is Window.TRANSPOSED)
MAX_POOLS = kinds_where(lambda kind: kind.schema is MaxPoolSpec)
AVG_POOLS = kinds_where(lambda kind: kind.schema is AvgPoolSpec)
ADAPTIVE_AVG_POOLS = kinds_where(lambda kind: kind.schema is AdaptivePoolSpec and "avg" in kind.name)
ADAPTIVE_MAX_POOLS = kinds_where(lambda kind: kind.schema is AdaptivePoolSpec and "max" in kind.name)
BATCH_NORMS = kinds_where(lambda kind: kind.schema is BatchNormSpec)
ACTIVATIONS = kinds_where(lambda kind: kind.family == "activation")


def counts_zero_everywhere(kind: LayerKind) -> bool:
    """Kinds every peer tool counts as zero: those that do no work (reshaping, routing, identities at
    inference), and those PyTorch writes as tensor code (`a + b`, `x.mean()`, a bare parameter), which no
    module hook, patched function or handled operator sees. Read at the time of counting, so that a kind
    registered later is decided too."""
    return not kind.does_work or not kind.pytorch_module


def zero_everywhere() -> frozenset[str]:
    return frozenset(name for name, kind in REGISTRY.items() if counts_zero_everywhere(kind))


def numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def spatial_rank(view: LayerView) -> int:
    return len(view.input_shape) - 2


def has_bias(view: LayerView) -> bool:
    return bool(getattr(view.spec, "bias", False))


def is_plain_conv(view: LayerView) -> bool:
    """True when the bridge builds this convolution as a plain nn.ConvNd.

    Asymmetric padding (explicit [left, right] pairs, or "same" with a stride) becomes a subclass that pads
    first; tools that match modules by exact type (ptflops, thop) do not see that subclass at all.
    """
    return view.geometry is not None and view.geometry.symmetric


def window(view: LayerView) -> Geometry:
    """The resolved window of a windowed kind (its rule always resolves one)."""
    if view.geometry is None:
        raise ValueError(f"layer kind {view.kind!r} slides no window")
    return view.geometry


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


def attention_projections(view: LayerView) -> int:
    """Multiply-accumulates of an attention layer's QKV and output projections (F.linear twice)."""
    batch, tokens, width, _ = attention_shapes(view)
    return 4 * batch * tokens * width * width


def attention_matmuls(view: LayerView) -> int:
    """Multiply-accumulates of Q K^T and A V: torch.bmm twice with need_weights, else inside
    scaled_dot_product_attention."""
    batch, tokens, width, _ = attention_shapes(view)
    return 2 * batch * tokens * tokens * width


def attention_softmax(view: LayerView) -> int:
    """Elements of the attention weights F.softmax normalizes (explicit path only)."""
    batch, tokens, _, heads = attention_shapes(view)
    return batch * heads * tokens * tokens


def window_attention_positions(view: LayerView) -> tuple[int, int, int]:
    """(positions of the padded map, batch included; tokens per window; channels) of a window attention."""
    batch, height, width, channels = view.input_shape
    window_h, window_w = axis_pair(view.spec.window, "window")
    positions = batch * padded_size(height, window_h) * padded_size(width, window_w)
    return positions, window_h * window_w, channels


def window_attention_matmuls(view: LayerView) -> int:
    """Multiply-accumulates of Q K^T and A V in every window (Tensor.matmul twice): 2 x positions x N x C."""
    positions, tokens, channels = window_attention_positions(view)
    return 2 * positions * tokens * channels


def window_attention_softmax(view: LayerView) -> int:
    """Elements of the attention weights F.softmax normalizes: windows x heads x N x N = positions x heads x N."""
    positions, tokens, _ = window_attention_positions(view)
    return positions * view.spec.heads * tokens


def patch_merging_norm_elements(view: LayerView) -> int:
    """Elements its LayerNorm(4C) normalizes: the merged map, (B, H/2, W/2, 4C)."""
    return numel(view.output_shape) * 2


def patch_merging_parameters(view: LayerView) -> tuple[int, int]:
    """(LayerNorm parameters 8C, Linear weights 8C^2) of a patch merging."""
    merged = 4 * view.input_shape[-1]
    return 2 * merged, view.params - 2 * merged
