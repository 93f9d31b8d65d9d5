"""The columns of the per-layer table: what `analyze --columns` can choose, how each is titled and written.

Each column has a key (what `--columns` takes), a title, how it is written as text (table, Markdown) and as
machine values (CSV), and how important it is when the terminal is narrow. The default set is the table
`analyze` has always printed; `--columns` chooses and orders columns as torchinfo's `col_names` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cnncalc.engine.result import Totals
from cnncalc.render.layout import Cell, Column, Fit, Table
from cnncalc.render.units import grouped, human_bytes
from cnncalc.render.view import DisplayRow, field_text, number_text, shape_text

CsvValue = str | int | float


@dataclass(frozen=True)
class LayerColumn:
    key: str
    title: str
    help: str
    text: Callable[[DisplayRow, Totals], str]
    csv: Callable[[DisplayRow, Totals], dict[str, CsvValue]]
    numeric: bool = False
    fit: Fit = Fit.WHOLE
    optional: int = 0  # in the default set: dropped when the terminal is narrow, highest first


def _count(value: int) -> str:
    return grouped(value) if value else "-"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if part and whole else "-"


def _shapes_text(shapes: tuple[tuple[int, ...], ...]) -> str:
    return " + ".join(shape_text(shape) for shape in shapes)


def _trainable_text(row: DisplayRow) -> str:
    if not row.params:
        return "-"
    if row.trainable_params == row.params:
        return "yes"
    return "no" if row.trainable_params == 0 else f"{grouped(row.trainable_params)} of {grouped(row.params)}"


def _field_csv(row: DisplayRow) -> dict[str, CsvValue]:
    if row.global_field:
        return {"rf_size": "global", "rf_jump": "", "rf_start": ""}
    if not row.field:
        return {"rf_size": "", "rf_jump": "", "rf_start": ""}
    return {
        f"rf_{name}": "x".join(number_text(getattr(axis, attribute)) for axis in row.field)
        for name, attribute in (("size", "size"), ("jump", "jump"), ("start", "start"))
    }


def _axes_text(values: tuple[int, ...] | tuple[str, ...], collapse: bool = True) -> str:
    """One value when every axis has it (`collapse`), else one per axis: 2, 2x1, 7x7."""
    texts = [str(value) for value in values]
    return texts[0] if collapse and len(set(texts)) == 1 else "x".join(texts)


def _geometry_text(part: str, collapse: bool = True) -> Callable[[DisplayRow, Totals], str]:
    """The text of one part of a windowed row's geometry (kernel, stride, padding, dilation, groups)."""

    def text(row: DisplayRow, _: Totals) -> str:
        geometry = row.geometry
        if geometry is None:
            return "-" if collapse else ""
        if part == "kernel":
            return _axes_text(geometry.kernel, collapse=False)
        if part == "padding":  # left/right where the sides differ ("same" with a stride, explicit pairs)
            sides = tuple(str(left) if left == right else f"{left}/{right}" for left, right in geometry.padding)
            return _axes_text(sides, collapse)
        if part == "groups":
            return str(geometry.groups)
        return _axes_text(getattr(geometry, part), collapse)

    return text


def _geometry_column(part: str, title: str, help_text: str) -> LayerColumn:
    machine = _geometry_text(part, collapse=False)
    return LayerColumn(
        part, title, help_text, _geometry_text(part), lambda row, totals: {part: machine(row, totals)}, numeric=True
    )


def _start_text(row: DisplayRow) -> str:
    if row.global_field or not row.field:
        return "global" if row.global_field else "-"
    starts = [axis.start for axis in row.field]
    if all(start == starts[0] for start in starts):
        return number_text(starts[0])
    return "x".join(number_text(start) for start in starts)


