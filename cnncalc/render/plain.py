"""The analysis table as plain aligned text, for pipes and files: no escape codes, and no rich to import
or lay out (drawing a few hundred rows with rich costs more than the whole analysis)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnncalc.engine.result import AnalysisResult
from cnncalc.render.machine import summary_lines
from cnncalc.render.view import NUMERIC_COLUMNS, Column, DisplayRow, row_cells

if TYPE_CHECKING:
    from cnncalc.conventions import NetworkCount


def render_plain(result: AnalysisResult, rows: list[DisplayRow], headline: NetworkCount | None = None) -> str:
    columns = list(Column)
    table = [[column.value for column in columns], *(row_cells(row) for row in rows)]
    widths = [max(len(line[index]) for line in table) for index in range(len(columns))]

    def line(cells: list[str]) -> str:
        parts = [
            cell.rjust(width) if column in NUMERIC_COLUMNS else cell.ljust(width)
            for cell, width, column in zip(cells, widths, columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [f"{result.name}  ({result.file})", line(table[0]), "  ".join("-" * width for width in widths)]
    out.extend(line(cells) for cells in table[1:])
    out.append("")
    labels = summary_lines(result, headline)
    label_width = max(len(label) for label, _ in labels)
    out.extend(f"{label.ljust(label_width)}  {value}" for label, value in labels)
    out.append(f"Convention: {result.convention}")
    for issue in result.warnings:
        out.append(f"warning: {issue.location}: {issue.message}")
        if issue.hint:
            out.append(f"    hint: {issue.hint}")
    return "\n".join(out) + "\n"
