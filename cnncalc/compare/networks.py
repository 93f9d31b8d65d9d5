"""The comparison of two analyses: each layer added, removed, changed or unchanged, and the totals side by side.

Layers are compared as rows (one per layer, or one per block collapsed to a depth): anything with the figures
of `ComparedRow`, which the rows of every output format have (cnncalc.render.view.DisplayRow). Two networks
are equal when no layer was added, removed or changed and every total and setting is the same; their names
and files are not compared.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from cnncalc.base.tensor import AxisField
from cnncalc.compare.align import merge_order
from cnncalc.engine.result import AnalysisResult


class ComparedRow(Protocol):
    """What a layer row needs for a comparison (cnncalc.render.view.DisplayRow has it)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def input_shapes(self) -> tuple[tuple[int, ...], ...]: ...
    @property
    def output_shape(self) -> tuple[int, ...]: ...
    @property
    def params(self) -> int: ...
    @property
    def trainable_params(self) -> int: ...
    @property
    def buffers(self) -> int: ...
    @property
    def macs(self) -> int: ...
    @property
    def activation_bytes(self) -> int: ...
    @property
    def field(self) -> tuple[AxisField, ...] | None: ...
    @property
    def global_field(self) -> bool: ...
    @property
    def layers(self) -> int: ...


# The figures of a layer that are compared, in the order they are reported. `receptive_field` is the field of
# its units (size, jump and start per axis), or "global" for units that see the whole input.
LAYER_FIGURES = (
    "type",
    "input_shapes",
    "output_shape",
    "params",
    "trainable_params",
    "buffers",
    "macs",
    "activation_bytes",
    "receptive_field",
    "layers",
)


def layer_figures(row: ComparedRow) -> dict[str, object]:
    """A row's compared figures by name (LAYER_FIGURES)."""
    return {
        "type": row.kind,
        "input_shapes": row.input_shapes,
        "output_shape": row.output_shape,
        "params": row.params,
        "trainable_params": row.trainable_params,
        "buffers": row.buffers,
        "macs": row.macs,
        "activation_bytes": row.activation_bytes,
        "receptive_field": "global" if row.global_field else row.field,
        "layers": row.layers,
    }


class Status(str, enum.Enum):
    added = "added"  # in the second network only
    removed = "removed"  # in the first network only
    changed = "changed"  # in both, with some figure different
    unchanged = "unchanged"


@dataclass(frozen=True)
class LayerChange:
    """One layer (or collapsed block) of the merged order: its row in each network (None where it is absent)
    and the names of the figures that differ (LAYER_FIGURES, in that order; empty unless `changed`)."""

    name: str
    status: Status
    a: ComparedRow | None
    b: ComparedRow | None
    changed: tuple[str, ...] = ()


# The totals that are compared, as Totals attributes (and `layers`, the number of layers), in report order.
TOTAL_FIGURES = (
    "layers",
    "params",
    "trainable_params",
    "buffers",
    "macs",
    "flops",
    "param_bytes",
    "buffer_bytes",
    "activation_bytes",
    "peak_activation_bytes",
)


@dataclass(frozen=True)
class TotalChange:
    """One total in both networks: `delta` = b - a, `ratio` = b / a exactly (None when a is 0)."""

    key: str
    a: int
    b: int

    @property
    def delta(self) -> int:
        return self.b - self.a

    @property
    def ratio(self) -> Fraction | None:
        return Fraction(self.b, self.a) if self.a else None


@dataclass(frozen=True)
class SettingChange:
    """A figure of the whole network that is not a count: the input and output shapes, the dtype, the
    receptive field of the deepest spatial map, and (where some were set) the spec variables set on either
    side, each with the value that side was analysed at (`vars`: a dict by name)."""

    key: str
    a: object
    b: object

    @property
    def same(self) -> bool:
        return self.a == self.b


@dataclass(frozen=True)
class NetworkDiff:
    a: AnalysisResult
    b: AnalysisResult
    depth: int | None  # the rows were collapsed to this depth (None: every layer)
    layers: tuple[LayerChange, ...]
    totals: tuple[TotalChange, ...]
    settings: tuple[SettingChange, ...]

    def count(self, status: Status) -> int:
        return sum(1 for layer in self.layers if layer.status is status)

    @property
    def differences(self) -> tuple[LayerChange, ...]:
        """The layers added, removed or changed, in the merged order."""
        return tuple(layer for layer in self.layers if layer.status is not Status.unchanged)

    @property
    def equal(self) -> bool:
        return (
            not self.differences
            and all(total.delta == 0 for total in self.totals)
            and all(setting.same for setting in self.settings)
        )


def compare_layers(first: Sequence[ComparedRow], second: Sequence[ComparedRow]) -> tuple[LayerChange, ...]:
    """Every row of both lists, matched by name, in the merged order (cnncalc.compare.align)."""
    changes = []
    for i, j in merge_order([row.name for row in first], [row.name for row in second]):
        if j is None:
            assert i is not None
            changes.append(LayerChange(first[i].name, Status.removed, first[i], None))
        elif i is None:
            changes.append(LayerChange(second[j].name, Status.added, None, second[j]))
        else:
            old, new = layer_figures(first[i]), layer_figures(second[j])
            changed = tuple(key for key in LAYER_FIGURES if old[key] != new[key])
            status = Status.changed if changed else Status.unchanged
            changes.append(LayerChange(second[j].name, status, first[i], second[j], changed))
    return tuple(changes)


def _total(result: AnalysisResult, key: str) -> int:
    return len(result.layers) if key == "layers" else int(getattr(result.totals, key))


def compare_networks(
    a: AnalysisResult,
    b: AnalysisResult,
    rows_a: Sequence[ComparedRow],
    rows_b: Sequence[ComparedRow],
    depth: int | None = None,
    variables: tuple[Mapping[str, object], Mapping[str, object]] | None = None,
) -> NetworkDiff:
    """The comparison of two analyses, their layers given as rows (every layer, or collapsed to `depth`).
    `variables`: the spec variables set on either side (`--set`, `--set-b`), with the value each side was
    analysed at: a setting compared as the input is (None: none was set)."""
    totals = tuple(TotalChange(key, _total(a, key), _total(b, key)) for key in TOTAL_FIGURES)
    settings = (
        SettingChange("input_shape", a.input_shape, b.input_shape),
        SettingChange("output_shape", a.output_shape, b.output_shape),
        SettingChange("dtype", a.dtype, b.dtype),
        SettingChange("receptive_field", a.receptive_field, b.receptive_field),
    )
    if variables is not None:
        settings += (SettingChange("vars", dict(variables[0]), dict(variables[1])),)
    return NetworkDiff(a, b, depth, compare_layers(rows_a, rows_b), totals, settings)
