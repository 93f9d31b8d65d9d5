"""What the HTML report shows, as data: the per-layer tree of the table (blocks with their summed figures,
layers under them), each cell's text and sort value, and the series of the charts.

Everything here is selected from the engine's result (and the training step's, with --mode train); the
figures are the engine's, summed by `display_rows` exactly as `analyze --depth` sums them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import TYPE_CHECKING, Any

from cnncalc import __version__
from cnncalc.engine.memory import live_bytes_per_step
from cnncalc.engine.result import AnalysisResult
from cnncalc.render.layer_columns import DEFAULT_COLUMNS, DEFAULT_TRAINING_COLUMNS, LAYER_COLUMNS
from cnncalc.render.machine import totals_dict, training_totals_dict
from cnncalc.render.view import DisplayRow, display_rows

if TYPE_CHECKING:
    from cnncalc.training import TrainingResult

SortValue = int | float | str


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report is made from: the analysis, the spec's text (shown with its warnings), and the
    choices of the command line (`--depth`, `--columns`, `--mode train`)."""

    result: AnalysisResult
    spec_text: str
    depth: int | None = None  # blocks deeper than this start collapsed; the per-layer charts use these rows
    columns: tuple[str, ...] | None = None
    training: TrainingResult | None = None


@dataclass(frozen=True)
class TreeRow:
    """One row of the report's table: a layer, or a block (group, block use or repeat copy) with its figures
    summed over its layers."""

    row: DisplayRow
    parent: int  # index of the enclosing block's row; -1 at the top level
    is_block: bool


def table_columns(inputs: ReportInputs) -> tuple[str, ...]:
    """The chosen columns (as `analyze`), with the name first when left out: it holds the block toggles."""
    keys = inputs.columns or (DEFAULT_TRAINING_COLUMNS if inputs.training else DEFAULT_COLUMNS)
    return keys if "name" in keys else ("name", *keys)


def tree_rows(result: AnalysisResult, training: TrainingResult | None) -> list[TreeRow]:
    """Every block and every layer in network order, each block just before its layers."""
    figures = training.layers if training else None
    layer_rows = display_rows(result, None, figures)
    layer_names = {row.name for row in layer_rows}
    deepest = max((row.depth for row in layer_rows), default=1)
    # A block is what `--depth d` collapses into one row: a path of d parts that is no layer's own path.
    blocks: dict[str, DisplayRow] = {}
    for depth in range(1, deepest):
        for row in display_rows(result, depth, figures):
            if row.name.count(".") == depth - 1 and row.name not in layer_names:
                blocks.setdefault(row.name, row)
    rows: list[TreeRow] = []
    open_blocks: list[tuple[str, int]] = []  # (path, row index) of the blocks the current layer is inside
    for layer in layer_rows:
        parts = layer.name.split(".")
        prefixes = [".".join(parts[:length]) for length in range(1, len(parts))]
        prefixes = [prefix for prefix in prefixes if prefix in blocks]
        while open_blocks and open_blocks[-1][0] not in prefixes:
            open_blocks.pop()
        for prefix in prefixes:
            if any(path == prefix for path, _ in open_blocks):
                continue
            parent = open_blocks[-1][1] if open_blocks else -1
            open_blocks.append((prefix, len(rows)))
            rows.append(TreeRow(blocks[prefix], parent, True))
        rows.append(TreeRow(layer, open_blocks[-1][1] if open_blocks else -1, False))
    return rows


def _number(value: int | Fraction) -> int | float:
    return int(value) if isinstance(value, int) or value.denominator == 1 else float(value)