def _count_column(key: str, title: str, help_text: str, attribute: str, optional: int = 0) -> LayerColumn:
    """A column of one of a row's counts: grouped digits in tables, the integer in CSV."""
    return LayerColumn(
        key,
        title,
        help_text,
        lambda row, _: _count(getattr(row, attribute)),
        lambda row, _: {attribute: getattr(row, attribute)},
        numeric=True,
        optional=optional,
    )


def _share_column(key: str, title: str, attribute: str) -> LayerColumn:
    """A row's share of a total, in percent."""

    def share(row: DisplayRow, totals: Totals) -> float:
        whole = getattr(totals, attribute)
        return round(100 * getattr(row, attribute) / whole, 4) if whole else 0

    return LayerColumn(
        key,
        title,
        f"share of all {title.removeprefix('% ')}",
        lambda row, totals: _share(getattr(row, attribute), getattr(totals, attribute)),
        lambda row, totals: {key: share(row, totals)},
        numeric=True,
    )


LAYER_COLUMNS: dict[str, LayerColumn] = {
    column.key: column
    for column in (
        LayerColumn(
            "name",
            "Layer",
            "layer path, indented by nesting",
            lambda row, _: "  " * (row.depth - 1) + row.name,
            lambda row, _: {"name": row.name},
            fit=Fit.SHORTEN,
        ),
        LayerColumn(
            "type",
            "Type",
            "layer type (a collapsed block: its name, repeat count and layers)",
            lambda row, _: row.kind if row.layers == 1 else f"{row.kind} ({row.layers} layers)",
            lambda row, _: {"type": row.kind},
            fit=Fit.SHORTEN,
            optional=5,
        ),
        LayerColumn(
            "input",
            "Input shape",
            "shape of each input, batch first (several joined by +)",
            lambda row, _: _shapes_text(row.input_shapes),
            lambda row, _: {"input_shape": _shapes_text(row.input_shapes)},
        ),
        LayerColumn(
            "output",
            "Output shape",
            "output shape, batch first",
            lambda row, _: shape_text(row.output_shape),
            lambda row, _: {"output_shape": shape_text(row.output_shape)},
        ),
        _count_column("params", "Params", "parameters", "params"),
        _share_column("params_pct", "% params", "params"),
        LayerColumn(
            "trainable",
            "Trainable",
            "yes, no (frozen), or how many of a block's parameters are trainable",
            lambda row, _: _trainable_text(row),
            lambda row, _: {"trainable_params": row.trainable_params},
        ),
        _count_column(
            "buffers", "Buffers", "non-trainable buffers (BatchNorm running statistics, int64 index tables)", "buffers"
        ),
        _count_column("macs", "MACs", "multiply-accumulates of the whole batch", "macs"),
        _share_column("macs_pct", "% MACs", "macs"),
        _count_column("flops", "FLOPs", "2 x MACs", "flops", optional=6),
        LayerColumn(
            "memory",
            "Output memory",
            "bytes of the layer's output at the analysed dtype",
            lambda row, _: human_bytes(row.activation_bytes),
            lambda row, _: {"activation_bytes": row.activation_bytes},
            numeric=True,
        ),
        _geometry_column("kernel", "Kernel", "kernel size per axis of a windowed layer (conv, pool, patch)"),
        _geometry_column("stride", "Stride", "stride (one number when every axis has it)"),
        _geometry_column("padding", "Padding", "padding as applied (left/right where they differ, e.g. 'same')"),
        _geometry_column("dilation", "Dilation", "dilation of the kernel"),
        _geometry_column("groups", "Groups", "groups of a convolution (its input channels for a depthwise one)"),
        LayerColumn(
            "rf",
            "RF size/jump",
            "receptive field size and jump (effective stride) in input pixels",
            lambda row, _: field_text(row.field, row.global_field),
            lambda row, _: {key: value for key, value in _field_csv(row).items() if key != "rf_start"},
            optional=4,
        ),
        LayerColumn(
            "backward_flops",
            "Bwd FLOPs",
            "with --mode train: FLOPs of the layer's backward (input and weight gradients)",
            lambda row, _: _count(row.backward_flops or 0),
            lambda row, _: {"backward_flops": row.backward_flops if row.backward_flops is not None else ""},
            numeric=True,
        ),
        LayerColumn(
            "saved",
            "Saved",
            "with --mode train: bytes autograd keeps for the backward that this layer keeps first",
            lambda row, _: human_bytes(row.saved_activation_bytes) if row.saved_activation_bytes else "-",
            lambda row, _: {
                "saved_activation_bytes": row.saved_activation_bytes if row.saved_activation_bytes is not None else ""
            },
            numeric=True,
        ),
        LayerColumn(
            "weight_copies",
            "Wt copies",
            "with --mode train under mixed precision: half-precision weight copies autocast keeps for the backward",
            lambda row, _: human_bytes(row.saved_weight_copy_bytes) if row.saved_weight_copy_bytes else "-",
            lambda row, _: {
                "saved_weight_copy_bytes": row.saved_weight_copy_bytes
                if row.saved_weight_copy_bytes is not None
                else ""
            },
            numeric=True,
        ),
        LayerColumn(
            "rf_start",
            "RF start",
            "receptive field start (effective padding): unit 0 sees input pixels from -start",
            lambda row, _: _start_text(row),
            lambda row, _: {"rf_start": _field_csv(row)["rf_start"]},
        ),
    )
}

