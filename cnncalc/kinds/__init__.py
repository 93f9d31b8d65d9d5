"""Every layer kind cnncalc knows: importing this package registers them all.

`REGISTRY` maps a kind name to its schema and engine rule; `COMPOSITES` maps shorthand kinds to their
expansion. `all_kind_names()` lists both, for "did you mean" hints and documentation.
"""

from cnncalc.kinds import conv, dense, elementwise, merge, pool, resample, transformer, uncounted, window  # noqa: F401
from cnncalc.kinds.base import (
    REGISTRY,
    LayerError,
    LayerKind,
    LayerResult,
    LayerSchema,
    RuleContext,
    kinds_where,
    layer_kind,
)
from cnncalc.kinds.composite import COMPOSITES, CompositeKind


def all_kind_names() -> list[str]:
    return sorted([*REGISTRY, *COMPOSITES])


__all__ = [
    "COMPOSITES",
    "REGISTRY",
    "CompositeKind",
    "LayerError",
    "LayerKind",
    "LayerResult",
    "LayerSchema",
    "RuleContext",
    "all_kind_names",
    "kinds_where",
    "layer_kind",
]
