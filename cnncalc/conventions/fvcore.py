"""fvcore 0.1.5: FlopCountAnalysis(model, inputs).total(), from handles on the operators of a JIT trace.

It calls its numbers "flops" but counts one multiply-add as one: they are MACs. Handles (jit_handles.py):
- aten::_convolution: batch x prod(weight shape) x positions (output grid; input grid when transposed),
  bias ignored: exactly the engine's MACs, whichever module class runs the convolution;
- aten::linear, aten::bmm, aten::matmul: the multiply-accumulates, no bias (so attention's explicit
  path counts fully; aten::scaled_dot_product_attention, attention without need_weights, has no handle:
  its projections alone count);
- aten::batch_norm in eval: numel x (2 if affine else 1); in training mode, and whenever the running
  statistics are missing (PyTorch then normalizes with batch statistics), numel x (5 if affine else 4);
- aten::layer_norm, aten::group_norm, aten::instance_norm: numel x (5 if affine else 4);
- aten::upsample_nearest2d: output numel; aten::upsample_bilinear2d: 4 x output numel;
- aten::adaptive_avg_pool2d: input numel.
Every other operator (activations, max and average pooling, other upsampling modes, 1-d and 3-d
adaptive pooling, elementwise arithmetic) is skipped with a warning: 0. A trace records operators, not
modules: a layer run as a function call (`functional: true`) counts as its module would.
"""

from __future__ import annotations

from cnncalc.conventions import kinds
from cnncalc.conventions.engine_macs import engine_macs
from cnncalc.conventions.model import LayerView, Part, Term
from cnncalc.conventions.registry import Convention, zero

_FVCORE_RULES = (
    "conv, linear and matmul MACs (no bias; scaled_dot_product_attention 0); BatchNorm numel x 2 (eval), "
    "other norms numel x 5; 2-d adaptive avg pooling and 2-d nearest/bilinear upsampling; activations and "
    "other pooling 0"
)
FVCORE = Convention("fvcore", "fvcore 0.1.5", "MACs", "flops", "whole batch", _FVCORE_RULES)

# Swin's window attention: aten::linear twice and aten::matmul twice per window, on the padded map.
FVCORE.rule(kinds.CONVOLUTIONS, kinds.TRANSPOSED, "patch_embed", "linear", "mlp", "window_attention")(engine_macs)


@FVCORE.rule("patch_merging")
def patch_merging(view: LayerView) -> list[Term]:
    # aten::layer_norm (affine) on the merged map, then aten::linear without bias
    return [Term(Part.CORE, view.macs), Term(Part.NORM, 5 * kinds.patch_merging_norm_elements(view))]


@FVCORE.rule("attention")
def attention(view: LayerView) -> list[Term]:
    if view.spec.need_weights:
        return engine_macs(view)
    return [Term(Part.CORE, kinds.attention_projections(view))]


@FVCORE.rule(kinds.BATCH_NORMS)
def batch_norm(view: LayerView) -> list[Term]:
    return [Term(Part.NORM, kinds.numel(view.input_shape) * kinds.batch_norm_factor(view))]


@FVCORE.rule("layernorm")
def layer_norm(view: LayerView) -> list[Term]:
    return [Term(Part.NORM, kinds.numel(view.input_shape) * (5 if view.spec.elementwise_affine else 4))]


@FVCORE.rule("groupnorm", "instancenorm")
def group_or_instance_norm(view: LayerView) -> list[Term]:
    return [Term(Part.NORM, kinds.numel(view.input_shape) * (5 if view.spec.affine else 4))]


@FVCORE.rule("upsample")
def upsample(view: LayerView) -> list[Term]:
    if kinds.spatial_rank(view) != 2:
        return []
    factor = {"nearest": 1, "bilinear": 4}.get(view.spec.mode, 0)
    return [Term(Part.OTHER, kinds.numel(view.output_shape) * factor)] if factor else []


@FVCORE.rule(kinds.ADAPTIVE_AVG_POOLS)
def adaptive_average_pool(view: LayerView) -> list[Term]:
    if kinds.spatial_rank(view) != 2:
        return []
    return [Term(Part.POOLING, kinds.numel(view.input_shape))]


FVCORE.rule(
    kinds.MAX_POOLS,
    kinds.AVG_POOLS,
    kinds.ADAPTIVE_MAX_POOLS,
    kinds.ACTIVATIONS,  # fvcore handles no activation operator
)(zero)
