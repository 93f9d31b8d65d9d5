"""The conventions that count exactly the engine's MACs: cnncalc itself, torchvision and FlopCounterMode.

They differ only in unit and batch: cnncalc reports MACs of the whole batch; torchvision publishes MACs
of one image (and calls them "GFLOPS"); PyTorch's FlopCounterMode reports 2 x MACs of the whole batch.
"""

from __future__ import annotations

from cnncalc.conventions.model import LayerView, Part, Term
from cnncalc.conventions.registry import Convention, per_image_headline, whole_batch_headline


def engine_macs(view: LayerView) -> list[Term]:
    return [Term(Part.CORE, view.macs)] if view.macs else []


CNNCALC = Convention(
    name="cnncalc",
    tool="cnncalc",
    unit="MACs",
    label="MACs",
    core_scale=1,
    batch_handling="whole batch",
    summary="MACs of conv, linear and attention matmuls; no bias, norms, activations or pooling; "
    "transposed conv on its input grid",
    headline=whole_batch_headline,
    default=engine_macs,
)

TORCHVISION = Convention(
    name="torchvision",
    tool="torchvision model docs (_ops)",
    unit="MACs",
    label="GFLOPS",
    core_scale=1,
    batch_handling="per image",
    summary="the same MACs as cnncalc, for one image; torchvision labels them GFLOPS",
    headline=per_image_headline,
    default=engine_macs,
)

TORCH = Convention(
    name="torch",
    tool="torch.utils.flop_counter.FlopCounterMode",
    unit="FLOPs",
    label="FLOPs",
    core_scale=2,
    batch_handling="whole batch",
    summary="2 x MACs of conv, mm/addmm/bmm and attention; nothing else",
    headline=whole_batch_headline,
    default=engine_macs,
)