def sort_value(key: str, row: DisplayRow) -> SortValue:
    """What a click on a column's header sorts by: the exact figure for counts, the element count for shapes,
    the largest size for receptive fields (global above any), the text for names and types."""
    if key in ("name", "type"):
        return row.name if key == "name" else row.kind
    if key == "input":
        return sum(prod(shape) for shape in row.input_shapes)
    if key == "output":
        return prod(row.output_shape)
    if key in ("rf", "rf_start"):
        if row.global_field:
            return float("inf") if key == "rf" else -1
        if not row.field:
            return -1
        return max(_number(axis.size if key == "rf" else axis.start) for axis in row.field)
    if key == "trainable":
        return row.trainable_params
    if key in ("kernel", "stride", "padding", "dilation", "groups"):
        if row.geometry is None:
            return -1
        if key == "padding":
            return max(left + right for left, right in row.geometry.padding)
        value = getattr(row.geometry, key)
        return value if isinstance(value, int) else prod(value)
    machine = LAYER_COLUMNS[key].csv(row, _NO_TOTALS)
    first = next(iter(machine.values()), "")
    return first if isinstance(first, int | float) else -1


class _NoTotals:
    """The totals a share column divides by; sorting by a share is sorting by the figure itself."""

    def __getattr__(self, _: str) -> int:
        return 1


_NO_TOTALS: Any = _NoTotals()


def table_data(inputs: ReportInputs) -> dict[str, Any]:
    """The table's columns and rows for the page's script: for each row its name, type, depth, parent, whether
    it is a block, how many layers it stands for, the cells' text and their sort values."""
    result = inputs.result
    keys = table_columns(inputs)
    columns = [LAYER_COLUMNS[key] for key in keys]
    rows = []
    for tree_row in tree_rows(result, inputs.training):
        row = tree_row.row
        rows.append(
            [
                row.name,
                row.kind,
                row.depth,
                tree_row.parent,
                int(tree_row.is_block),
                row.layers,
                [column.text(row, result.totals).strip() for column in columns],
                [_json_safe(sort_value(key, row)) for key in keys],
            ]
        )
    return {
        "columns": [{"key": column.key, "title": column.title, "numeric": column.numeric} for column in columns],
        "rows": rows,
        "collapsed_below": inputs.depth,
    }


def _json_safe(value: SortValue) -> SortValue:
    """JSON has no infinity: a global receptive field sorts above every size as a very large number."""
    return 1e300 if value == float("inf") else value


def document(inputs: ReportInputs) -> dict[str, Any]:
    """The data embedded in the page (and read back by tests): what was analyzed, the totals as in
    `analyze --format json`, and the table."""
    result = inputs.result
    totals = totals_dict(result)
    if inputs.training is not None:
        totals.update(training_totals_dict(inputs.training))
    return {
        "cnncalc_version": __version__,
        "name": result.name,
        "file": result.file,
        "mode": "train" if inputs.training else "infer",
        "input_shape": list(result.input_shape),
        "output_shape": list(result.output_shape),
        "batch": result.totals.batch,
        "dtype": result.dtype,
        "layer_count": len(result.layers),
        "totals": totals,
        "table": table_data(inputs),
    }


def inference_live_bytes(result: AnalysisResult) -> list[int]:
    """Activation bytes live just after each layer runs, in an inference pass (the engine's peak is the largest)."""
    return live_bytes_per_step(
        [row.activation_bytes for row in result.layers],
        [row.input_indices for row in result.layers],
        prod(result.input_shape) * result.dtype_bytes,
        result.output_index,
    )


def kept_for_backward(training: TrainingResult) -> list[int]:
    """Bytes autograd has kept for the backward once each layer has run forward: the running sum of what each
    layer is the first to keep."""
    kept: list[int] = []
    total = 0
    for layer in training.layers:
        total += layer.saved_activation_bytes
        kept.append(total)
    return kept


def chart_rows(inputs: ReportInputs) -> Sequence[DisplayRow]:
    """The rows of the per-layer charts: every layer, or with --depth the rows `analyze --depth` shows."""
    figures = inputs.training.layers if inputs.training else None
    return display_rows(inputs.result, inputs.depth, figures)


def stage_rows(inputs: ReportInputs) -> Sequence[DisplayRow]:
    """The top-level rows (a ResNet's stem layers and its four stages): `analyze --depth 1`."""
    return display_rows(inputs.result, 1)
