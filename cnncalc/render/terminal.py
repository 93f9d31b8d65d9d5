"""The rich table and totals panel, for a terminal. Imported only when one is printed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cnncalc.engine.result import AnalysisResult
from cnncalc.render.machine import summary_lines
from cnncalc.render.view import NUMERIC_COLUMNS, Column, DisplayRow, row_cells

if TYPE_CHECKING:
    from cnncalc.conventions import NetworkCount

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
            justify="right" if column in NUMERIC_COLUMNS else "left",
            overflow="fold",
            no_wrap=column is not Column.NAME,
        )
    for row in rows:
        table.add_row(*(Text(cell) for cell in row_cells(row)))  # Text: never read as rich markup
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
