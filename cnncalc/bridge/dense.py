"""Torch builders for linear layers and reshaping."""

from __future__ import annotations

import torch
from torch import nn

from cnncalc.bridge.registry import BuildContext, builds
from cnncalc.kinds.dense import FlattenSpec, LinearSpec, PermuteSpec, ReshapeSpec, TransposeSpec


@builds("linear")
def build_linear(spec: LinearSpec, context: BuildContext) -> nn.Module:
    return nn.Linear(context.input_shape[-1], spec.out, bias=spec.bias)


@builds("flatten")
def build_flatten(spec: FlattenSpec, context: BuildContext) -> nn.Module:
    return nn.Flatten(spec.start_dim, spec.end_dim)


class Reshape(nn.Module):
    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)


class Permute(nn.Module):
    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)


class Transpose(nn.Module):
    def __init__(self, dim0: int, dim1: int) -> None:
        super().__init__()
        self.dim0, self.dim1 = dim0, dim1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(self.dim0, self.dim1)


@builds("reshape")
def build_reshape(spec: ReshapeSpec, context: BuildContext) -> nn.Module:
    return Reshape(tuple(context.output_shape[1:]))


@builds("permute")
def build_permute(spec: PermuteSpec, context: BuildContext) -> nn.Module:
    return Permute(tuple(spec.dims))


@builds("transpose")
def build_transpose(spec: TransposeSpec, context: BuildContext) -> nn.Module:
    return Transpose(spec.dim0, spec.dim1)
