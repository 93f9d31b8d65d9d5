"""Tables that fit the width they are given without ever cutting a figure.

A table is columns and rows of text cells. Before it is drawn it is fitted to the available width:

1. names (`Fit.SHORTEN`) are shortened in the middle with a visible "…", free text (`Fit.WRAP`) is wrapped
   at spaces; figures and shapes (`Fit.WHOLE`) are never touched;
2. if that is not enough, the optional columns are dropped, least important first, and the caller says
   which ones in one line;
3. if even the essential columns do not fit, each row is printed as a small stack of "title value" items.

This module only lays text out; cnncalc.render.printer draws it, plain or styled.
"""

from __future__ import annotations

import enum
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

ELLIPSIS = "…"
_GLUE = "\u00a0"  # holds a figure and its unit together while text is wrapped
_FIGURE_AND_UNIT = re.compile(r"(?<=\d) (?=(?:[KMGTP]|[KMGT]iB|B|ms|s)\b)")


def wrap_words(text: str, width: int, subsequent_indent: str = "", break_long_words: bool = False) -> list[str]:
    """Wrap prose at spaces, never inside a number, and never between a figure and its unit ("131.67 KiB"
    stays on one line). A word longer than the width gets a line of its own, or with `break_long_words` is
    cut into lines (for a file path wider than the whole terminal: the terminal would cut it anyway)."""
    glued = _FIGURE_AND_UNIT.sub(_GLUE, text)
    lines = textwrap.wrap(
        glued, width, subsequent_indent=subsequent_indent, break_long_words=break_long_words, break_on_hyphens=False
    )
    return [line.replace(_GLUE, " ") for line in lines] or [""]


def longest_word(text: str) -> int:
    """The widest piece `wrap_words` never breaks."""
    return max((len(word) for word in _FIGURE_AND_UNIT.sub(_GLUE, text).split(" ")), default=0)


class Fit(enum.Enum):
    WHOLE = "whole"  # figures, shapes, short keywords: shown whole or not at all
    SHORTEN = "shorten"  # names: may be cut in the middle, with a visible mark
    WRAP = "wrap"  # free text: may wrap onto several lines at spaces


@dataclass(frozen=True)
class Column:
    title: str
    numeric: bool = False  # right-aligned
    optional: int = 0  # 0: always shown; otherwise dropped when the width is short, highest number first
    fit: Fit = Fit.WHOLE
    style: str = ""  # rich style of the cells (ignored by plain text)


class Cell(NamedTuple):  # a named tuple: a 100,000-row table makes 700,000 of them
    text: str
    style: str = ""


@dataclass
class Table:
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    title: str = ""

    def add_row(self, *cells: str | Cell) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"a row of {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append([cell if isinstance(cell, Cell) else Cell(cell) for cell in cells])


@dataclass(frozen=True)
class Layout:
    """How a table is drawn at one width: which columns, how wide, or stacked."""

    shown: tuple[int, ...]  # indices of the columns drawn, in order
    widths: tuple[int, ...]  # one per shown column
    hidden: tuple[str, ...]  # titles of the optional columns left out
    stacked: bool = False


MIN_SHORTENED = 8  # a shortened name keeps at least this many characters
COMFORTABLE_SHORTENED = 18  # names are shortened to this before an optional column is dropped
MIN_WRAPPED = 16  # wrapped text keeps at least this width
COMFORTABLE_WRAPPED = 30


def natural_width(table: Table, index: int) -> int:
    column = table.columns[index]
    return max([len(column.title), *(len(row[index].text) for row in table.rows)])


def minimum_width(table: Table, index: int, comfortable: bool = False) -> int:
    """The narrowest a column may be drawn: its natural width for figures; less for names and text."""
    column = table.columns[index]
    natural = natural_width(table, index)
    if column.fit is Fit.SHORTEN:
        return min(natural, max(COMFORTABLE_SHORTENED if comfortable else MIN_SHORTENED, len(column.title)))
    if column.fit is Fit.WRAP:
        longest = max((longest_word(row[index].text) for row in table.rows), default=0)
        return min(natural, max(COMFORTABLE_WRAPPED if comfortable else MIN_WRAPPED, len(column.title), longest))
    return natural


def fit(table: Table, width: int | None, gap: int) -> Layout:
    """Choose columns and widths so that the table is at most `width` characters wide (None: no limit).

    Names and text are narrowed to a comfortable width first; then optional columns are dropped, least
    important first; then the essential columns' names and text are narrowed as far as they go; failing
    that, the table is stacked.
    """
    everything = list(range(len(table.columns)))
    naturals = [natural_width(table, index) for index in everything]
    if width is None:
        return Layout(tuple(everything), tuple(naturals), ())
    shown = list(everything)
    hidden: list[str] = []
    while True:
        widths = _shrink(table, shown, naturals, width - gap * (len(shown) - 1), comfortable=True)
        if widths is not None:
            return Layout(tuple(shown), tuple(widths), tuple(hidden))
        optional = [index for index in shown if table.columns[index].optional]
        if not optional:
            break
        # the least important optional column goes first; among equals, the rightmost
        dropped = max(optional, key=lambda index: (table.columns[index].optional, index))
        shown.remove(dropped)
        hidden.append(table.columns[dropped].title)
    widths = _shrink(table, shown, naturals, width - gap * (len(shown) - 1), comfortable=False)
    if widths is not None:
        return Layout(tuple(shown), tuple(widths), tuple(hidden))
    return Layout(tuple(everything), tuple(naturals), (), stacked=True)


