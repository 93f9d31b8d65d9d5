"""DeepSpeed's flops profiler (0.19.8) and calflops (0.3.2), which copied it: FLOPs of the whole batch.

Both patch torch.nn.functional and a few tensor methods and count each call (profiler.py,
pytorch_ops.py); module classes do not matter, only the functions they call:
- F.conv*d: 2 x MACs + one add per output for the bias; F.conv_transpose*d: 2 x MACs on the input grid
  + the bias on the output grid; F.linear: 2 x MACs, its bias never counted;
- F.batch_norm: numel x (2 if affine else 1) in eval, x (5 or 4) when it normalizes with batch
  statistics; F.layer_norm, F.group_norm, F.instance_norm: numel x (5 if affine else 4);
- F.relu, F.leaky_relu, F.elu, F.prelu, F.silu, F.gelu, F.softmax and every F.*pool*: input numel
  (nn.ReLU6 calls F.hardtanh, not patched; sigmoid, tanh, hardswish, mish: 0);
- F.interpolate: prod(size) when a size is given (without batch and channels), else input numel x
  scale^d;
- matmuls: DeepSpeed patches torch.bmm and F.scaled_dot_product_attention, so attention's Q K^T and A V
  count on either path; calflops patches neither (its projections and, with need_weights, its softmax
  count).
Module classes do not matter, so a layer run as a function call (`functional: true`) counts as its module,
except ReLU6: written as a function it is F.relu6, which both patch (nn.ReLU6 calls F.hardtanh).
calflops also differs on the transposed convolution: it divides the filters by the groups twice and
computes the bias positions with the forward-convolution formula; on interpolation by a scale, where
it forgets to multiply (input numel); and it fails outright on a network without parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from cnncalc.conventions import kinds
from cnncalc.conventions.model import LayerView, Part, Term
from cnncalc.conventions.registry import Convention, Refusal, Rule, zero
from cnncalc.engine.result import AnalysisResult

_SUMMARY = (
    "2 x MACs of conv, linear{matmuls}; + conv bias, BatchNorm numel x 2, other norms x 5, ReLU-family "
    "activations, softmax and pooling (input numel); linear bias not counted"
)


def _needs_parameters(result: AnalysisResult) -> str | None:
    if result.totals.params == 0:
        return "calflops 0.3.2 fails on a network without parameters (next(model.parameters()) is empty)"
    return None


def _convention(name: str, tool: str, matmuls: str, refuses: Refusal | None = None) -> Convention:
    return Convention(name, tool, "FLOPs", "FLOPs", "whole batch", _SUMMARY.format(matmuls=matmuls), refuses=refuses)


DEEPSPEED = _convention("deepspeed", "DeepSpeed flops profiler 0.19.8", " and attention matmuls")
CALFLOPS = _convention(
    "calflops", "calflops 0.3.2", " (attention: projections only, bmm not patched)", refuses=_needs_parameters
)
BOTH = (DEEPSPEED, CALFLOPS)


def _for_both(*kinds_or_groups: str | frozenset[str]) -> Callable[[Rule], Rule]:
    """Register one rule for DeepSpeed and calflops alike (calflops copied most of DeepSpeed's functions)."""

    def register(rule: Rule) -> Rule:
        for convention in BOTH:
            convention.rule(*kinds_or_groups)(rule)
        return rule

    return register


def _for_both_functional(*kinds_or_groups: str | frozenset[str]) -> Callable[[Rule], Rule]:
    """Register one rule for DeepSpeed and calflops alike, for layers run as function calls."""

    def register(rule: Rule) -> Rule:
        for convention in BOTH:
            convention.functional_rule(*kinds_or_groups)(rule)
        return rule

    return register


@_for_both(kinds.CONVOLUTIONS, "patch_embed")
def conv(view: LayerView) -> list[Term]:
    # One bias add per output element: the output numel, tokens x width for the patch embedding.
    bias = kinds.numel(view.output_shape) if kinds.has_bias(view) else 0
    return [Term(Part.CORE, view.macs), Term(Part.BIAS, bias)]


@DEEPSPEED.rule(kinds.TRANSPOSED)
def transposed_conv(view: LayerView) -> list[Term]:
    bias = kinds.numel(view.output_shape) if kinds.has_bias(view) else 0
    return [Term(Part.CORE, view.macs), Term(Part.BIAS, bias)]


@CALFLOPS.rule(kinds.TRANSPOSED)
def transposed_conv_calflops(view: LayerView) -> list[Term]:
    geometry = kinds.window(view)
    batch, in_channels, *spatial = view.input_shape
    groups = geometry.groups
    filters = geometry.out_channels // groups  # weight.shape[1], which calflops takes for the out channels
    macs = math.prod(geometry.kernel) * in_channels * (filters // groups) * batch * math.prod(spatial)
    bias = 0
    if geometry.bias:
        # The forward-convolution output formula applied to the input: wrong, but what calflops multiplies.
        positions = math.prod(
            (axis.size + 2 * axis.pad_left - axis.effective_kernel) // axis.stride + 1 for axis in geometry.axes
        )
        bias = filters * batch * positions
    return [Term(Part.CORE, macs), Term(Part.BIAS, bias)]


@_for_both("linear")
def linear(view: LayerView) -> list[Term]:
    return [Term(Part.CORE, view.macs)]


_PATCHED_ACTIVATIONS = frozenset({"relu", "leaky_relu", "elu", "prelu", "silu", "gelu", "softmax"})


@_for_both("mlp")
def mlp(view: LayerView) -> list[Term]:
    _, hidden, _ = kinds.mlp_widths(view)
    terms = [Term(Part.CORE, view.macs)]
    if view.spec.activation in _PATCHED_ACTIVATIONS:
        terms.append(Term(Part.ACTIVATION, kinds.positions(view.input_shape) * hidden))
    return terms


def _softmax(view: LayerView) -> list[Term]:
    """F.softmax of the explicit path (need_weights); the fused kernel calls none."""
    return [Term(Part.ACTIVATION, kinds.attention_softmax(view))] if view.spec.need_weights else []


@DEEPSPEED.rule("attention")
def attention(view: LayerView) -> list[Term]:
    return [Term(Part.CORE, view.macs), *_softmax(view)]


@CALFLOPS.rule("attention")
def attention_calflops(view: LayerView) -> list[Term]:
    # F.linear for QKV and the output; neither torch.bmm nor scaled_dot_product_attention is patched
    return [Term(Part.CORE, kinds.attention_projections(view)), *_softmax(view)]


@_for_both("window_attention")
def window_attention(view: LayerView) -> list[Term]:
    # F.linear twice (no bias counted), Tensor.matmul twice (patched by both) and F.softmax per window
    return [Term(Part.CORE, view.macs), Term(Part.ACTIVATION, kinds.window_attention_softmax(view))]


@_for_both("patch_merging")
def patch_merging(view: LayerView) -> list[Term]:
    # F.layer_norm (affine: numel x 5) on the merged map, then F.linear without bias
    return [Term(Part.CORE, view.macs), Term(Part.NORM, 5 * kinds.patch_merging_norm_elements(view))]


@_for_both(kinds.BATCH_NORMS)
def batch_norm(view: LayerView) -> list[Term]:
    return [Term(Part.NORM, kinds.numel(view.input_shape) * kinds.batch_norm_factor(view))]


@_for_both("layernorm")
def layer_norm(view: LayerView) -> list[Term]:
    return [Term(Part.NORM, kinds.numel(view.input_shape) * (5 if view.spec.elementwise_affine else 4))]


@_for_both("groupnorm", "instancenorm")
def group_or_instance_norm(view: LayerView) -> list[Term]:
    return [Term(Part.NORM, kinds.numel(view.input_shape) * (5 if view.spec.affine else 4))]


@_for_both(_PATCHED_ACTIVATIONS)
def patched_activation(view: LayerView) -> list[Term]:
    return [Term(Part.ACTIVATION, kinds.numel(view.input_shape))]


@_for_both(kinds.MAX_POOLS, kinds.AVG_POOLS, kinds.ADAPTIVE_AVG_POOLS, kinds.ADAPTIVE_MAX_POOLS)
def pooling(view: LayerView) -> list[Term]:
    return [Term(Part.POOLING, kinds.numel(view.input_shape))]


def _interpolation_by_size(view: LayerView) -> int | None:
    return kinds.numel(view.output_shape[2:]) if view.spec.size is not None else None


@DEEPSPEED.rule("upsample")
def upsample(view: LayerView) -> list[Term]:
    by_size = _interpolation_by_size(view)
    if by_size is not None:
        return [Term(Part.OTHER, by_size)]
    scale = view.spec.scale
    if isinstance(scale, list):
        factor = 1.0
        for per_axis_scale in scale:
            factor *= per_axis_scale
    else:
        factor = float(scale) ** kinds.spatial_rank(view)
    return [Term(Part.OTHER, int(kinds.numel(view.input_shape) * factor))]


@CALFLOPS.rule("upsample")
def upsample_calflops(view: LayerView) -> list[Term]:
    by_size = _interpolation_by_size(view)
    return [Term(Part.OTHER, by_size if by_size is not None else kinds.numel(view.input_shape))]


@_for_both_functional("relu6")
def relu6_function(view: LayerView) -> list[Term]:
    return [Term(Part.ACTIVATION, kinds.numel(view.input_shape))]


_for_both(
    "relu6",
    "mish",
    "sigmoid",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "tanh",
)(zero)
