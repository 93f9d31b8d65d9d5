"""What a sweep prints: its rows as a table, JSON, CSV or Markdown, and its charts (one per figure)."""

from __future__ import annotations

import csv
import io
from typing import Any

from cnncalc.render.layout import Column, Table
from cnncalc.render.line_chart import MAX_SERIES, Chart, Series
from cnncalc.render.units import human, human_bytes
from cnncalc.render.view import shape_text
from cnncalc.sweeps.grid import Grid, Number, Parameter, Point
from cnncalc.sweeps.run import SweepRow


def point_text(point: Point, row: SweepRow | None = None) -> str:
    """`input 3x224x224, batch 8, width=0.5`: where a point is, for an error about it."""
    parts = []
    if row is not None:
        parts.append(f"input {shape_text(row.input_shape[1:])}, batch {row.batch}")
    else:
        if point.shape is not None:
            parts.append(f"input {shape_text(point.shape)}")
        if point.batch is not None:
            parts.append(f"batch {point.batch}")
    parts += [f"{name}={_number(value)}" for name, value in point.variables]
    return ", ".join(parts) or "the spec's own input"


def _number(value: Number) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def grid_summary(grid: Grid) -> str:
    """`45 points: size 15 x batch 3` (or `zipped`)."""
    count = len(grid.points)
    if not grid.parameters:
        return f"{count} point"
    sizes = [f"{parameter.name} {len(parameter.values)}" for parameter in grid.parameters]
    joined = (", " if grid.zipped else " x ").join(sizes)
    return f"{count} points: {joined}{' (zipped)' if grid.zipped else ''}"


def metric_text(metric: str, value: int) -> str:
    return human_bytes(value) if metric.endswith("_bytes") else human(value)


def sweep_table(name: str, grid: Grid, rows: list[SweepRow], metrics: tuple[str, ...]) -> Table:
    variables = [variable for variable, _ in rows[0].point.variables] if rows else []
    table = Table(
        [
            Column("Input"),
            *(Column(variable, numeric=True) for variable in variables),
            *(Column(metric, numeric=True) for metric in metrics),
        ],
        title=f"Sweep of {name} ({grid_summary(grid)})",
    )
    for row in rows:
        table.add_row(
            shape_text(row.input_shape),
            *(_number(value) for _, value in row.point.variables),
            *(metric_text(metric, row.totals[metric]) for metric in metrics),
        )
    return table


def sweep_csv(rows: list[SweepRow], metrics: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    variables = [variable for variable, _ in rows[0].point.variables] if rows else []
    writer.writerow(["input_shape", "batch", *variables, *metrics])
    for row in rows:
        writer.writerow(
            [
                shape_text(row.input_shape),
                row.batch,
                *(value for _, value in row.point.variables),
                *(row.totals[metric] for metric in metrics),
            ]
        )
    return buffer.getvalue()


def sweep_document(
    name: str, file: str, grid: Grid, rows: list[SweepRow], metrics: tuple[str, ...], mode: str
) -> dict[str, Any]:
    return {
        "name": name,
        "file": file,
        "mode": mode,
        "combination": "zip" if grid.zipped else "product",
        "parameters": [
            {"name": parameter.name, "label": parameter.label, "values": list(parameter.values)}
            for parameter in grid.parameters
        ],
        "metrics": list(metrics),
        "points": [
            {
                "input_shape": list(row.input_shape),
                "batch": row.batch,
                "vars": dict(row.point.variables),
                "parameters": row.point.values,
                "totals": {metric: row.totals[metric] for metric in metrics},
            }
            for row in rows
        ],
    }


class ChartRefused(ValueError):
    """A chart that cannot be drawn from this sweep: the message says why, the hint what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def chart_axis(grid: Grid, name: str | None) -> Parameter:
    """The parameter along the x axis: `name`, or the first one; refused where a chart would mislead."""
    if not grid.parameters:
        raise ChartRefused("nothing varies in this sweep: a chart needs a parameter", "e.g. --input 3x{128..512..64}")
    names = [parameter.name for parameter in grid.parameters]
    if name is None:
        chosen = grid.parameters[0]
    elif name in names:
        chosen = grid.parameters[names.index(name)]
    else:
        raise ChartRefused(f"--chart-x {name!r} is not a parameter of this sweep", f"one of: {', '.join(names)}")
    if not grid.zipped:
        lines = 1
        for parameter in grid.parameters:
            if parameter is not chosen:
                lines *= len(parameter.values)
        if lines > MAX_SERIES:
            others = " x ".join(p.name for p in grid.parameters if p is not chosen)
            raise ChartRefused(
                f"a chart along {chosen.name} would draw {lines} lines (one per value of {others}); "
                f"at most {MAX_SERIES} stay readable",
                "fix the other parameters to fewer values, or chart along another one with --chart-x",
            )
    return chosen


def sweep_charts(name: str, grid: Grid, rows: list[SweepRow], metrics: tuple[str, ...], axis: Parameter) -> list[Chart]:
    """One chart per figure: the figure against `axis`, one line per value of the other parameters (product),
    or one line (zipped: they vary together)."""
    others = [parameter for parameter in grid.parameters if parameter is not axis]
    groups: dict[tuple[Number, ...], list[SweepRow]] = {}
    for row in rows:
        key = () if grid.zipped else tuple(row.point.values[parameter.name] for parameter in others)
        groups.setdefault(key, []).append(row)
    charts = []
    for metric in metrics:
        series = []
        for key, members in groups.items():
            label = ", ".join(f"{p.name} {_number(value)}" for p, value in zip(others, key, strict=True))
            points = tuple((float(row.point.values[axis.name]), row.totals[metric]) for row in members)
            series.append(Series(label, points))
        charts.append(
            Chart(
                title=f"{metric} vs {axis.label} ({name})",
                x_label=axis.label,
                y_label=metric,
                series=tuple(series),
                y_bytes=metric.endswith("_bytes"),
            )
        )
    return charts
