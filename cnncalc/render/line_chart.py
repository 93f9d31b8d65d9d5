"""Line charts drawn with characters, for the terminal: one figure against one parameter, a line per series.

Plain text (pipes, files, NO_COLOR) uses ASCII only (`*`, `o`, `|`, `-`); a terminal gets Unicode markers,
axes and colour. The chart fits the width given (80 columns where there is none, as every command's output).
The same `Chart` is what cnncalc.render.plot_file draws as PNG or SVG.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from cnncalc.render.printer import styled
from cnncalc.render.units import human, human_bytes

MAX_SERIES = 8
PLAIN_MARKERS = ("*", "o", "+", "x", "#", "@", "%", "&")
RICH_MARKERS = ("●", "■", "▲", "◆", "★", "◉", "▼", "✚")
COLOURS = ("green", "yellow", "red", "bold", "green bold", "yellow bold", "red bold", "dim")
PLOT_ROWS = 13  # rows of the plotting area: ticks at 0, 1/4, 1/2, 3/4 and 1 of the range
DEFAULT_WIDTH = 80


@dataclass(frozen=True)
class Series:
    label: str  # "" for the only line of a chart
    points: tuple[tuple[float, int], ...]  # (x, y), in the order drawn


@dataclass(frozen=True)
class Chart:
    title: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    y_bytes: bool = False  # figures in bytes (KiB, MiB, ...), else counts (K, M, G)


def y_text(value: float, in_bytes: bool) -> str:
    whole = round(value)
    return human_bytes(whole) if in_bytes else human(whole)


def x_text(value: float) -> str:
    return f"{value:g}"


def chart_lines(chart: Chart, width: int | None, styles: bool) -> list[str]:
    """The chart as lines of at most `width` characters (DEFAULT_WIDTH where None)."""
    width = width or DEFAULT_WIDTH
    markers = RICH_MARKERS if styles else PLAIN_MARKERS
    xs = [x for series in chart.series for x, _ in series.points]
    ys = [y for series in chart.series for _, y in series.points]
    low, high = min(0, min(ys)), max(ys)
    if high == low:  # one value everywhere: a flat line in the middle, labelled with it
        low, high = (low - 1, high + 1) if high == 0 else (0, 2 * high) if high > 0 else (2 * low, 0)
    ticks = {round(index * (PLOT_ROWS - 1) / 4): low + (high - low) * index / 4 for index in range(5)}
    labels = {row: y_text(value, chart.y_bytes) for row, value in ticks.items()}
    label_width = max(len(text) for text in labels.values())
    plot_width = max(10, width - label_width - 2)
    x_low, x_high = min(xs), max(xs)

    def column(x: float) -> int:
        return (plot_width - 1) // 2 if x_high == x_low else round((x - x_low) / (x_high - x_low) * (plot_width - 1))

    def row(y: float) -> int:
        return round((y - low) / (high - low) * (PLOT_ROWS - 1))

    cells: list[list[tuple[str, int]]] = [[(" ", -1)] * plot_width for _ in range(PLOT_ROWS)]
    dot = "·" if styles else "."
    for number, series in enumerate(chart.series):
        placed = [(column(x), row(y)) for x, y in series.points]
        for (c1, r1), (c2, r2) in itertools.pairwise(placed):  # the segments first, the markers over them
            steps = max(abs(c2 - c1), abs(r2 - r1))
            for step in range(1, steps):
                c = c1 + round((c2 - c1) * step / steps)
                r = r1 + round((r2 - r1) * step / steps)
                if cells[r][c][0] == " ":
                    cells[r][c] = (dot, number)
        for c, r in placed:
            cells[r][c] = (markers[number], number)

    def paint(text: str, number: int) -> str:
        return styled(text, COLOURS[number]) if styles and number >= 0 else text

    lines = [styled(chart.title, "bold") if styles else chart.title]
    axis, corner, tick = ("│", "└", "┤") if styles else ("|", "+", "+")
    for r in range(PLOT_ROWS - 1, -1, -1):
        label = labels.get(r, "").rjust(label_width)
        body = "".join(paint(char, number) for char, number in cells[r])
        lines.append(f"{label} {tick if r in labels else axis}{body}".rstrip())
    lines.append(" " * label_width + " " + corner + ("─" if styles else "-") * plot_width)
    lines.append(" " * (label_width + 2) + _x_ticks(x_low, x_high, plot_width))
    lines.append(" " * (label_width + 2) + chart.x_label.center(plot_width).rstrip())
    legend = [f"{paint(markers[number], number)} {series.label}" for number, series in enumerate(chart.series)]
    if any(series.label for series in chart.series):
        lines.extend(_wrapped(legend, [len(series.label) + 2 for series in chart.series], width))
    return [line.rstrip() for line in lines]


def _x_ticks(low: float, high: float, width: int) -> str:
    """The first, middle and last x values under the axis, each centred on its column where it fits."""
    if high == low:
        return x_text(low).center(width).rstrip()
    texts = [x_text(low), x_text((low + high) / 2), x_text(high)]
    line = [" "] * width
    for text, position in zip(texts, (0, (width - 1) // 2, width - 1), strict=True):
        start = min(max(0, position - len(text) // 2), width - len(text))
        if all(character == " " for character in line[max(0, start - 1) : start + len(text) + 1]):
            line[start : start + len(text)] = list(text)
    return "".join(line).rstrip()


def _wrapped(items: list[str], lengths: list[int], width: int) -> list[str]:
    """Legend entries side by side, on as many lines as the width needs (`lengths`: their visible sizes)."""
    lines: list[str] = []
    current, used = "", 0
    for item, length in zip(items, lengths, strict=True):
        if used and used + 3 + length > width:
            lines.append(current)
            current, used = "", 0
        current += ("   " if used else "") + item
        used += (3 if used else 0) + length
    if current:
        lines.append(current)
    return lines