def _shrink(table: Table, shown: list[int], naturals: list[int], budget: int, comfortable: bool) -> list[int] | None:
    """Narrow the shortenable and wrappable columns until the widths sum to `budget`; None if they cannot."""
    widths = [naturals[index] for index in shown]
    excess = sum(widths) - budget
    if excess <= 0:
        return widths
    floors = [minimum_width(table, index, comfortable) for index in shown]
    if sum(floors) > budget:
        return None
    while excess > 0:  # take one character at a time from the widest column that can still give one
        candidates = [position for position, floor in enumerate(floors) if widths[position] > floor]
        widest = max(candidates, key=lambda position: widths[position])
        widths[widest] -= 1
        excess -= 1
    return widths


def shorten_middle(text: str, width: int) -> str:
    """'layer4.2.downsample.0' in 14 characters -> 'layer4…mple.0': both ends stay readable."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    head = (width - 1) // 2
    tail = width - 1 - head
    return text[:head] + ELLIPSIS + text[len(text) - tail :]


def cell_lines(text: str, column: Column, width: int) -> list[str]:
    """The lines one cell takes at `width`."""
    if len(text) <= width:
        return [text]
    if column.fit is Fit.SHORTEN:
        return [_shorten_indented(text, width)]
    if column.fit is Fit.WRAP:
        return wrap_words(text, width)
    return [text]


def _shorten_indented(text: str, width: int) -> str:
    """Shorten a name but keep its indentation (nesting depth) while there is room for it."""
    if len(text) <= width:
        return text
    name = text.lstrip(" ")
    indent = len(text) - len(name)
    indent = max(0, min(indent, width - MIN_SHORTENED))
    return " " * indent + shorten_middle(name, width - indent)


def stacked_lines(table: Table, width: int) -> list[tuple[str, str]]:
    """Each row as a head line (its first cell) and "title value" items packed into lines below it.

    Returns (text, style) pairs; a figure or shape is never split across lines.
    """
    lines: list[tuple[str, str]] = []
    width = max(width, 20)
    for row in table.rows:
        head = row[0]
        lines.append((shorten_middle(head.text.strip(), width), head.style or "bold"))
        line = ""
        for column, cell in zip(table.columns[1:], row[1:], strict=True):
            if not cell.text:
                continue
            item = f"{column.title} {cell.text}"
            if line and len(line) + 3 + len(item) > width:
                lines.append((line, ""))
                line = ""
            if len("  " + item) > width and column.fit is not Fit.WHOLE:  # the line was flushed just above
                if column.fit is Fit.SHORTEN:
                    lines.append(
                        ("  " + column.title + " " + shorten_middle(cell.text, width - 3 - len(column.title)), "")
                    )
                else:  # text: wrapped, and a word wider than the whole line (a dotted name) is cut
                    wrapped = wrap_words(item, width - 2, break_long_words=True)
                    lines.extend(("  " + part, "") for part in wrapped)
                continue
            line = f"{line} · {item}" if line else "  " + item
        if line:
            lines.append((line, ""))
    return lines


def hidden_note(hidden: Sequence[str], how_to_show: str) -> str:
    """The one line that says which columns a short width left out, and how to see them."""
    names = ", ".join(hidden)
    return f"Not shown at this width: {names} ({how_to_show})."


def pair_lines(pairs: Sequence[tuple[str, str]], width: int | None) -> list[tuple[str, str]]:
    """ "Label  value" lines, labels aligned; a value too long for the line wraps at spaces under itself, or
    starts on the next line when even its longest word does not fit beside the label.

    Returns (label, value) pairs per output line (label empty on continuation lines).
    """
    if not pairs:
        return []
    label_width = max(len(label) for label, _ in pairs)
    out: list[tuple[str, str]] = []
    for label, value in pairs:
        if width is None or label_width + 2 + len(value) <= width:
            out.append((label.ljust(label_width), value))
            continue
        room = width - label_width - 2
        longest = longest_word(value)
        if longest <= room:
            parts = wrap_words(value, room)
            out.append((label.ljust(label_width), parts[0]))
            out.extend((" " * label_width, part) for part in parts[1:])
        else:
            out.append((label, ""))
            parts = wrap_words(value, max(width - 2, longest))
            out.extend(("", "  " + part) for part in parts)
    return out
