"""Printers: where every command's human-readable output is drawn, as plain text or with rich.

A command describes what it shows (tables, label/value pairs, lines) and hands it to the printer chosen by
`printer_for`; the printer fits it to the width (cnncalc.render.layout) and draws it. The plain printer
writes aligned text with no escape sequence and no box drawing; the rich one is imported only when used.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Protocol, TextIO

from cnncalc.render.layout import (
    Column,
    Layout,
    Table,
    cell_lines,
    fit,
    hidden_note,
    pair_lines,
    stacked_lines,
    wrap_words,
)
from cnncalc.render.style import OutputStyle

PLAIN_GAP = 2  # spaces between columns of plain text


class Printer(Protocol):
    width: int | None

    def table(self, table: Table, how_to_show: str = "") -> None:
        """Draw a table fitted to the width; `how_to_show` says how to see columns a short width hides."""

    def pairs(self, pairs: Sequence[tuple[str, str]], title: str = "") -> None:
        """Draw "label  value" lines (the totals of an analysis, one calculator's figures)."""

    def line(self, text: str = "", style: str = "") -> None:
        """Draw one line of text (wrapped at spaces by the terminal, never cut)."""


def printer_for(style: OutputStyle, stream: TextIO | None = None) -> Printer:
    stream = sys.stdout if stream is None else stream
    if style.rich:
        from cnncalc.render.rich_draw import RichPrinter  # rich is imported only when it draws

        return RichPrinter(style.width, stream)
    return PlainPrinter(style.width, stream)


class PlainPrinter:
    def __init__(self, width: int | None, stream: TextIO) -> None:
        self.width = width
        self.stream = stream

    def _write(self, text: str) -> None:
        self.stream.write(text.rstrip() + "\n")

    def _wrapped(self, text: str) -> None:
        """A line of prose, wrapped at spaces to the width (a terminal would break it anywhere, even inside a
        number); indentation is kept on the continuation lines. Only a word wider than the whole terminal (a
        long file path; no figure is that long) is cut."""
        if self.width is None or len(text) <= self.width:
            self._write(text)
            return
        indent = " " * (len(text) - len(text.lstrip(" ")))
        for part in wrap_words(text, self.width, subsequent_indent=indent + "  ", break_long_words=True):
            self._write(part)

    def table(self, table: Table, how_to_show: str = "") -> None:
        for text in plain_table_lines(table, self.width, how_to_show):
            self._wrapped(text)  # rows fit by construction: only the title and the closing note can wrap

    def pairs(self, pairs: Sequence[tuple[str, str]], title: str = "") -> None:
        if title:
            self._wrapped(title)
        for label, value in pair_lines(pairs, self.width):
            self._write(f"{label}  {value}" if label else value)

    def line(self, text: str = "", style: str = "") -> None:
        self._wrapped(text)


def plain_table_lines(table: Table, width: int | None, how_to_show: str = "") -> list[str]:
    """The table as aligned plain text: title, header, a dashed rule, rows; or stacked when too narrow."""
    layout = fit(table, width, PLAIN_GAP)
    lines = [table.title] if table.title else []
    if layout.stacked:
        lines.extend(text for text, _ in stacked_lines(table, width or 80))
        return lines
    columns = [table.columns[index] for index in layout.shown]
    lines.append(_joined([column.title for column in columns], columns, layout))
    lines.append((" " * PLAIN_GAP).join("-" * width for width in layout.widths))
    for row in table.rows:
        cells = [cell_lines(row[index].text, table.columns[index], width) for index, width in _shown(layout)]
        for depth in range(max(len(lines_of_cell) for lines_of_cell in cells)):
            texts = [lines_of_cell[depth] if depth < len(lines_of_cell) else "" for lines_of_cell in cells]
            lines.append(_joined(texts, columns, layout))
    if layout.hidden:
        lines.append(hidden_note(layout.hidden, how_to_show or "widen the terminal, or use --format json"))
    return lines


def _shown(layout: Layout) -> list[tuple[int, int]]:
    return list(zip(layout.shown, layout.widths, strict=True))


def _joined(texts: list[str], columns: list[Column], layout: Layout) -> str:
    parts = [
        text.rjust(width) if column.numeric else text.ljust(width)
        for text, column, width in zip(texts, columns, layout.widths, strict=True)
    ]
    return (" " * PLAIN_GAP).join(parts)
