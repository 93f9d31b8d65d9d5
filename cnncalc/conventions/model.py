"""The data of a counting convention: what one layer contributes, and what a whole network adds up to.

A rule turns one engine row into `Term`s: amounts of work tagged with the part of the count they belong
to (the multiply-accumulates every tool agrees on, bias, normalization, ...). Keeping the parts apart is
what lets `cnncalc conventions` explain *why* two tools disagree, not only that they do.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from fractions import Fraction

from cnncalc.engine.result import LayerRow


class Part(enum.Enum):
    """Which kind of work a term counts; the value is the column title of the breakdown."""

    CORE = "core"  # multiply-accumulates of convolutions, linear layers and matmuls
    BIAS = "bias"
    NORM = "norms"
    ACTIVATION = "activations"
    POOLING = "pooling"
    OTHER = "other ops"  # upsampling, softmax, elementwise arithmetic


@dataclass(frozen=True, slots=True)
class Term:
    """An amount of work one layer contributes, as the tool counts it.

    `amount` is for the whole batch unless the tool itself divides it by the batch (`per_image`): ptflops
    sums its module hooks over the batch and divides by the batch size, but adds functional calls whole.
    Floats appear only where the tool computes in floating point (thop's adaptive pooling, ptflops'
    upsampling by a scale); the convention then rounds as the tool does.
    """

    part: Part
    amount: int | float
    per_image: bool = False


# What a rule reads about one layer: the engine's row itself (its validated fields, input and output shapes,
# params, MACs and resolved geometry).
LayerView = LayerRow


@dataclass(frozen=True, slots=True)
class LayerCount:
    path: str
    kind: str
    engine_macs: int  # what cnncalc counts for the layer, to compare with
    terms: tuple[Term, ...]

    def amount(self, part: Part) -> Fraction:
        return sum((Fraction(term.amount) for term in self.terms if term.part is part), Fraction(0))


@dataclass(frozen=True)
class NetworkCount:
    """One convention's count of one network: the headline the tool prints, and its parts.

    `parts` are whole-batch sums in the tool's own operations (multiply-accumulates for CORE); the headline
    applies the tool's unit (x2 for FLOPs) and batch handling (divided by the batch for per-image tools).
    """

    convention: str
    tool: str  # the tool and version whose rules are reproduced
    headline: int | None  # None when the tool fails on the network (see `failure`)
    unit: str  # "MACs" or "FLOPs": what the number really counts
    label: str  # what the tool calls it ("GMac", "flops", "Total mult-adds", ...)
    batch_handling: str  # "whole batch", "per image", ...
    summary: str  # the convention's rules in one sentence
    batch: int
    core_scale: int  # 2 where the tool counts a multiply-accumulate as two FLOPs
    parts: dict[Part, Fraction]
    layers: tuple[LayerCount, ...]
    failure: str | None = None  # why the tool cannot count this network

    @property
    def whole_batch(self) -> Fraction:
        """The count before any division by the batch, in the tool's unit."""
        return sum(
            (self.core_scale * amount if part is Part.CORE else amount for part, amount in self.parts.items()),
            Fraction(0),
        )
