"""The rich terminal table and totals panel. Imported only when a table is printed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cnncalc.engine.result import AnalysisResult
from cnncalc.render.machine import summary_lines
from cnncalc.render.units import grouped
from cnncalc.render.view import Column, DisplayRow, field_text, shape_text

if TYPE_CHECKING:
    from cnncalc.conventions import NetworkCount

_NUMERIC = {Column.PARAMS, Column.MACS, Column.FLOPS}


def layer_table(result: AnalysisResult, rows: list[DisplayRow]) -> Table:
    table = Table(
        title=Text(f"{result.name}  ({result.file})"),  # Text: a spec's name is never read as rich markup
        title_justify="left",
        header_style="bold",
        show_edge=False,
        pad_edge=False,
    )
    for column in Column:
        table.add_column(
            column.value,
            justify="right" if column in _NUMERIC else "left",
            overflow="fold",
            no_wrap=column is not Column.NAME,
        )
    for row in rows:
        # Indent by nesting depth; the full path stays visible so rows can be found in the spec.
        name = Text("  " * (row.depth - 1) + row.name)
        kind = row.kind if row.layers == 1 else f"{row.kind} ({row.layers} layers)"
        table.add_row(
            name,
            kind,
            shape_text(row.output_shape),
            grouped(row.params) if row.params else "-",
            grouped(row.macs) if row.macs else "-",
            grouped(row.flops) if row.flops else "-",
            field_text(row.field, row.global_field),
        )
    return table


def totals_panel(result: AnalysisResult, headline: NetworkCount | None = None) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in summary_lines(result, headline):
        grid.add_row(label, value)
    return Panel(grid, title="Totals", title_align="left", expand=False)


def print_analysis(
    console: Console, result: AnalysisResult, rows: list[DisplayRow], headline: NetworkCount | None = None
) -> None:
    console.print(layer_table(result, rows))
    console.print(totals_panel(result, headline))
    console.print(Text(f"Convention: {result.convention}", style="dim"))
    for issue in result.warnings:
        console.print(Text(f"warning: {issue.location}: {issue.message}", style="yellow"))
        if issue.hint:
            console.print(Text(f"    hint: {issue.hint}", style="dim"))
