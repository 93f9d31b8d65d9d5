"""Torch builders for the vision-transformer layers, laid out as torchvision's VisionTransformer."""

from __future__ import annotations

import torch
from torch import nn

from cnncalc.bridge.registry import BuildContext, Run, builds, calls
from cnncalc.kinds.base import LayerSchema
from cnncalc.kinds.transformer import AttentionSpec, MlpSpec, PatchEmbedSpec, TakeTokenSpec

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


def _patch_embedding(base: type[nn.Module]) -> type[nn.Module]:
    class PatchEmbedding(base):  # type: ignore[misc, valid-type]
        """Conv with kernel = stride = patch, flattened to tokens (B, N, D); params named weight/bias."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x).flatten(2).transpose(1, 2)

    return PatchEmbedding


_PATCH = {rank: _patch_embedding(cls) for rank, cls in _CONV.items()}


@builds("patch_embed")
def build_patch_embed(spec: PatchEmbedSpec, context: BuildContext) -> nn.Module:
    geometry = context.window
    patch = geometry.kernel
    return _PATCH[len(patch)](geometry.in_channels, geometry.out_channels, patch, stride=patch, bias=geometry.bias)


class ClassToken(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=1)


class PositionEmbedding(nn.Module):
    def __init__(self, tokens: int, dim: int) -> None:
        super().__init__()
        self.embedding = nn.Parameter(torch.zeros(1, tokens, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.embedding


@builds("class_token")
def build_class_token(spec: LayerSchema, context: BuildContext) -> nn.Module:
    return ClassToken(context.input_shape[-1])


@builds("pos_embed")
def build_pos_embed(spec: LayerSchema, context: BuildContext) -> nn.Module:
    _, tokens, dim = context.input_shape
    return PositionEmbedding(tokens, dim)


@builds("attention")
def build_attention(spec: AttentionSpec, context: BuildContext) -> nn.Module:
    dim = context.input_shape[-1]
    return nn.MultiheadAttention(dim, spec.heads, dropout=spec.dropout, bias=spec.bias, batch_first=True)


@calls("attention")
def call_attention(module: nn.Module, spec: AttentionSpec, context: BuildContext) -> Run:
    """Self-attention as torchvision's EncoderBlock calls it: `attention(x, x, x, need_weights=...)`.

    With need_weights the explicit path runs (Q Kᵀ and A V as bmm, then softmax); without, PyTorch runs
    scaled_dot_product_attention. `for_counting` takes the explicit path whatever the spec says, so that
    FlopCounterMode sees the matmuls on every device.
    """
    need_weights = spec.need_weights or context.for_counting

    def run(x: torch.Tensor) -> torch.Tensor:
        output, _ = module(x, x, x, need_weights=need_weights, average_attn_weights=False)
        return output

    return run


_ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU, "silu": nn.SiLU, "tanh": nn.Tanh}


@builds("mlp")
def build_mlp(spec: MlpSpec, context: BuildContext) -> nn.Module:
    width = context.input_shape[-1]
    out = spec.out or width
    return nn.Sequential(  # indices as torchvision's MLPBlock: 0 linear, 1 act, 2 dropout, 3 linear, 4 dropout
        nn.Linear(width, spec.hidden, bias=spec.bias),
        _ACTIVATIONS[spec.activation](),
        nn.Dropout(spec.dropout),
        nn.Linear(spec.hidden, out, bias=spec.bias),
        nn.Dropout(spec.dropout),
    )


class TakeToken(nn.Module):
    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.index]


@builds("take_token")
def build_take_token(spec: TakeTokenSpec, context: BuildContext) -> nn.Module:
    return TakeToken(spec.index)
