"""`cnncalc diff` in every format: the layers that differ (one line per figure that differs, first network
then second) and the totals side by side with the change and the ratio.

Tables and Markdown show the differences only; JSON and CSV carry every layer of the merged order with its
status, so that a program can follow the alignment. No rich import on the machine-readable paths.
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from typing import Any

from cnncalc import __version__
from cnncalc.compare.networks import (
    ComparedRow,
    LayerChange,
    NetworkDiff,
    Status,
)
from cnncalc.engine.result import AnalysisResult
from cnncalc.render.layout import Cell, Column, Fit, Table
from cnncalc.render.markdown import markdown_table
from cnncalc.render.printer import Printer
from cnncalc.render.units import grouped
from cnncalc.render.view import field_axes, field_text, number_text, shape_text

MARKS = {Status.added: "+", Status.removed: "-", Status.changed: "~", Status.unchanged: " "}
STYLES = {Status.added: "green", Status.removed: "red", Status.changed: "yellow", Status.unchanged: ""}

# How each compared figure of a layer is titled and written in tables (input_shapes: only where nothing else
# of the layer changed, since a changed input shows as the previous layer's changed output).
FIGURE_TITLES = {
    "type": "type",
    "input_shapes": "input",
    "output_shape": "output",
    "params": "params",
    "trainable_params": "trainable",
    "buffers": "buffers",
    "macs": "MACs",
    "activation_bytes": "memory B",
    "receptive_field": "RF",
    "layers": "layers",
}
_COUNTS = {"params", "trainable_params", "buffers", "macs", "activation_bytes", "layers"}
# The figures an added or removed layer is shown with (counts only where they are not zero).
_PRESENCE_FIGURES = ("type", "output_shape", "params", "macs")

TOTAL_TITLES = {
    "layers": "layers",
    "params": "params",
    "trainable_params": "trainable params",
    "buffers": "buffers",
    "macs": "MACs",
    "flops": "FLOPs",
    "param_bytes": "param bytes",
    "buffer_bytes": "buffer bytes",
    "activation_bytes": "activation bytes",
    "peak_activation_bytes": "peak act. bytes",
}


def _figure_text(key: str, row: ComparedRow) -> str:
    if key in _COUNTS:
        return grouped(getattr(row, key))
    if key == "type":
        return row.kind
    if key == "output_shape":
        return shape_text(row.output_shape)
    if key == "input_shapes":
        return " + ".join(shape_text(shape) for shape in row.input_shapes)
    return field_text(row.field, row.global_field)


def signed(value: int) -> str:
    """+1,234 / -1,234 / 0: a change, with its sign."""
    return f"{value:+,}"


def ratio_text(ratio: Fraction | None) -> str:
    """b / a in 4 significant digits ('3.988x'); '-' where a is 0."""
    return "-" if ratio is None else f"{float(ratio):.4g}x"


def _shown_figures(change: LayerChange) -> list[str]:
    if change.status in (Status.added, Status.removed):
        row = change.a or change.b
        assert row is not None
        return [key for key in _PRESENCE_FIGURES if key not in _COUNTS or getattr(row, key)]
    shown = [key for key in change.changed if key != "input_shapes"]
    assert change.a is not None and change.b is not None
    if all(row.trainable_params == row.params for row in (change.a, change.b)) and "trainable_params" in shown:
        shown.remove("trainable_params")  # every parameter trainable on both sides: the params line says it
    return shown or list(change.changed)


def layer_difference_table(diff: NetworkDiff) -> Table:
    """One line per figure that differs: layer (marked + added, - removed, ~ changed), figure, A, B, change."""
    table = Table(
        [
            Column("Layer", fit=Fit.SHORTEN),
            Column("Figure"),
            Column("A", numeric=True),
            Column("B", numeric=True),
            Column("Change", numeric=True, optional=1),
        ]
    )
    for change in diff.differences:
        style = STYLES[change.status]
        name = Cell(f"{MARKS[change.status]} {change.name}", style)
        for key in _shown_figures(change):
            old = "" if change.a is None else _figure_text(key, change.a)
            new = "" if change.b is None else _figure_text(key, change.b)
            delta = ""
            if key in _COUNTS and change.a is not None and change.b is not None:
                delta = signed(getattr(change.b, key) - getattr(change.a, key))
            table.add_row(name, FIGURE_TITLES[key], old, new, delta)
    return table


def totals_table(diff: NetworkDiff) -> Table:
    """The networks' settings and totals side by side, with the change (B - A) and the ratio (B / A)."""
    table = Table(
        [
            Column("Total"),
            Column("A", numeric=True),
            Column("B", numeric=True),
            Column("Change", numeric=True),
            Column("Ratio", numeric=True, optional=1),
        ]
    )
    for setting in diff.settings:
        old, new = _setting_text(setting.key, setting.a), _setting_text(setting.key, setting.b)
        title = {
            "input_shape": "input",
            "output_shape": "output",
            "dtype": "dtype",
            "receptive_field": "RF",
            "vars": "vars",
        }
        table.add_row(title[setting.key], old, new, "" if setting.same else "changed", "")
    for total in diff.totals:
        moved = total.delta != 0
        table.add_row(
            TOTAL_TITLES[total.key],
            grouped(total.a),
            grouped(total.b),
            signed(total.delta) if moved else "",
            ratio_text(total.ratio) if moved else "",
        )
    return table


