"""Torch builders for layers with several inputs."""

from __future__ import annotations

import torch
from torch import nn

from cnncalc.bridge.registry import BuildContext, builds
from cnncalc.kinds.merge import ConcatSpec, ElementwiseMergeSpec


class Add(nn.Module):
    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        total = inputs[0]
        for other in inputs[1:]:
            total = total + other
        return total


class Multiply(nn.Module):
    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        product = inputs[0]
        for other in inputs[1:]:
            product = product * other
        return product


class Concat(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, dim=self.dim)


@builds("add")
def build_add(spec: ElementwiseMergeSpec, context: BuildContext) -> nn.Module:
    return Add()


@builds("multiply")
def build_multiply(spec: ElementwiseMergeSpec, context: BuildContext) -> nn.Module:
    return Multiply()


@builds("concat")
def build_concat(spec: ConcatSpec, context: BuildContext) -> nn.Module:
    return Concat(spec.dim)
