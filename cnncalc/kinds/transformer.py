"""Vision-transformer layers on token sequences (B, N, D).

patch_embed: a conv with kernel = stride = patch, flattened to tokens: params D*C*p^2 + D, MACs B*N*D*C*p^2
class_token: prepends one learned token:                             params D,       N -> N + 1
pos_embed:   adds a learned position embedding:                      params N*D
attention:   multi-head self-attention (torch.nn.MultiheadAttention): params 4*D^2 + 4*D
             MACs = B * (3*N*D^2  [QKV]  +  N^2*D  [Q K^T]  +  N^2*D  [A V]  +  N*D^2  [out proj])
mlp:         Linear(D, hidden) -> activation -> Linear(hidden, out)
take_token:  selects one token (the class token): (B, N, D) -> (B, D)
"""

import math
from dataclasses import replace
from typing import Literal

from cnncalc.base import receptive_field as rf
from cnncalc.base.geometry import Geometry, Window, windows
from cnncalc.base.tensor import Tensor, plain_tensor
from cnncalc.kinds.base import LayerError, LayerResult, LayerSchema, RuleContext, layer_kind
from cnncalc.kinds.dense import last_axis_replaced
from cnncalc.kinds.fields import Positive, PositiveAxes, Probability
from cnncalc.kinds.shapes import format_shape, image_view, per_axis


class PatchEmbedSpec(LayerSchema):
    patch: PositiveAxes
    dim: Positive
    bias: bool = True


class ClassTokenSpec(LayerSchema):
    pass


class PosEmbedSpec(LayerSchema):
    pass


class AttentionSpec(LayerSchema):
    heads: Positive
    bias: bool = True
    dropout: Probability = 0.0
    # nn.MultiheadAttention's argument: false runs Q K^T, softmax and A V as one scaled_dot_product_attention
    # call (torchvision's ViT), which several counting tools do not see; the work is the same.
    need_weights: bool = True


class MlpSpec(LayerSchema):
    hidden: Positive
    out: Positive | None = None  # default: the input width
    activation: Literal["gelu", "relu", "silu", "tanh"] = "gelu"
    bias: bool = True
    dropout: Probability = 0.0


class TakeTokenSpec(LayerSchema):
    index: int = 0


def _require_tokens(tensor: Tensor, kind: str) -> tuple[int, int, int]:
    """(batch, tokens, dim) by position, as PyTorch's batch-first attention reads any 3-d tensor."""
    if tensor.rank != 3:
        raise LayerError(
            f"{kind} needs a token sequence (batch, tokens, dim), got {format_shape(tensor.shape)}",
            "start the sequence with patch_embed, or flatten and permute a feature map to (batch, tokens, dim)",
        )
    batch, tokens, dim = tensor.shape
    return batch, tokens, dim


def _tokens(shape: tuple[int, int, int], global_context: bool = False) -> Tensor:
    tensor = plain_tensor(shape, channel_axis=2)
    return Tensor(tensor.shape, tensor.channel_axis, (), None, global_context)


@layer_kind("patch_embed", PatchEmbedSpec, family="transformer", window=Window.PATCH)
def patch_embed(spec: PatchEmbedSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Patches to tokens: conv with kernel = stride = patch, flattened: (B, C, H, W) -> (B, N, D)."""
    tensor = image_view(inputs[0], "patch_embed")
    rank = tensor.rank - 2
    patches = per_axis(spec.patch, rank, "patch")
    grid = []
    for axis, (size, patch) in enumerate(zip(tensor.spatial, patches, strict=True)):
        if size < patch:
            raise LayerError(f"spatial axis {axis} ({size}) is smaller than the patch ({patch})")
        if size % patch:
            ctx.warning(f"axis {axis} ({size}) is not a multiple of the patch ({patch}); the remainder is dropped")
        grid.append(size // patch)
    tokens = math.prod(tuple(grid))
    channels = tensor.shape[1]
    weights = channels * math.prod(patches)
    field = None
    if tensor.field is not None:
        field = tuple(rf.through_window(f, p, p, 0) for f, p in zip(tensor.field, patches, strict=True))
    zero = ((0, 0),) * rank
    axes = windows(tensor.spatial, patches, patches, zero, (1,) * rank)
    return LayerResult(
        output=_tokens((tensor.batch, tokens, spec.dim), tensor.global_context),
        params=spec.dim * weights + (spec.dim if spec.bias else 0),
        macs=tensor.batch * tokens * spec.dim * weights,
        field=field,
        geometry=Geometry(Window.PATCH, axes, channels, spec.dim, bias=spec.bias),
    )


@layer_kind("class_token", ClassTokenSpec, family="transformer", does_work=False)
def class_token(spec: ClassTokenSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Prepend a learned class token: N -> N + 1, D params."""
    batch, tokens, dim = _require_tokens(inputs[0], "class_token")
    return LayerResult(output=_tokens((batch, tokens + 1, dim), inputs[0].global_context), params=dim)


@layer_kind("pos_embed", PosEmbedSpec, family="transformer", pytorch_module=False)
def pos_embed(spec: PosEmbedSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Add a learned position embedding: N * D params."""
    batch, tokens, dim = _require_tokens(inputs[0], "pos_embed")
    return LayerResult(output=_tokens((batch, tokens, dim), inputs[0].global_context), params=tokens * dim)


@layer_kind("attention", AttentionSpec, family="transformer")
def attention(spec: AttentionSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Multi-head self-attention with QKV and output projections; the Q K^T and A V matmuls are counted."""
    batch, tokens, dim = _require_tokens(inputs[0], "attention")
    if dim % spec.heads:
        raise LayerError(f"{spec.heads} heads do not divide the width {dim}", "pick heads dividing dim")
    projections = 4 * dim * dim + (4 * dim if spec.bias else 0)
    macs = batch * (3 * tokens * dim * dim + 2 * tokens * tokens * dim + tokens * dim * dim)
    return LayerResult(output=_tokens((batch, tokens, dim), True), params=projections, macs=macs, global_field=True)


@layer_kind("mlp", MlpSpec, family="transformer")
def mlp(spec: MlpSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Token MLP: Linear(D, hidden), activation, Linear(hidden, out)."""
    tensor = inputs[0]
    width = tensor.shape[-1]
    out = spec.out or width
    positions = tensor.numel // width
    bias = (spec.hidden + out) if spec.bias else 0
    return LayerResult(
        output=last_axis_replaced(tensor, out),
        params=width * spec.hidden + spec.hidden * out + bias,
        macs=positions * (width * spec.hidden + spec.hidden * out),
    )


@layer_kind("take_token", TakeTokenSpec, family="transformer", does_work=False)
def take_token(spec: TakeTokenSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Select one token: (B, N, D) -> (B, D)."""
    batch, tokens, dim = _require_tokens(inputs[0], "take_token")
    if not -tokens <= spec.index < tokens:
        raise LayerError(f"index {spec.index} is out of range for {tokens} tokens")
    selected = plain_tensor((batch, dim), channel_axis=1)
    return LayerResult(output=replace(selected, global_context=inputs[0].global_context))
