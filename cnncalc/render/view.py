"""What every output format shows: display rows (optionally collapsed to a depth) and their columns.

The arithmetic is done; this module only selects and groups. Formatting lives in the format modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Protocol

from cnncalc.base.geometry import Geometry
from cnncalc.base.tensor import AxisField
from cnncalc.engine.result import AnalysisResult, LayerRow

SPATIAL_AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


class TrainingFigures(Protocol):
    """A layer's figures of a training step (cnncalc.training.TrainingLayer)."""

    backward_flops: int
    saved_activation_bytes: int
    recompute_flops: int
    saved_weight_copy_bytes: int


@dataclass(frozen=True)
class DisplayRow:
    name: str
    kind: str
    depth: int
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]
    params: int
    trainable_params: int
    buffers: int
    macs: int
    activation_bytes: int
    field: tuple[AxisField, ...] | None
    global_field: bool
    layers: int  # how many layers this row stands for (1 unless collapsed)
    geometry: Geometry | None = None  # a single windowed layer's (a collapsed block has none)
    functional: bool = False  # a function call in the model's forward (a collapsed block: every layer is one)
    index_buffers: int = 0  # of `buffers`: int64 index tables; the rest are running statistics
    backward_flops: int | None = None  # with --mode train: what the backward computes
    saved_activation_bytes: int | None = None  # with --mode train: what autograd keeps for the backward
    recompute_flops: int | None = None  # with --mode train: its forward again in a checkpointed block
    saved_weight_copy_bytes: int | None = None  # with --mode train: autocast's weight copies it keeps

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def running_stat_buffers(self) -> int:
        return self.buffers - self.index_buffers


def display_rows(
    result: AnalysisResult, depth: int | None = None, training: Sequence[TrainingFigures] | None = None
) -> list[DisplayRow]:
    """One row per layer, or with `depth`, one row per block deeper than `depth` (figures summed); with
    `training` (one entry per layer), each row shows its figures of a training step too."""
    rows = _display_rows(result, depth)
    if training is None:
        return rows
    sums: dict[str, list[int]] = {}
    for row, figures in zip(result.layers, training, strict=True):
        key = row.path if depth is None else ".".join(row.path.split(".")[:depth])
        total = sums.setdefault(key, [0, 0, 0, 0])
        total[0] += figures.backward_flops
        total[1] += figures.saved_activation_bytes
        total[2] += figures.recompute_flops
        total[3] += figures.saved_weight_copy_bytes
    return [
        replace(
            row,
            backward_flops=sums[row.name][0],
            saved_activation_bytes=sums[row.name][1],
            recompute_flops=sums[row.name][2],
            saved_weight_copy_bytes=sums[row.name][3],
        )
        for row in rows
    ]


def _display_rows(result: AnalysisResult, depth: int | None) -> list[DisplayRow]:
    if depth is None:
        return [_single(row) for row in result.layers]
    rows: list[DisplayRow] = []
    group_rows: list[LayerRow] = []
    group_key: str | None = None

    def flush() -> None:
        if group_rows and group_key is not None:
            output_index = result.group_outputs.get(group_key)
            output_row = result.layers[output_index] if output_index is not None and output_index >= 0 else None
            kind = result.group_kinds.get(group_key, "group")
            rows.append(_collapsed(group_key, kind, group_rows, output_row or group_rows[-1]))

    for row in result.layers:
        parts = row.path.split(".")
        if len(parts) <= depth:
            flush()
            group_rows, group_key = [], None
            rows.append(_single(row))
            continue
        key = ".".join(parts[:depth])
        if key != group_key:
            flush()
            group_rows, group_key = [], key
        group_rows.append(row)
    flush()
    return rows


def _single(row: LayerRow) -> DisplayRow:
    return DisplayRow(
        name=row.path,
        kind=row.kind,
        depth=row.depth,
        input_shapes=row.input_shapes,
        output_shape=row.output_shape,
        params=row.params,
        trainable_params=row.params if row.trainable else 0,
        buffers=row.buffers,
        macs=row.macs,
        activation_bytes=row.activation_bytes,
        field=row.field,
        global_field=row.global_field,
        layers=1,
        geometry=row.geometry,
        functional=row.functional,
        index_buffers=row.index_buffers,
    )


def _collapsed(name: str, kind: str, members: list[LayerRow], output: LayerRow) -> DisplayRow:
    """One row for a block: its figures summed, the input of its first layer, its output's shape and receptive
    field (a block's output need not be its last layer)."""
    last = output
    return DisplayRow(
        name=name,
        kind=kind,
        depth=name.count(".") + 1,
        input_shapes=members[0].input_shapes,
        output_shape=last.output_shape,
        params=sum(row.params for row in members),
        trainable_params=sum(row.params for row in members if row.trainable),
        buffers=sum(row.buffers for row in members),
        macs=sum(row.macs for row in members),
        activation_bytes=sum(row.activation_bytes for row in members),
        field=last.field,
        global_field=last.global_field,
        layers=len(members),
        functional=all(row.functional for row in members),
        index_buffers=sum(row.index_buffers for row in members),
    )


def axis_names(count: int) -> tuple[str, ...]:
    return SPATIAL_AXIS_NAMES.get(count, tuple(str(index) for index in range(count)))


def plain_number(value: int | Fraction) -> int | float:
    """JSON-friendly: integers stay integers, fractions (after upsampling) become floats."""
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def field_axes(field: tuple[AxisField, ...] | None) -> list[dict[str, object]] | None:
    """Per spatial axis: size, jump, start (= effective padding, as in the Distill tables)."""
    if field is None:
        return None
    names = axis_names(len(field))
    return [
        {
            "axis": name,
            "size": plain_number(axis.size),
            "jump": plain_number(axis.jump),
            "start": plain_number(axis.start),
            "exact": axis.exact,
            "size_min": None if axis.size_min is None else plain_number(axis.size_min),
            "period": axis.period,
        }
        for name, axis in zip(names, field, strict=True)
    ]


def field_text(field: tuple[AxisField, ...] | None, global_field: bool, with_start: bool = False) -> str:
    """'427/32' when all axes agree, '7x3/2x1' otherwise; 'global' for whole-input units."""
    if global_field:
        return "global"
    if not field:
        return "-"
    parts: list[list[int | Fraction | str]] = [
        [size_text(axis) for axis in field],
        [axis.jump for axis in field],
    ]
    if with_start:
        parts.append([axis.start for axis in field])

    def join(values: list[int | Fraction | str]) -> str:
        if all(value == values[0] for value in values):
            return number_text(values[0])
        return "x".join(number_text(value) for value in values)

    text = "/".join(join(values) for values in parts)
    # Past the tracked period the size is an average over units (see AxisField.exact): say so.
    return text if all(axis.exact for axis in field) else "~" + text


def size_text(axis: AxisField) -> int | Fraction | str:
    """The size; '188-204' (fewest-most pixels) where units see different counts after upsampling."""
    if axis.size_min is None or axis.size_min == axis.size:
        return axis.size
    return f"{number_text(axis.size_min)}-{number_text(axis.size)}"


def number_text(value: int | Fraction | str) -> str:
    """An integer as is; a fraction (jumps after upsampling) as a short decimal, never "1/2" next to a "/"."""
    if isinstance(value, str):
        return value
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{float(value):.4g}"
    return str(int(value))


def shape_text(shape: tuple[int, ...]) -> str:
    """1x64x112x112: the one way every format writes a shape."""
    return "x".join(str(size) for size in shape)
