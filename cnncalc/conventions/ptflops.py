"""ptflops 0.7.5, default `pytorch` backend: get_model_complexity_info(...) MACs, for one image.

Two mechanisms add up (pytorch_engine.py, pytorch_ops.py):
- forward hooks on modules whose exact type is in its table (subclasses are not matched): conv and
  transposed conv (MACs + bias; transposed on the input grid), Linear (MACs + bias per position),
  BatchNorm/InstanceNorm/GroupNorm (input numel x 2 if `affine`), LayerNorm (input numel: it has no
  `affine` attribute), ReLU/ReLU6/LeakyReLU/ELU/PReLU/GELU (output numel), every max/avg/adaptive
  pooling (input numel), Upsample (numel of the first sample's output), MultiheadAttention (its own
  formula: projections, Q K^T, softmax, A V, Q scaling, biases). These are summed over the batch and
  divided by the batch size;
- patched functions, counted whole (never divided by the batch): F.relu, F.relu6, F.elu, F.prelu,
  F.gelu, F.silu, F.softmax, every F.*pool*, F.interpolate (output numel for a size; input numel x
  scale^d for a scale, each per-axis scale truncated to an integer), and torch.bmm/matmul
  (multiply-accumulates). Since nn.ReLU, nn.GELU and the pooling modules call those functions, they are
  counted twice: once by the hook, once by the patch.
The headline is int(hooks / batch + functions). What the bridge builds matters: asymmetric padding and
the patch embedding are Conv2d subclasses, so they count 0. Attention is a plain MultiheadAttention: its
hook counts, and with need_weights its explicit path adds its two bmm and its softmax (the fused
scaled_dot_product_attention, need_weights=false, is not patched). A layer run as a function call
(`functional: true`) keeps only the patched function's share: F.relu once, not twice.
"""

from __future__ import annotations

import math

from cnncalc.conventions import kinds
from cnncalc.conventions.model import LayerView, Part, Term
from cnncalc.conventions.registry import Convention, zero


def _patched_functions_only(terms: list[Term]) -> list[Term]:
    """A function call: no module hook fires, the patched function (if any) still counts."""
    return [term for term in terms if not term.per_image]


def ptflops_headline(terms: list[Term], batch: int, core_scale: int) -> int:
    hooks = sum(int(term.amount) for term in terms if term.per_image)
    functions: int | float = 0
    for term in terms:  # summed in execution order, in floating point once a float appears, as ptflops does
        if not term.per_image:
            functions = functions + term.amount
    return int(hooks / batch + functions)


_PTFLOPS_RULES = (
    "conv and linear MACs + bias; BatchNorm numel x 2; ReLU and pooling counted twice (module hook "
    "and patched function), once as function calls; subclassed modules 0; attention: its own formula"
)
PTFLOPS = Convention(
    "ptflops",
    "ptflops 0.7.5 (pytorch backend)",
    "MACs",
    "GMac",
    "per image (module hooks); whole batch (patched functions)",
    _PTFLOPS_RULES,
    ptflops_headline,
    functional_terms=_patched_functions_only,
)


def _hook(part: Part, amount: int) -> Term:
    return Term(part, amount, per_image=True)


def _function(part: Part, amount: int | float) -> Term:
    return Term(part, amount, per_image=False)


@PTFLOPS.rule(kinds.CONVOLUTIONS)
def conv(view: LayerView) -> list[Term]:
    if not kinds.is_plain_conv(view):
        return []
    bias = kinds.numel(view.output_shape) if kinds.has_bias(view) else 0
    return [_hook(Part.CORE, view.macs), _hook(Part.BIAS, bias)]


@PTFLOPS.rule(kinds.TRANSPOSED)
def transposed_conv(view: LayerView) -> list[Term]:
    bias = kinds.numel(view.output_shape) if kinds.has_bias(view) else 0
    return [_hook(Part.CORE, view.macs), _hook(Part.BIAS, bias)]


@PTFLOPS.rule("linear")
def linear(view: LayerView) -> list[Term]:
    bias = kinds.numel(view.output_shape) if kinds.has_bias(view) else 0
    return [_hook(Part.CORE, view.macs), _hook(Part.BIAS, bias)]


def _activation_numel(activation: str, elements: int) -> list[Term]:
    """nn.ReLU and nn.GELU: hook and patched function; nn.SiLU: the function only; nn.Tanh: nothing."""
    if activation in ("relu", "gelu"):
        return [_hook(Part.ACTIVATION, elements), _function(Part.ACTIVATION, elements)]
    if activation == "silu":
        return [_function(Part.ACTIVATION, elements)]
    return []


@PTFLOPS.rule("mlp")
def mlp(view: LayerView) -> list[Term]:
    _, hidden, out = kinds.mlp_widths(view)
    rows = kinds.positions(view.input_shape)
    bias = rows * (hidden + out) if kinds.has_bias(view) else 0
    terms = [_hook(Part.CORE, view.macs), _hook(Part.BIAS, bias)]
    return terms + _activation_numel(view.spec.activation, rows * hidden)


