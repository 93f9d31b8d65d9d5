"""The rich printer: the same tables, pairs and lines as the plain printer, with colour and box drawing.

Tables are fitted by cnncalc.render.layout before rich sees them, with rich's own column spacing, so rich
never has to shrink a column: no figure is ever cut or folded by the terminal layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from cnncalc.render.layout import Table, cell_lines, fit, hidden_note, pair_lines, stacked_lines

RICH_GAP = 3  # " │ " between columns (no outer edge, no edge padding)
UNLIMITED = 100_000  # the console width when the output goes to a pipe or file without COLUMNS


class RichPrinter:
    def __init__(self, width: int | None, stream: TextIO) -> None:
        self.width = width
        # colour was decided by cnncalc.render.style (flags and environment): rich must not decide again
        self.console = Console(
            file=stream,
            width=width or UNLIMITED,
            force_terminal=True,
            no_color=False,
            highlight=False,
            emoji=False,
            markup=False,
            soft_wrap=width is None,
        )

    def table(self, table: Table, how_to_show: str = "") -> None:
        layout = fit(table, self.width, RICH_GAP)
        if table.title:
            self.console.print(Text(table.title, style="bold"))
        if layout.stacked:
            for text, style in stacked_lines(table, self.width or 80):
                self.console.print(Text(text, style=style))
            return
        drawn = RichTable(show_edge=False, pad_edge=False, header_style="bold")
        for index, width in zip(layout.shown, layout.widths, strict=True):
            column = table.columns[index]
            drawn.add_column(
                column.title,
                justify="right" if column.numeric else "left",
                width=width,
                no_wrap=True,
                # never needed, the layout already fits ("ignore" would also drop the right alignment)
                overflow="fold",
                style=column.style or None,
            )
        for row in table.rows:
            cells = []
            for index, width in zip(layout.shown, layout.widths, strict=True):
                cell = row[index]
                column = table.columns[index]
                text = "\n".join(cell_lines(cell.text, column, width))
                cells.append(Text(text, style=cell.style, justify="right" if column.numeric else "left"))
            drawn.add_row(*cells)
        self.console.print(drawn)
        if layout.hidden:
            note = hidden_note(layout.hidden, how_to_show or "widen the terminal, or use --format json")
            self.console.print(Text(note, style="dim"))

    def pairs(self, pairs: Sequence[tuple[str, str]], title: str = "") -> None:
        grid = RichTable.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(no_wrap=True)
        for label, value in pairs:
            grid.add_row(Text(label), Text(value))
        panel = Panel(grid, title=title or None, title_align="left", expand=False)
        unlimited = self.console.options.update_width(UNLIMITED)  # measure the panel's natural width
        if self.width is None or Measurement.get(self.console, unlimited, panel).maximum <= self.width:
            self.console.print(panel)
            return
        if title:
            self.console.print(Text(title, style="bold"))
        for label, value in pair_lines(pairs, self.width):
            line = Text(label, style="bold")
            if label:
                line.append("  ")
            line.append(value)
            self.console.print(line)

    def line(self, text: str = "", style: str = "") -> None:
        self.console.print(Text(text, style=style))
