"""Why a tool's headline differs from cnncalc's MACs: the difference split into causes that add up exactly.

headline = cnncalc MACs (whole batch)
         + bias + norms + activations + pooling + other ops    (work cnncalc does not count)
         + transposed conv + attention + missed layers          (multiply-accumulates counted differently)
         + x2 FLOPs                                              (a multiply-accumulate as two operations)
         + per image                                             (dividing by the batch, and rounding)
"""

from __future__ import annotations

import enum
from fractions import Fraction

from cnncalc.conventions import kinds
from cnncalc.conventions.model import NetworkCount, Part


class Cause(enum.Enum):
    """A reason for a difference; the value is its column title."""

    BIAS = "bias"
    NORMS = "norms"
    ACTIVATIONS = "activations"
    POOLING = "pooling"
    OTHER = "other ops"
    TRANSPOSED = "transposed conv"
    ATTENTION = "attention"
    MISSED = "missed layers"
    FLOPS = "x2 FLOPs"
    PER_IMAGE = "per image"


CAUSE_HELP = {
    Cause.BIAS: "bias additions",
    Cause.NORMS: "normalization layers",
    Cause.ACTIVATIONS: "activations and softmax",
    Cause.POOLING: "pooling layers",
    Cause.OTHER: "upsampling and elementwise arithmetic",
    Cause.TRANSPOSED: "transposed convolutions counted on their output grid (or miscounted)",
    Cause.ATTENTION: "attention matmuls or projections not counted",
    Cause.MISSED: "layers the tool does not see, or counts per sample instead of per position",
    Cause.FLOPS: "each multiply-accumulate counted as two FLOPs",
    Cause.PER_IMAGE: "the batch divided out (the tool reports one image)",
}

_EXTRA_WORK = {
    Part.BIAS: Cause.BIAS,
    Part.NORM: Cause.NORMS,
    Part.ACTIVATION: Cause.ACTIVATIONS,
    Part.POOLING: Cause.POOLING,
    Part.OTHER: Cause.OTHER,
}


def differences(count: NetworkCount, engine_macs: int) -> dict[Cause, Fraction]:
    """The causes, in order, that take cnncalc's whole-batch MACs to `count.headline`; they sum exactly."""
    result = dict.fromkeys(Cause, Fraction(0))
    if count.headline is None:
        return result
    for part, cause in _EXTRA_WORK.items():
        result[cause] += count.parts[part]
    for layer in count.layers:
        gap = layer.amount(Part.CORE) - layer.engine_macs
        if layer.kind in kinds.TRANSPOSED:
            result[Cause.TRANSPOSED] += gap
        elif layer.kind == "attention":
            result[Cause.ATTENTION] += gap
        else:
            result[Cause.MISSED] += gap
    result[Cause.FLOPS] = (count.core_scale - 1) * count.parts[Part.CORE]
    reached = engine_macs + sum(result.values(), Fraction(0))
    result[Cause.PER_IMAGE] = count.headline - reached
    return result