@PTFLOPS.rule("attention")
def attention(view: LayerView) -> list[Term]:
    # multihead_attention_counter_hook, for self-attention: Q scaling (N D), projections (4 N D^2), their
    # biases (3 N D for the packed input projection if present, N D for the output one: "always enabled"),
    # and per head Q K^T, softmax and A V (N^2 d, N^2, N^2 d).
    batch, tokens, width, _ = kinds.attention_shapes(view)
    in_bias = 3 * tokens * width if kinds.has_bias(view) else 0
    terms = [
        _hook(Part.CORE, view.macs),
        _hook(Part.BIAS, batch * (in_bias + tokens * width)),
        _hook(Part.ACTIVATION, kinds.attention_softmax(view)),
        _hook(Part.OTHER, batch * tokens * width),
    ]
    if view.spec.need_weights:  # the explicit path: torch.bmm twice and F.softmax, all patched
        terms += [
            _function(Part.CORE, kinds.attention_matmuls(view)),
            _function(Part.ACTIVATION, kinds.attention_softmax(view)),
        ]
    return terms


@PTFLOPS.rule(kinds.BATCH_NORMS, "instancenorm", "groupnorm")
def affine_norm(view: LayerView) -> list[Term]:
    return [_hook(Part.NORM, kinds.numel(view.input_shape) * (2 if view.spec.affine else 1))]


@PTFLOPS.rule("layernorm")
def layer_norm(view: LayerView) -> list[Term]:
    if view.spec.channels_first:  # the bridge's channels-first LayerNorm is a subclass: not matched
        return []
    return [_hook(Part.NORM, kinds.numel(view.input_shape))]


@PTFLOPS.rule("relu", "gelu", "silu")
def hooked_and_patched_activation(view: LayerView) -> list[Term]:
    return _activation_numel(view.kind, kinds.numel(view.input_shape))


@PTFLOPS.rule("elu", "prelu")
def elu_or_prelu(view: LayerView) -> list[Term]:
    elements = kinds.numel(view.input_shape)
    return [_hook(Part.ACTIVATION, elements), _function(Part.ACTIVATION, elements)]


@PTFLOPS.rule("relu6", "leaky_relu")
def hooked_activation(view: LayerView) -> list[Term]:
    # nn.ReLU6 runs F.hardtanh and nn.LeakyReLU F.leaky_relu, neither patched: the hook alone counts.
    return [_hook(Part.ACTIVATION, kinds.numel(view.output_shape))]


@PTFLOPS.functional_rule("relu6")
def relu6_function(view: LayerView) -> list[Term]:
    # Written as a function call, ReLU6 is F.relu6, which ptflops patches.
    return [_function(Part.ACTIVATION, kinds.numel(view.input_shape))]


@PTFLOPS.rule("softmax")
def softmax(view: LayerView) -> list[Term]:
    return [_function(Part.ACTIVATION, kinds.numel(view.input_shape))]


@PTFLOPS.rule(kinds.MAX_POOLS, kinds.AVG_POOLS, kinds.ADAPTIVE_AVG_POOLS, kinds.ADAPTIVE_MAX_POOLS)
def pooling(view: LayerView) -> list[Term]:
    elements = kinds.numel(view.input_shape)
    return [_hook(Part.POOLING, elements), _function(Part.POOLING, elements)]


@PTFLOPS.rule("upsample")
def upsample(view: LayerView) -> list[Term]:
    hook = _hook(Part.OTHER, kinds.numel(view.output_shape[1:]))  # it reads output[0]: one sample
    spec = view.spec
    if spec.size is not None:
        function: int | float = kinds.numel(view.output_shape)
    elif isinstance(spec.scale, list):
        # np.prod(scales, dtype=np.int64) truncates each scale to an integer before multiplying.
        function = kinds.numel(view.input_shape) * math.prod(tuple(int(scale) for scale in spec.scale))
    else:
        function = kinds.numel(view.input_shape) * float(spec.scale) ** kinds.spatial_rank(view)
    return [hook, _function(Part.OTHER, function)]


@PTFLOPS.rule("window_attention")
def window_attention(view: LayerView) -> list[Term]:
    # F.linear is not patched and its Linear children never run as modules: only the patched Tensor.matmul
    # (Q K^T, A V) and F.softmax count, whole batch.
    return [
        _function(Part.CORE, kinds.window_attention_matmuls(view)),
        _function(Part.ACTIVATION, kinds.window_attention_softmax(view)),
    ]


@PTFLOPS.rule("patch_merging")
def patch_merging(view: LayerView) -> list[Term]:
    # hooks on its nn.LayerNorm (input numel) and nn.Linear (MACs, no bias) children
    return [_hook(Part.CORE, view.macs), _hook(Part.NORM, kinds.patch_merging_norm_elements(view))]


PTFLOPS.rule(
    "patch_embed",
    "mish",
    "sigmoid",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "tanh",
)(zero)
