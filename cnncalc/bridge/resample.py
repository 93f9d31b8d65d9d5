"""Torch builders for resampling and channel rearrangement."""

from __future__ import annotations

import torch
from torch import nn

from cnncalc.bridge.registry import BuildContext, builds
from cnncalc.kinds.resample import ChannelShuffleSpec, ChannelSplitSpec, FactorSpec, UpsampleSpec


@builds("upsample")
def build_upsample(spec: UpsampleSpec, context: BuildContext) -> nn.Module:
    rank = len(context.spatial)
    if spec.size is not None:
        size = tuple(spec.size) if isinstance(spec.size, list) else (spec.size,) * rank
        return nn.Upsample(size=size, mode=spec.mode, align_corners=spec.align_corners)
    scale = tuple(spec.scale) if isinstance(spec.scale, list) else spec.scale
    return nn.Upsample(scale_factor=scale, mode=spec.mode, align_corners=spec.align_corners)


@builds("pixel_shuffle")
def build_pixel_shuffle(spec: FactorSpec, context: BuildContext) -> nn.Module:
    return nn.PixelShuffle(spec.factor)


@builds("pixel_unshuffle")
def build_pixel_unshuffle(spec: FactorSpec, context: BuildContext) -> nn.Module:
    return nn.PixelUnshuffle(spec.factor)


@builds("channel_shuffle")
def build_channel_shuffle(spec: ChannelShuffleSpec, context: BuildContext) -> nn.Module:
    return nn.ChannelShuffle(spec.groups)


class ChannelSplit(nn.Module):
    def __init__(self, sizes: list[int], take: int) -> None:
        super().__init__()
        self.sizes = sizes
        self.take = take

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.split(x, self.sizes, dim=1)[self.take]


@builds("channel_split")
def build_channel_split(spec: ChannelSplitSpec, context: BuildContext) -> nn.Module:
    channels = context.input_shape[1]
    sizes = list(spec.sizes) if spec.sizes is not None else [channels // (spec.parts or 1)] * (spec.parts or 1)
    return ChannelSplit(sizes, spec.take)