def _setting_text(key: str, value: object) -> str:
    if key in ("input_shape", "output_shape"):
        assert isinstance(value, tuple)
        return shape_text(value)
    if key == "receptive_field":
        assert value is None or isinstance(value, tuple)
        return field_text(value, False, with_start=True) if value else "-"
    if key == "vars":
        assert isinstance(value, dict)
        return " ".join(f"{name}={variable}" for name, variable in value.items())
    return str(value)


def _side_line(label: str, result: AnalysisResult) -> str:
    return f"{label}: {result.name} ({result.file}) at {shape_text(result.input_shape)}, {result.dtype}"


def summary_line(diff: NetworkDiff) -> str:
    """What differs, in one line ('no differences' when the networks are equal)."""
    unit = "layers" if diff.depth is None else f"rows (blocks collapsed to depth {diff.depth})"
    counts = ", ".join(f"{diff.count(status)} {status.value}" for status in Status)
    if diff.equal:
        return f"no differences: {counts} {unit}, same totals"
    return f"{unit} compared by path: {counts}"


def print_diff(printer: Printer, diff: NetworkDiff, totals_only: bool = False) -> None:
    printer.line(_side_line("A", diff.a), style="bold")
    printer.line(_side_line("B", diff.b), style="bold")
    printer.line(summary_line(diff))
    if diff.differences and not totals_only:
        printer.line()
        printer.table(layer_difference_table(diff), "widen the terminal, or use --format json for every figure")
    printer.line()
    printer.table(totals_table(diff), "widen the terminal, or use --format json for every figure")


def diff_markdown(diff: NetworkDiff, totals_only: bool = False) -> str:
    lines = [f"## {diff.a.name} → {diff.b.name}", "", f"- {_side_line('A', diff.a)}"]
    lines += [f"- {_side_line('B', diff.b)}", f"- {summary_line(diff)}", ""]
    if diff.differences and not totals_only:
        lines += [*markdown_table(layer_difference_table(diff)), ""]
    lines += markdown_table(totals_table(diff))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ machine-readable


def _network_dict(result: AnalysisResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "file": result.file,
        "input_shape": list(result.input_shape),
        "output_shape": list(result.output_shape),
        "batch": result.totals.batch,
        "dtype": result.dtype,
        "receptive_field": field_axes(result.receptive_field),
        "receptive_field_layer": result.receptive_field_layer,
    }


def _variables(diff: NetworkDiff, side: int) -> dict[str, Any]:
    """The spec variables set on either side, at the value of this side (empty where none was set)."""
    for setting in diff.settings:
        if setting.key == "vars":
            values = (setting.a, setting.b)[side]
            assert isinstance(values, dict)
            return values
    return {}


