"""torchinfo 1.8.0: "Total mult-adds", counted from each executed leaf module's parameters.

Its rule (LayerInfo.calculate_macs) never looks at the operation, only at parameter names and the
output shape:
- a parameter named `weight` or `bias` of a module whose class name contains "Conv":
  numel x batch x output positions (so the bias is counted, and a transposed convolution is counted on
  its output grid, stride^2 times its real work);
- `weight` or `bias` of any other module (Linear, BatchNorm, LayerNorm, PReLU, ...): numel x batch,
  whatever the number of tokens a Linear is applied to;
- other parameter names (`in_proj_weight`, a layer scale, a class token): only in modules that have
  children, which are not leaves, so they count nothing;
- the total sums leaf modules only: nn.MultiheadAttention has a child (out_proj), so attention counts 0;
- a function call in forward (`functional: true`) is no module: 0.
Swin's window attention calls F.linear with the weights of its Linear children, which never run as modules:
0; its patch merging runs its LayerNorm and Linear children: params x batch.
The bridge's patch embedding is a Conv subclass named PatchEmbedding: no "Conv" in the name, so it counts
numel x batch like a Linear (torchvision's ViT runs a plain Conv2d and reshapes in forward: a conv2d layer).
"""

from __future__ import annotations

from cnncalc.conventions import kinds
from cnncalc.conventions.model import LayerView, Part, Term
from cnncalc.conventions.registry import Convention, no_term, zero

_TORCHINFO_RULES = (
    "(weight + bias) x output positions for Conv modules (transposed conv on its output grid); "
    "params x batch for any other module with weights (Linear regardless of tokens, norms); attention 0"
)
TORCHINFO = Convention(
    "torchinfo",
    "torchinfo 1.8.0",
    "MACs",
    "Total mult-adds",
    "whole batch",
    _TORCHINFO_RULES,
    functional_terms=no_term,  # it counts the modules it hooks; a function call is none
)


def _split_weight_and_bias(view: LayerView, per_parameter: int) -> list[Term]:
    weights = kinds.conv_weights(view)
    bias = view.params - weights
    return [Term(Part.CORE, weights * per_parameter), Term(Part.BIAS, bias * per_parameter)]


@TORCHINFO.rule(kinds.CONVOLUTIONS, kinds.TRANSPOSED)
def conv_module(view: LayerView) -> list[Term]:
    # Every class the bridge builds for these kinds has "Conv" in its name (Conv2d, PrePaddedConv2d,
    # ConvTranspose2d): parameters x batch x output positions.
    return _split_weight_and_bias(view, view.batch * kinds.output_spatial(view))


@TORCHINFO.rule("patch_embed")
def patch_embedding(view: LayerView) -> list[Term]:
    return _split_weight_and_bias(view, view.batch)


@TORCHINFO.rule("linear")
def linear(view: LayerView) -> list[Term]:
    in_features, out_features = kinds.linear_widths(view)
    bias = out_features if kinds.has_bias(view) else 0
    return [Term(Part.CORE, view.batch * in_features * out_features), Term(Part.BIAS, view.batch * bias)]


@TORCHINFO.rule("mlp")
def mlp(view: LayerView) -> list[Term]:
    # An nn.Sequential: its two Linear leaves count, each params x batch.
    width, hidden, out = kinds.mlp_widths(view)
    bias = hidden + out if kinds.has_bias(view) else 0
    return [Term(Part.CORE, view.batch * (width * hidden + hidden * out)), Term(Part.BIAS, view.batch * bias)]


@TORCHINFO.rule(kinds.BATCH_NORMS, "layernorm", "groupnorm", "instancenorm")
def normalization(view: LayerView) -> list[Term]:
    return [Term(Part.NORM, view.batch * view.params)]


@TORCHINFO.rule("prelu")
def prelu(view: LayerView) -> list[Term]:
    return [Term(Part.ACTIVATION, view.batch * view.params)]


@TORCHINFO.rule("patch_merging")
def patch_merging(view: LayerView) -> list[Term]:
    norm, weights = kinds.patch_merging_parameters(view)
    return [Term(Part.NORM, view.batch * norm), Term(Part.CORE, view.batch * weights)]


TORCHINFO.rule(
    "window_attention",
    kinds.MAX_POOLS,
    kinds.AVG_POOLS,
    kinds.ADAPTIVE_AVG_POOLS,
    kinds.ADAPTIVE_MAX_POOLS,
    "attention",
    "upsample",
    kinds.ACTIVATIONS - {"prelu"},  # parameter-free modules: no mult-adds (prelu has its own rule)
)(zero)
