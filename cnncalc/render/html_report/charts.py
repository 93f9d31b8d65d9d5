"""Charts of the HTML report, drawn as inline SVG text: no chart library, no script, no network.

Each function takes numbers already computed by the engine (no arithmetic on the network here, only the
geometry of the picture) and returns one `<svg>` element. A chart never draws more than `MAX_MARKS` bars or
points: longer series are binned in network order (bars summed, lines keep each bin's largest value, so a
peak is never smoothed away) and the caption says how many layers a mark stands for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

MAX_MARKS = 600  # enough to see the shape of any network; keeps a 10,000-layer report small and quick to draw
WIDTH = 960
HEIGHT = 240
LEFT = 72  # room for the y-axis labels
RIGHT = 16
TOP = 28  # room for the legend above the plot
BOTTOM = 26
PALETTE = ("#3b6fb6", "#d9822b", "#2f9e6f", "#b8457e")

Number = int | float
Formatter = Callable[[Number], str]


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Number | None]  # None: no value at this position (a layer without a receptive field)


@dataclass(frozen=True)
class Marker:
    """A horizontal line across the plot at `value` (the input size on the receptive-field chart)."""

    label: str
    value: Number


def _nice_step(span: float, binary: bool = False, ticks: int = 4) -> float:
    """A round step for about `ticks` ticks: 1, 2, 2.5 or 5 times a power of ten, or for bytes (`binary`) of
    ten in units of KiB, MiB, GiB, ... so the labels read 2 MiB rather than 2.38 MiB."""
    raw = span / ticks
    unit = 1024 ** max(0, math.floor(math.log(raw, 1024))) if binary and raw >= 1 else 1
    magnitude = 10 ** math.floor(math.log10(raw / unit))
    factor = next(factor for factor in (1, 2, 2.5, 5, 10) if factor * magnitude * unit >= raw)
    return factor * magnitude * unit


def _linear_ticks(top: float, binary: bool = False) -> list[float]:
    if top <= 0:
        return [0]
    step = _nice_step(top, binary)
    return [index * step for index in range(int(top / step + 1e-9) + 1)]


def _bins(count: int) -> list[tuple[int, int]]:
    """[start, stop) ranges that split `count` positions into at most MAX_MARKS consecutive bins."""
    size = max(1, math.ceil(count / MAX_MARKS))
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def _svg(label: str, body: list[str], height: int = HEIGHT) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>"
    )


def _y_axis(ticks: Sequence[float], to_y: Callable[[float], float], text: Formatter) -> list[str]:
    parts = []
    for tick in ticks:
        y = to_y(tick)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        label = text(int(tick) if float(tick).is_integer() else tick)
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
    return parts


def bar_chart(label: str, names: Sequence[str], values: Sequence[int], text: Formatter, unit: str) -> str:
    """One bar per position, in network order (binned past MAX_MARKS); hovering a bar names it."""
    bins = _bins(len(values))
    sums = [sum(values[start:stop]) for start, stop in bins]
    top = max(sums, default=0) or 1
    ticks = _linear_ticks(top)
    top = max(top, ticks[-1])
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT

    def to_y(value: float) -> float:
        return TOP + plot_height * (1 - value / top)

    body = _y_axis(ticks, to_y, text)
    pitch = plot_width / max(len(bins), 1)
    bar = max(pitch * 0.8, 0.5)
    for position, ((start, stop), value) in enumerate(zip(bins, sums, strict=True)):
        if not value:
            continue
        x = LEFT + position * pitch
        y = to_y(value)
        name = names[start] if stop - start == 1 else f"{names[start]} … {names[stop - 1]}"
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{TOP + plot_height - y:.1f}">'
            f"<title>{escape(name)}: {escape(text(value))} {escape(unit)}</title></rect>"
        )
    body.append(_x_caption(len(values), len(bins)))
    return _svg(label, body)


def _x_caption(count: int, marks: int) -> str:
    per_mark = "" if marks == count else f"; each mark: {math.ceil(count / max(marks, 1))} consecutive rows"
    return (
        f'<text class="caption" x="{LEFT}" y="{HEIGHT - 6}">{count} rows in network order, input to output'
        f"{per_mark}</text>"
    )


def ranked_bars(label: str, names: Sequence[str], values: Sequence[int], text: Formatter, limit: int = 24) -> str:
    """Horizontal bars, one per name in network order (for the stages); past `limit` names the smallest are
    summed into one bar, so every figure is still accounted for."""
    entries = list(zip(names, values, strict=True))
    if len(entries) > limit:
        keep = {index for index, _ in sorted(enumerate(values), key=lambda pair: -pair[1])[: limit - 1]}
        rest = [value for index, value in enumerate(values) if index not in keep]
        entries = [entry for index, entry in enumerate(entries) if index in keep]
        entries.append((f"{len(rest)} others", sum(rest)))
    row_height = 20
    height = TOP + row_height * len(entries) + 8
    name_width = 190
    value_width = 90
    plot_width = WIDTH - name_width - value_width - RIGHT
    top = max((value for _, value in entries), default=0) or 1
    body: list[str] = []
    for position, (name, value) in enumerate(entries):
        y = TOP + position * row_height
        shown = name if len(name) <= 28 else name[:13] + "…" + name[-14:]
        body.append(
            f'<text class="tick" x="{name_width - 8}" y="{y + 14}" text-anchor="end">{escape(shown)}'
            f"<title>{escape(name)}</title></text>"
        )
        width = plot_width * value / top
        if value:
            body.append(
                f'<rect class="bar" x="{name_width}" y="{y + 3}" width="{max(width, 1):.1f}" height="{row_height - 6}">'
                f"<title>{escape(name)}: {escape(text(value))}</title></rect>"
            )
        body.append(f'<text class="tick" x="{name_width + width + 6:.1f}" y="{y + 14}">{escape(text(value))}</text>')
    return _svg(label, body, height)


def line_chart(
    label: str,
    series: Sequence[Series],
    text: Formatter,
    log_scale: bool = False,
    markers: Sequence[Marker] = (),
    peak_of: int | None = None,
    binary: bool = False,
) -> str:
    """Lines along the network (binned past MAX_MARKS, each bin keeping its largest value), optional
    horizontal markers, and the peak of series `peak_of` labelled."""
    count = max((len(each.values) for each in series), default=0)
    bins = _bins(count)
    binned: list[list[float | None]] = []
    for each in series:
        points: list[float | None] = []
        for start, stop in bins:
            present = [float(value) for value in each.values[start:stop] if value is not None]
            points.append(max(present) if present else None)
        binned.append(points)
    every = [value for points in binned for value in points if value is not None] + [mark.value for mark in markers]
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    if log_scale:
        low = 1.0
        high = max(max(every, default=1), 2)
        top_power = math.ceil(math.log2(high))
        ticks = [2.0**power for power in range(0, top_power + 1, max(1, math.ceil(top_power / 6)))]

        def to_y(value: float) -> float:
            return TOP + plot_height * (1 - math.log2(max(value, low)) / top_power)

    else:
        top = max(every, default=0) or 1
        ticks = _linear_ticks(top, binary)
        top = max(top, ticks[-1])

        def to_y(value: float) -> float:
            return TOP + plot_height * (1 - value / top)

    def to_x(position: int) -> float:
        return LEFT + plot_width * (position + 0.5) / max(len(bins), 1)

    body = _y_axis(ticks, to_y, text)
    for mark in markers:
        y = to_y(mark.value)
        body.append(f'<line class="marker" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        body.append(f'<text class="marker-label" x="{WIDTH - RIGHT - 4}" y="{y - 4:.1f}" text-anchor="end">')
        body.append(f"{escape(mark.label)}</text>")
    for index, (each, points) in enumerate(zip(series, binned, strict=True)):
        color = PALETTE[index % len(PALETTE)]
        segments: list[str] = []
        command = "M"
        for position, value in enumerate(points):
            if value is None:
                command = "M"
                continue
            segments.append(f"{command}{to_x(position):.1f} {to_y(value):.1f}")
            command = "L"
        if segments:
            body.append(f'<path class="line" stroke="{color}" d="{" ".join(segments)}"><title>{escape(each.label)}')
            body.append("</title></path>")
        legend_x = LEFT + 10 + 230 * index
        body.append(f'<rect x="{legend_x}" y="8" width="12" height="4" fill="{color}"/>')
        body.append(f'<text class="legend" x="{legend_x + 16}" y="14">{escape(each.label)}</text>')
    if peak_of is not None and binned and binned[peak_of]:
        points = binned[peak_of]
        peak_position = max(range(len(points)), key=lambda position: points[position] or 0)
        peak = points[peak_position]
        if peak:
            x, y = to_x(peak_position), to_y(peak)
            body.append(f'<circle class="peak" cx="{x:.1f}" cy="{y:.1f}" r="4"/>')
            anchor = "end" if x > WIDTH / 2 else "start"
            shift = -8 if anchor == "end" else 8
            body.append(
                f'<text class="marker-label" x="{x + shift:.1f}" y="{y + 12:.1f}" text-anchor="{anchor}">'
                f"peak {escape(text(peak))}</text>"
            )
    body.append(_x_caption(count, len(bins)))
    return _svg(label, body)
