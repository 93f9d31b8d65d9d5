"""The printer: where every command's human-readable output is drawn, plain or styled.

A command describes what it shows (tables, label/value pairs, lines) and hands it to the printer; the printer
fits it to the width (cnncalc.render.layout) and draws it in one of two looks:

- plain: aligned text, a dashed rule under the header, no escape sequence and no box drawing (pipes, files,
  NO_COLOR);
- styled: colour and box drawing for a terminal (bold headers, ┃/│ column rules, a panel for totals).

Both are drawn here, line by line, with the same layout: a styled table of 100,000 rows costs what a plain
one does (a general-purpose table renderer needs seconds and a gigabyte for that).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from cnncalc.render.layout import (
    Cell,
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

# ANSI select-graphic-rendition codes of the few styles cnncalc uses
_SGR = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33"}


def styled(text: str, style: str) -> str:
    """`text` in `style` ("bold", "bold red", ...) as escape sequences; unknown words are ignored."""
    codes = [_SGR[word] for word in style.split() if word in _SGR]
    if not codes or not text:
        return text
    return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"


@dataclass(frozen=True)
class Look:
    """How table rules and styles are drawn."""

    gap: str  # between cells of the body
    header_gap: str
    rule: str  # the character of the rule under the header
    rule_gap: str  # the rule where a column gap crosses it
    styles: bool


PLAIN = Look(gap="  ", header_gap="  ", rule="-", rule_gap="  ", styles=False)
BOXED = Look(gap=" │ ", header_gap=" ┃ ", rule="━", rule_gap="━╇━", styles=True)


class Printer:
    def __init__(self, width: int | None, stream: TextIO, look: Look) -> None:
        self.width = width
        self.stream = stream
        self.look = look

    def _style(self, text: str, style: str) -> str:
        return styled(text, style) if self.look.styles else text

    def _write(self, text: str) -> None:
        self.stream.write(text.rstrip() + "\n")

    def line(self, text: str = "", style: str = "") -> None:
        """One line of prose, wrapped at spaces to the width (a terminal would break it anywhere, even inside
        a number); indentation is kept on the continuation lines. Only a word wider than the whole terminal (a
        long file path; no figure is that long) is cut."""
        if self.width is None or len(text) <= self.width:
            self._write(self._style(text, style))
            return
        indent = " " * (len(text) - len(text.lstrip(" ")))
        for part in wrap_words(text, self.width, subsequent_indent=indent + "  ", break_long_words=True):
            self._write(self._style(part, style))

    def table(self, table: Table, how_to_show: str = "") -> None:
        """Draw a table fitted to the width; `how_to_show` says how to see columns a short width hides."""
        layout = fit(table, self.width, len(self.look.gap))
        if table.title:
            self.line(table.title, style="bold")
        if layout.stacked:
            for text, style in stacked_lines(table, self.width or 80):
                self._write(self._style(text, style))
            return
        columns = [table.columns[index] for index in layout.shown]
        titles = [Cell(column.title, "bold") for column in columns]
        self._write(self._joined(titles, columns, layout, self.look.header_gap))
        self._write(self.look.rule_gap.join(self.look.rule * width for width in layout.widths))
        shown = _shown(layout)
        widths = layout.widths
        # How each text is justified in its column, chosen once: figures to the right, names to the left.
        justify = [str.rjust if column.numeric else str.ljust for column in columns]
        styled = self.look.styles
        for row in table.rows:
            texts = [row[index].text for index in layout.shown]
            styles = [row[index].style or table.columns[index].style for index in layout.shown] if styled else []
            if all(len(text) <= width for text, width in zip(texts, widths, strict=True)):  # the usual row
                self._write(self._row_line(texts, styles, justify, widths))
                continue
            cells = [
                cell_lines(text, table.columns[index], width) for text, (index, width) in zip(texts, shown, strict=True)
            ]
            for depth in range(max(len(lines) for lines in cells)):
                texts = [lines[depth] if depth < len(lines) else "" for lines in cells]
                self._write(self._row_line(texts, styles, justify, widths))
        if layout.hidden:
            note = hidden_note(layout.hidden, how_to_show or "widen the terminal, or use --format json")
            self.line(note, style="dim")

    def _row_line(
        self, texts: list[str], styles: list[str], justify: list[Callable[[str, int], str]], widths: tuple[int, ...]
    ) -> str:
        """One line of a row: each text justified to its column's width, styled when the look has styles."""
        parts = [align(text, width) for text, align, width in zip(texts, justify, widths, strict=True)]
        if self.look.styles:
            parts = [self._style(part, style) for part, style in zip(parts, styles, strict=True)]
        return self.look.gap.join(parts)

    def _joined(self, cells: list[Cell], columns: list[Column], layout: Layout, gap: str) -> str:
        parts = [
            self._style(cell.text.rjust(width) if column.numeric else cell.text.ljust(width), cell.style)
            for cell, column, width in zip(cells, columns, layout.widths, strict=True)
        ]
        return gap.join(parts)

    def pairs(self, pairs: Sequence[tuple[str, str]], title: str = "") -> None:
        """ "label  value" lines (the totals of an analysis, one calculator's figures); styled, in a panel when
        it fits."""
        lines = pair_lines(pairs, None)
        inner = max(len(f"{label}  {value}") for label, value in lines) if lines else 0
        if self.look.styles and title and (self.width is None or inner + 4 <= self.width):
            self._panel(lines, title, max(inner, len(title) + 3))
            return
        if title:
            self.line(title, style="bold")
        for label, value in pair_lines(pairs, self.width):
            if not label:  # a value on lines of its own, under a label too long to share its line
                self._write(value)
            elif label.strip():
                self._write(f"{self._style(label, 'bold')}  {value}")
            else:  # the continuation of a wrapped value
                self._write(f"{label}  {value}")

    def _panel(self, lines: list[tuple[str, str]], title: str, inner: int) -> None:
        self._write(f"╭─ {self._style(title, 'bold')} " + "─" * (inner - len(title) - 1) + "╮")
        for label, value in lines:
            text = f"{label}  {value}"
            self._write(f"│ {self._style(label, 'bold')}  {value}{' ' * (inner - len(text))} │")
        self._write("╰" + "─" * (inner + 2) + "╯")


def _shown(layout: Layout) -> list[tuple[int, int]]:
    return list(zip(layout.shown, layout.widths, strict=True))


def printer_for(style: OutputStyle, stream: TextIO | None = None) -> Printer:
    return Printer(style.width, sys.stdout if stream is None else stream, BOXED if style.rich else PLAIN)


def plain_table_lines(table: Table, width: int | None, how_to_show: str = "") -> list[str]:
    """The table as plain text lines, as the plain printer draws it (for tests and callers that need text)."""
    import io

    buffer = io.StringIO()
    Printer(width, buffer, PLAIN).table(table, how_to_show)
    return buffer.getvalue().splitlines()
