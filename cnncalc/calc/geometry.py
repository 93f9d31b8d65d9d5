"""What a row reads and how it slides along its spatial axes, as the engine resolved them.

The explanations need the resolved numbers (a `padding: same` turned into left/right pairs, a depthwise
layer's groups, a pooling layer's default stride); the engine's rules put them in each row
(`LayerRow.geometry`), and this module only reads them.
"""

from __future__ import annotations

from cnncalc.base.geometry import AxisWindow, Geometry, Window
from cnncalc.base.tensor import IDENTITY_FIELD, AxisField
from cnncalc.engine.result import AnalysisResult, LayerRow

__all__ = ["AxisWindow", "Geometry", "Window", "geometry_of", "input_field_of", "input_shape_of", "windows_of"]

# Windows whose receptive field follows the sliding-window recurrence (a transposed convolution upsamples).
SLIDING = frozenset({Window.CONVOLUTION, Window.POOLING, Window.PATCH})


def input_shape_of(result: AnalysisResult, row: LayerRow) -> tuple[int, ...]:
    """The shape a row reads (its first input)."""
    return row.input_shape


def input_field_of(result: AnalysisResult, row: LayerRow) -> tuple[AxisField, ...] | None:
    """The receptive field of the units a row reads, or None where the engine tracks none."""
    source = row.input_indices[0]
    if source < 0:
        return tuple(IDENTITY_FIELD for _ in result.input_shape[2:])
    previous = result.layers[source]
    return None if previous.global_field else previous.field


def window_of(row: LayerRow) -> Window | None:
    """The kind of window a row slides, or None."""
    return row.geometry.window if row.geometry is not None else None


def geometry_of(row: LayerRow) -> Geometry:
    """The resolved geometry of a windowed row."""
    if row.geometry is None:
        raise ValueError(f"{row.path} ({row.kind}) slides no window")
    return row.geometry


def conv_geometry(row: LayerRow, in_shape: tuple[int, ...] | None = None) -> Geometry:
    """Channels, groups, bias and per-axis windows of a convolution row (depthwise and pointwise too)."""
    return geometry_of(row)


def windows_of(row: LayerRow, in_shape: tuple[int, ...] | None = None) -> tuple[AxisWindow, ...] | None:
    """The sliding windows of a row that moves along its spatial axes, or None for other rows."""
    return row.geometry.axes if window_of(row) in SLIDING else None  # type: ignore[union-attr]
