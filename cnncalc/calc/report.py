"""Plain-text reports of a calculation: the headline figures of a layer, or a table for a stack.

Every figure is read from the engine's result; this module only arranges them.
"""

from __future__ import annotations

from collections.abc import Mapping

from cnncalc.calc.explain_field import field_summary
from cnncalc.calc.geometry import input_shape_of
from cnncalc.calc.worked import shape_text
from cnncalc.engine.result import AnalysisResult
from cnncalc.render.layout import Column, Fit, Table
from cnncalc.render.units import grouped, human, human_bytes
from cnncalc.render.view import field_text


def figures(result: AnalysisResult, rows: list[int] | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs: shapes, params, buffers, MACs, FLOPs, output memory, receptive field."""
    chosen = [result.layers[index] for index in rows] if rows is not None else list(result.layers)
    params = sum(row.params for row in chosen)
    buffers = sum(row.buffers for row in chosen)
    macs = sum(row.macs for row in chosen)
    last = chosen[-1]
    batch = result.totals.batch
    per_image = f"; {grouped(macs // batch)} per image" if batch > 1 and macs else ""
    lines = [
        ("input", shape_text(input_shape_of(result, chosen[0]))),
        ("output", shape_text(last.output_shape)),
        ("params", f"{grouped(params)}{_about(params)}"),
    ]
    index_buffers = sum(row.index_buffers for row in chosen)
    if buffers and not index_buffers:
        lines.append(("buffers", f"{grouped(buffers)} (BatchNorm running statistics, not params)"))
    elif buffers:
        running = f"{grouped(buffers - index_buffers)} running statistics, " if buffers > index_buffers else ""
        lines.append(
            ("buffers", f"{grouped(buffers)} ({running}{grouped(index_buffers)} int64 index entries, not params)")
        )
    lines.append(("MACs", f"{grouped(macs)}{_about(macs)}{per_image}"))
    if macs:
        lines.append(("FLOPs", f"{grouped(2 * macs)}{_about(2 * macs)} = 2 x MACs"))
    lines.append(
        (
            "output memory",
            f"{grouped(last.activation_bytes)} bytes ({human_bytes(last.activation_bytes)}, {result.dtype})",
        )
    )
    if last.global_field:
        lines.append(("receptive field", "global (every unit sees the whole input)"))
    elif last.field:
        lines.append(("receptive field", field_summary(last.field)))
    elif result.receptive_field:
        source = next(row for row in result.layers if row.path == result.receptive_field_layer)
        lines.append(("receptive field", f"{field_summary(result.receptive_field)}, of the {source.kind} units"))
    return lines


def _about(value: int) -> str:
    return f" ({human(value)})" if value >= 1000 else ""


def indented(pairs: list[tuple[str, str]], indent: int = 2) -> list[tuple[str, str]]:
    """Label/value pairs shown under a heading: the labels indented."""
    return [(" " * indent + label, value) for label, value in pairs]


def stack_table(result: AnalysisResult, labels: Mapping[int, str]) -> Table:
    """One row per layer: label as written, output shape, params, MACs, receptive field size/jump."""
    table = Table(
        [
            Column("#", numeric=True),
            Column("layer", fit=Fit.SHORTEN),
            Column("output"),
            Column("params", numeric=True),
            Column("MACs", numeric=True),
            Column("RF size/jump"),
        ]
    )
    for row in result.layers:
        table.add_row(
            str(row.index + 1),
            labels.get(row.index, row.path),
            shape_text(row.output_shape),
            grouped(row.params) if row.params else "-",
            grouped(row.macs) if row.macs else "-",
            field_text(row.field, row.global_field),
        )
    return table
