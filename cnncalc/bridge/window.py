"""Torch builders for Swin's window attention and patch merging, computed as torchvision's Swin computes them.

The modules hold the same parameters and buffers under the same names as torchvision's ShiftedWindowAttention
and PatchMerging, and their forward runs the same operations in the same order (F.linear with the weights of
their Linear children, Tensor.matmul, F.softmax, F.pad, torch.roll): the counting tools that hook modules or
patch functions see what they see on torchvision's model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncalc.bridge.registry import BuildContext, builds
from cnncalc.kinds.window import PatchMergingSpec, WindowAttentionSpec, axis_pair


def relative_position_index(window_h: int, window_w: int) -> torch.Tensor:
    """For each pair of tokens of a window, the row of the bias table for their offset (int64, N^2 entries)."""
    coords = torch.stack(torch.meshgrid(torch.arange(window_h), torch.arange(window_w), indexing="ij")).flatten(1)
    relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
    relative[:, :, 0] += window_h - 1  # offsets from 0 along each axis
    relative[:, :, 1] += window_w - 1
    relative[:, :, 0] *= 2 * window_w - 1
    return relative.sum(-1).flatten()


class WindowAttention(nn.Module):
    """Multi-head self-attention inside (shifted) windows of a channels-last map, with relative position bias."""

    def __init__(
        self,
        dim: int,
        window: tuple[int, int],
        shift: tuple[int, int],
        heads: int,
        qkv_bias: bool,
        proj_bias: bool,
        attention_dropout: float,
        dropout: float,
    ) -> None:
        super().__init__()
        self.window_size = list(window)
        self.shift_size = list(shift)
        self.num_heads = heads
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        table_rows = (2 * window[0] - 1) * (2 * window[1] - 1)
        self.relative_position_bias_table = nn.Parameter(torch.zeros(table_rows, heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.register_buffer("relative_position_index", relative_position_index(*window))

    def position_bias(self) -> torch.Tensor:
        tokens = self.window_size[0] * self.window_size[1]
        bias = self.relative_position_bias_table[self.relative_position_index]
        return bias.view(tokens, tokens, -1).permute(2, 0, 1).contiguous().unsqueeze(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        window_h, window_w = self.window_size
        batch, height, width, channels = x.shape
        heads = self.num_heads
        # pad to whole windows on the bottom and right
        x = F.pad(x, (0, 0, 0, (window_w - width % window_w) % window_w, 0, (window_h - height % window_h) % window_h))
        _, padded_h, padded_w, _ = x.shape
        # no shift along an axis that one window covers
        shift_h = 0 if window_h >= padded_h else self.shift_size[0]
        shift_w = 0 if window_w >= padded_w else self.shift_size[1]
        if shift_h + shift_w > 0:
            x = torch.roll(x, shifts=(-shift_h, -shift_w), dims=(1, 2))
        rows, columns = padded_h // window_h, padded_w // window_w
        windows = rows * columns
        tokens = window_h * window_w
        x = x.view(batch, rows, window_h, columns, window_w, channels)
        x = x.permute(0, 1, 3, 2, 4, 5).reshape(batch * windows, tokens, channels)

        qkv = F.linear(x, self.qkv.weight, self.qkv.bias)
        qkv = qkv.reshape(x.size(0), tokens, 3, heads, channels // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        q = q * (channels // heads) ** -0.5
        attention = q.matmul(k.transpose(-2, -1))
        attention = attention + self.position_bias()
        if shift_h + shift_w > 0:
            attention = attention.view(batch, windows, heads, tokens, tokens)
            attention = attention + self.shift_mask(x, padded_h, padded_w, shift_h, shift_w).unsqueeze(1).unsqueeze(0)
            attention = attention.view(-1, heads, tokens, tokens)
        attention = F.softmax(attention, dim=-1)
        attention = F.dropout(attention, p=self.attention_dropout, training=self.training)

        x = attention.matmul(v).transpose(1, 2).reshape(x.size(0), tokens, channels)
        x = F.linear(x, self.proj.weight, self.proj.bias)
        x = F.dropout(x, p=self.dropout, training=self.training)
        # windows back to the map, the shift undone, the padding cut
        x = x.view(batch, rows, columns, window_h, window_w, channels)
        x = x.permute(0, 1, 3, 2, 4, 5).reshape(batch, padded_h, padded_w, channels)
        if shift_h + shift_w > 0:
            x = torch.roll(x, shifts=(shift_h, shift_w), dims=(1, 2))
        return x[:, :height, :width, :].contiguous()

    def shift_mask(self, x: torch.Tensor, padded_h: int, padded_w: int, shift_h: int, shift_w: int) -> torch.Tensor:
        """-100 between tokens of a shifted window that come from different regions of the map, else 0."""
        window_h, window_w = self.window_size
        regions = x.new_zeros((padded_h, padded_w))
        count = 0
        for top, bottom in ((0, -window_h), (-window_h, -shift_h), (-shift_h, None)):
            for left, right in ((0, -window_w), (-window_w, -shift_w), (-shift_w, None)):
                regions[top:bottom, left:right] = count
                count += 1
        regions = regions.view(padded_h // window_h, window_h, padded_w // window_w, window_w)
        regions = regions.permute(0, 2, 1, 3).reshape(-1, window_h * window_w)
        mask = regions.unsqueeze(1) - regions.unsqueeze(2)
        return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)


class PatchMerging(nn.Module):
    """2x2 neighbours of a channels-last map concatenated (odd sizes padded), LayerNorm(4C), Linear(4C, 2C)."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width, _ = x.shape[-3:]
        x = F.pad(x, (0, 0, 0, width % 2, 0, height % 2))
        x = torch.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :], x[..., 1::2, 1::2, :]], -1)
        return self.reduction(self.norm(x))


@builds("window_attention")
def build_window_attention(spec: WindowAttentionSpec, context: BuildContext) -> nn.Module:
    return WindowAttention(
        context.input_shape[-1],
        axis_pair(spec.window, "window"),
        axis_pair(spec.shift, "shift"),
        spec.heads,
        spec.qkv_bias,
        spec.proj_bias,
        spec.attention_dropout,
        spec.dropout,
    )


@builds("patch_merging")
def build_patch_merging(spec: PatchMergingSpec, context: BuildContext) -> nn.Module:
    return PatchMerging(context.input_shape[-1], spec.eps)
