"""What the importer tests compare: a written spec against the module it came from, as PyTorch counts it."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnncalc.engine.analysis import AnalysisResult


@dataclass(frozen=True)
class Figures:
    output_shape: tuple[int, ...]
    params: int
    buffers: int
    flops: int


def module_figures(module: nn.Module, input_shape: tuple[int, ...], left_out: tuple[str, ...] = ()) -> Figures:
    """The module run on meta tensors: its output shape, parameters and BatchNorm-style buffers (without the
    submodules in `left_out`, which its forward never calls), and the FLOPs FlopCounterMode counts."""
    module = module.to("meta").eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        output = module(torch.zeros(input_shape, device="meta"))
    if isinstance(output, dict):  # torchvision's segmentation models: the spec is the `out` entry
        output = output["out"]

    def kept(name: str) -> bool:
        return not any(name.startswith(f"{owner}.") for owner in left_out)

    params = sum(parameter.numel() for name, parameter in module.named_parameters() if kept(name))
    buffers = sum(
        buffer.numel()
        for name, buffer in module.named_buffers()
        if kept(name) and not name.endswith("num_batches_tracked")
    )
    return Figures(tuple(output.shape), params, buffers, counter.get_total_flops())


def spec_figures(result: AnalysisResult) -> Figures:
    totals = result.totals
    return Figures(result.layers[result.output_index].output_shape, totals.params, totals.buffers, totals.flops)