def _figures_dict(row: ComparedRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "type": row.kind,
        "input_shapes": [list(shape) for shape in row.input_shapes],
        "output_shape": list(row.output_shape),
        "params": row.params,
        "trainable_params": row.trainable_params,
        "buffers": row.buffers,
        "macs": row.macs,
        "flops": 2 * row.macs,
        "activation_bytes": row.activation_bytes,
        "receptive_field": None if row.global_field else field_axes(row.field),
        "global_receptive_field": row.global_field,
        "layers": row.layers,
    }


def _layer_record(change: LayerChange) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": change.name,
        "status": change.status.value,
        "changed": list(change.changed),
        "a": _figures_dict(change.a),
        "b": _figures_dict(change.b),
    }
    if change.a is not None and change.b is not None:
        record["delta"] = {
            key: getattr(change.b, key) - getattr(change.a, key) for key in change.changed if key in _COUNTS
        }
    return record


def _plain_ratio(ratio: Fraction | None) -> float | None:
    return None if ratio is None else float(ratio)


def diff_document(diff: NetworkDiff, totals_only: bool = False) -> dict[str, Any]:
    """The JSON document of `cnncalc diff --format json` (the README lists its keys)."""
    document: dict[str, Any] = {
        "cnncalc_version": __version__,
        "equal": diff.equal,
        "depth": diff.depth,
        "a": {**_network_dict(diff.a), "vars": _variables(diff, 0)},
        "b": {**_network_dict(diff.b), "vars": _variables(diff, 1)},
        "summary": {status.value: diff.count(status) for status in Status},
        "changed_settings": [setting.key for setting in diff.settings if not setting.same],
        "totals": {
            total.key: {"a": total.a, "b": total.b, "delta": total.delta, "ratio": _plain_ratio(total.ratio)}
            for total in diff.totals
        },
    }
    if not totals_only:
        document["layers"] = [_layer_record(change) for change in diff.layers]
    return document


def _csv_values(row: ComparedRow | None) -> dict[str, str | int]:
    if row is None:
        return {}
    figures = _figures_dict(row)
    assert figures is not None
    values: dict[str, str | int] = {
        key: value for key, value in figures.items() if isinstance(value, int | str) and not isinstance(value, bool)
    }
    values["input_shapes"] = _figure_text("input_shapes", row)
    values["output_shape"] = shape_text(row.output_shape)

    def axes(attribute: str) -> str:
        return "x".join(number_text(getattr(axis, attribute)) for axis in row.field or ())

    values["rf_size"] = "global" if row.global_field else axes("size")
    values["rf_jump"] = "" if row.global_field else axes("jump")
    values["rf_start"] = "" if row.global_field else axes("start")
    return values


_CSV_FIGURES = (
    "type",
    "input_shapes",
    "output_shape",
    "params",
    "trainable_params",
    "buffers",
    "macs",
    "flops",
    "activation_bytes",
    "rf_size",
    "rf_jump",
    "rf_start",
    "layers",
)


def diff_csv(diff: NetworkDiff, totals_only: bool = False) -> str:
    """Every layer of the merged order: status, name, the figures that changed (`;`-separated), then each
    figure in A and in B (empty where the layer is absent). With `totals_only`, one row per total instead."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if totals_only:
        writer.writerow(["total", "a", "b", "delta", "ratio"])
        for total in diff.totals:
            writer.writerow([total.key, total.a, total.b, total.delta, _plain_ratio(total.ratio) or ""])
        return buffer.getvalue()
    writer.writerow(["status", "name", "changed", *(f"{side}_{key}" for key in _CSV_FIGURES for side in "ab")])
    for change in diff.layers:
        old, new = _csv_values(change.a), _csv_values(change.b)
        cells = [cell for key in _CSV_FIGURES for cell in (old.get(key, ""), new.get(key, ""))]
        writer.writerow([change.status.value, change.name, ";".join(change.changed), *cells])
    return buffer.getvalue()
