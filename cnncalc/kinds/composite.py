"""Composite kinds: shorthands that expand into a small group of ordinary layers.

A composite has a schema like any kind, but instead of an engine rule it has an expansion into layer
entries; the rows appear under the composite's name (e.g. `block.sep.depthwise`, `block.sep.pointwise`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cnncalc.kinds.base import LayerSchema
from cnncalc.kinds.fields import Positive, WindowFields


class SeparableSpec(WindowFields):
    out: Positive
    multiplier: Positive = 1
    bias: bool = True


def expand_separable(spec: SeparableSpec) -> list[dict[str, Any]]:
    """Depthwise k x k (spatial filtering per channel), then pointwise 1 x 1 (channel mixing)."""
    return [
        {
            "type": "depthwise",
            "name": "depthwise",
            "kernel": spec.kernel,
            "stride": spec.stride,
            "padding": spec.padding,
            "dilation": spec.dilation,
            "multiplier": spec.multiplier,
            "bias": spec.bias,
        },
        {"type": "pointwise", "name": "pointwise", "out": spec.out, "bias": spec.bias},
    ]


@dataclass(frozen=True)
class CompositeKind:
    name: str
    schema: type[LayerSchema]
    expand: Callable[[Any], list[dict[str, Any]]]
    summary: str
    family: str
    aliases: tuple[str, ...] = ()  # other names `cnncalc calc stack` accepts


COMPOSITES: dict[str, CompositeKind] = {
    "separable": CompositeKind(
        "separable",
        SeparableSpec,
        expand_separable,
        "Depthwise-separable convolution: depthwise k x k then pointwise 1 x 1 (two rows).",
        "convolution",
        aliases=("sep",),
    ),
}
