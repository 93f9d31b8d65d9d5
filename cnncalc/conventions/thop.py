"""thop 0.1.1 (pytorch-OpCounter): profile(model, inputs) MACs, for the whole batch.

Forward hooks on modules whose exact type is in its table (profile.py, vision/basic_hooks.py):
- convolutions and transposed convolutions: output numel x (C_in / groups) x prod(kernel), no bias;
  for a transposed convolution that is its output grid, stride^d times its real work;
- Linear: in_features x output numel, no bias;
- BatchNorm, LayerNorm, InstanceNorm: 2 x input numel, doubled again when affine; GroupNorm is not in
  the table (0);
- PReLU: input numel (in eval); Softmax: (numel / n) x (3n - 1) along its dim; ReLU, ReLU6, LeakyReLU
  and everything else 0;
- AvgPool: output numel; AdaptiveAvgPool: (prod(in / out) + 1) x output numel, in float64 then
  truncated; max pooling 0;
- Upsample: output numel x 1 (nearest), 5 (linear), 11 (bilinear), 259 (bicubic); other modes 0.
Swin's window attention calls F.linear with its Linear children's weights (no hook fires): 0; its patch
merging runs its LayerNorm and Linear children, which count.
A module of any other type (the bridge's padded-conv and patch-embedding subclasses, MultiheadAttention
and its out_proj) counts 0; nn.Sequential is looked into. A function call in forward (`functional: true`,
as torchvision's F.relu and F.adaptive_avg_pool2d) is no module: 0.
"""

from __future__ import annotations

import math

from cnncalc.conventions import kinds
from cnncalc.conventions.model import LayerView, Part, Term
from cnncalc.conventions.registry import Convention, no_term, zero
from cnncalc.kinds.shapes import normalize_axis

_THOP_RULES = (
    "conv and linear MACs (no bias), transposed conv on its output grid; BatchNorm numel x 4; "
    "avg pooling; ReLU and max pooling 0; subclassed modules and attention 0"
)
THOP = Convention("thop", "thop 0.1.1", "MACs", "MACs", "whole batch", _THOP_RULES, functional_terms=no_term)


@THOP.rule(kinds.CONVOLUTIONS)
def conv(view: LayerView) -> list[Term]:
    return [Term(Part.CORE, view.macs)] if kinds.is_plain_conv(view) else []


@THOP.rule(kinds.TRANSPOSED)
def transposed_conv(view: LayerView) -> list[Term]:
    geometry = kinds.window(view)
    per_output = geometry.in_channels // geometry.groups * math.prod(geometry.kernel)
    return [Term(Part.CORE, kinds.numel(view.output_shape) * per_output)]


@THOP.rule("linear", "mlp")
def linear(view: LayerView) -> list[Term]:
    return [Term(Part.CORE, view.macs)]


@THOP.rule(kinds.BATCH_NORMS, "instancenorm")
def batch_or_instance_norm(view: LayerView) -> list[Term]:
    return [Term(Part.NORM, 2 * kinds.numel(view.input_shape) * (2 if view.spec.affine else 1))]


@THOP.rule("layernorm")
def layer_norm(view: LayerView) -> list[Term]:
    if view.spec.channels_first:  # the bridge's channels-first LayerNorm is a subclass: not matched
        return []
    return [Term(Part.NORM, 2 * kinds.numel(view.input_shape) * (2 if view.spec.elementwise_affine else 1))]


@THOP.rule("prelu")
def prelu(view: LayerView) -> list[Term]:
    return [Term(Part.ACTIVATION, kinds.numel(view.input_shape))]


@THOP.rule("softmax")
def softmax(view: LayerView) -> list[Term]:
    shape = view.input_shape
    features = shape[normalize_axis(view.spec.dim, len(shape))]
    return [Term(Part.ACTIVATION, kinds.numel(shape) // features * (3 * features - 1))]


@THOP.rule(kinds.AVG_POOLS)
def average_pool(view: LayerView) -> list[Term]:
    return [Term(Part.POOLING, kinds.numel(view.output_shape))]


@THOP.rule(kinds.ADAPTIVE_AVG_POOLS)
def adaptive_average_pool(view: LayerView) -> list[Term]:
    window = 1.0  # the mean window size, as thop computes it in float64
    for size_in, size_out in zip(view.input_shape[2:], view.output_shape[2:], strict=True):
        window *= size_in / size_out
    return [Term(Part.POOLING, int((window + 1) * kinds.numel(view.output_shape)))]


_UPSAMPLE_FACTORS = {"nearest": 1, "linear": 5, "bilinear": 11, "bicubic": 259}


@THOP.rule("upsample")
def upsample(view: LayerView) -> list[Term]:
    factor = _UPSAMPLE_FACTORS.get(view.spec.mode, 0)
    return [Term(Part.OTHER, kinds.numel(view.output_shape) * factor)] if factor else []


@THOP.rule("patch_merging")
def patch_merging(view: LayerView) -> list[Term]:
    # its nn.LayerNorm (affine: 4 x numel) and nn.Linear children are hooked; the module itself is not
    return [Term(Part.CORE, view.macs), Term(Part.NORM, 4 * kinds.patch_merging_norm_elements(view))]


THOP.rule(
    "window_attention",  # F.linear with its children's weights: no hooked module runs
    kinds.MAX_POOLS,
    kinds.ADAPTIVE_MAX_POOLS,
    "patch_embed",
    "attention",
    "groupnorm",
    kinds.ACTIVATIONS - {"softmax", "prelu"},  # thop has rules of its own for these two
)(zero)