DEFAULT_COLUMNS = ("name", "type", "output", "params", "macs", "flops", "rf")
# With --mode train: the forward's work, the backward's, and what the backward keeps.
DEFAULT_TRAINING_COLUMNS = ("name", "type", "output", "params", "flops", "backward_flops", "saved")
# What `analyze --format csv` has always written (machine values, one field per number).
DEFAULT_CSV_COLUMNS = ("name", "type", "output", "params", "buffers", "macs", "flops", "memory", "rf", "rf_start")


class UnknownColumnError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def parse_columns(text: str) -> tuple[str, ...]:
    """'name,input,params' -> ('name', 'input', 'params'); raises UnknownColumnError for a key not known."""
    keys = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    for key in keys:
        if key not in LAYER_COLUMNS:
            raise UnknownColumnError(key)
    return tuple(dict.fromkeys(keys))  # a column asked for twice is shown once


def columns_help() -> str:
    return "; ".join(f"{column.key}: {column.help}" for column in LAYER_COLUMNS.values())


def layer_table(
    rows: Sequence[DisplayRow], totals: Totals, keys: Sequence[str] | None, title: str = "", training: bool = False
) -> Table:
    """The per-layer table. With the default columns, the optional ones give way on a narrow terminal; columns
    chosen with --columns are all kept (the table is stacked instead when they do not fit)."""
    chosen = [LAYER_COLUMNS[key] for key in (keys or (DEFAULT_TRAINING_COLUMNS if training else DEFAULT_COLUMNS))]
    table = Table(
        [
            Column(column.title, numeric=column.numeric, optional=0 if keys else column.optional, fit=column.fit)
            for column in chosen
        ],
        title=title,
    )
    for row in rows:
        table.rows.append([Cell(column.text(row, totals)) for column in chosen])
    return table


def csv_header_and_rows(
    rows: Sequence[DisplayRow], totals: Totals, keys: Sequence[str] | None, training: bool = False
) -> tuple[list[str], list[list[CsvValue]]]:
    default = (*DEFAULT_CSV_COLUMNS, "backward_flops", "saved") if training else DEFAULT_CSV_COLUMNS
    chosen = [LAYER_COLUMNS[key] for key in (keys or default)]
    header: list[str] = []
    body: list[list[CsvValue]] = []
    for row in rows:
        values: dict[str, CsvValue] = {}
        for column in chosen:
            values.update(column.csv(row, totals))
        if not header:
            header = list(values)
        body.append(list(values.values()))
    return header, body
