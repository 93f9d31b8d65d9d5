"""The analysis for notebooks: an HTML document of the same cells the terminal draws (the per-layer table, the
totals, the convention and the warnings).

Every text comes from the same table model and totals as the other formats; this module only writes HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from cnncalc.engine.result import AnalysisResult
from cnncalc.render.layer_columns import layer_table
from cnncalc.render.layout import Table
from cnncalc.render.machine import summary_lines
from cnncalc.render.view import DisplayRow

if TYPE_CHECKING:
    from cnncalc.conventions import NetworkCount

_LEFT = "text-align:left;white-space:pre"  # names keep their indentation by nesting
_RIGHT = "text-align:right;white-space:nowrap"


def html_table(table: Table) -> list[str]:
    """The lines of an HTML table: a header row, then one row per table row; figures right-aligned."""
    aligns = [_RIGHT if column.numeric else _LEFT for column in table.columns]
    header = "".join(
        f'<th style="{align}">{escape(column.title)}</th>' for column, align in zip(table.columns, aligns, strict=True)
    )
    lines = ["<table>", f"<thead><tr>{header}</tr></thead>", "<tbody>"]
    lines.extend(
        "<tr>"
        + "".join(f'<td style="{align}">{escape(cell.text)}</td>' for cell, align in zip(row, aligns, strict=True))
        + "</tr>"
        for row in table.rows
    )
    lines.extend(["</tbody>", "</table>"])
    return lines


def analysis_html(
    result: AnalysisResult,
    rows: Sequence[DisplayRow],
    headline: NetworkCount | None = None,
    columns: Sequence[str] | None = None,
) -> str:
    """The analysis as one HTML fragment: title, per-layer table, totals, convention and warnings."""
    out = [
        '<div class="cnncalc-analysis">',
        f"<p><strong>{escape(result.name)}</strong> <code>{escape(result.file)}</code></p>",
        *html_table(layer_table(rows, result.totals, columns)),
        "<table>",
        "<tbody>",
    ]
    out.extend(
        f'<tr><th style="{_LEFT}">{escape(label)}</th><td style="text-align:left">{escape(value)}</td></tr>'
        for label, value in summary_lines(result, headline)
    )
    out.extend(["</tbody>", "</table>", f"<p><small>Convention: {escape(result.convention)}</small></p>"])
    for issue in result.warnings:
        hint = f"<br><small>hint: {escape(issue.hint)}</small>" if issue.hint else ""
        out.append(f"<p>warning: <code>{escape(str(issue.location))}</code>: {escape(issue.message)}{hint}</p>")
    out.append("</div>")
    return "\n".join(out) + "\n"
