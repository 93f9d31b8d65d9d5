"""The conventions that count exactly the engine's MACs: cnncalc itself, torchvision and FlopCounterMode.

They differ only in unit and batch: cnncalc reports MACs of the whole batch; torchvision publishes MACs
of one image (and calls them "GFLOPS"); PyTorch's FlopCounterMode reports 2 x MACs of the whole batch,
with one exception: attention without need_weights runs scaled_dot_product_attention, whose CPU kernel
FlopCounterMode has no formula for, so there it counts the projections only (it has formulas for CUDA's
flash, memory-efficient and cuDNN kernels; this convention follows the CPU). FlopCounterMode sees
operators, not modules: a layer run as a function call counts as its module would.
"""

from __future__ import annotations

from cnncalc.conventions import kinds
from cnncalc.conventions.model import LayerView, Part, Term
from cnncalc.conventions.registry import Convention, per_image_headline


def engine_macs(view: LayerView) -> list[Term]:
    return [Term(Part.CORE, view.macs)] if view.macs else []


_CNNCALC = (
    "MACs of conv, linear and attention matmuls; no bias, norms, activations or pooling; transposed conv on its "
    "input grid"
)
_TORCHVISION = "the same MACs as cnncalc, for one image; torchvision labels them GFLOPS"
_TORCH = (
    "2 x MACs of conv, mm/addmm/bmm and attention (scaled_dot_product_attention on the CPU: projections "
    "only); nothing else"
)

CNNCALC = Convention("cnncalc", "cnncalc", "MACs", "MACs", "whole batch", _CNNCALC, default=engine_macs)
_PUBLISHED = "torchvision model docs (_ops)"
TORCHVISION = Convention(
    "torchvision", _PUBLISHED, "MACs", "GFLOPS", "per image", _TORCHVISION, per_image_headline, default=engine_macs
)
TORCH = Convention(
    "torch", "torch.utils.flop_counter.FlopCounterMode", "FLOPs", "FLOPs", "whole batch", _TORCH, default=engine_macs
)


@TORCH.rule("attention")
def attention(view: LayerView) -> list[Term]:
    if view.spec.need_weights:
        return engine_macs(view)
    return [Term(Part.CORE, kinds.attention_projections(view))]  # _scaled_dot_product_flash_attention_for_cpu
