"""`cnncalc conventions`: every tool's headline side by side, and the causes of each difference.

One row per convention; after the headline come the causes (bias, norms, ..., per image) that take
cnncalc's MACs to it, so that each row reads as a sum: headline = cnncalc MACs + the cause columns.
Only causes that occur for this network get a column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from cnncalc.conventions import CONVENTIONS, NetworkCount
from cnncalc.conventions.breakdown import CAUSE_HELP, Cause, differences
from cnncalc.engine.result import AnalysisResult
from cnncalc.render.layout import Column, Fit, Table
from cnncalc.render.markdown import markdown_table
from cnncalc.render.printer import Printer
from cnncalc.render.units import grouped, human
from cnncalc.render.view import shape_text


@dataclass(frozen=True)
class ComparisonRow:
    count: NetworkCount
    differences: dict[Cause, Fraction]


def comparison_rows(result: AnalysisResult, counts: list[NetworkCount]) -> list[ComparisonRow]:
    return [ComparisonRow(count, differences(count, result.totals.macs)) for count in counts]


def used_causes(rows: list[ComparisonRow]) -> list[Cause]:
    return [cause for cause in Cause if any(row.differences[cause] for row in rows)]


def _whole(value: Fraction) -> int | float:
    """JSON-friendly: exact integers stay integers (only ptflops' float arithmetic makes fractions)."""
    return int(value) if value.denominator == 1 else float(value)


def conventions_document(result: AnalysisResult, counts: list[NetworkCount]) -> dict[str, Any]:
    rows = comparison_rows(result, counts)
    return {
        "name": result.name,
        "file": result.file,
        "input_shape": list(result.input_shape),
        "batch": result.totals.batch,
        "macs": result.totals.macs,
        "conventions": [
            {
                "name": row.count.convention,
                "tool": row.count.tool,
                "headline": row.count.headline,
                "headline_unit": row.count.unit,
                "headline_label": row.count.label,
                "batch_handling": row.count.batch_handling,
                "summary": row.count.summary,
                "failure": row.count.failure,
                "parts": {part.value: _whole(amount) for part, amount in row.count.parts.items()},
                "differences": {cause.value: _whole(amount) for cause, amount in row.differences.items()},
            }
            for row in rows
        ],
    }


def _signed(value: Fraction) -> str:
    if not value:
        return ""
    rounded = round(value)
    return ("+" if rounded > 0 else "-") + human(abs(rounded))


def _headline_text(count: NetworkCount) -> str:
    if count.headline is None:
        return "fails"
    return f"{grouped(count.headline)} ({human(count.headline)})"


def comparison_table(
    result: AnalysisResult, counts: list[NetworkCount], rows: list[ComparisonRow] | None = None
) -> Table:
    """The comparison as a table model (shared by the terminal, plain text and Markdown); `rows`, where the
    caller has them already (they cost a pass over every layer per convention)."""
    rows = comparison_rows(result, counts) if rows is None else rows
    causes = used_causes(rows)
    table = Table(
        [
            Column("Convention"),
            Column("Tool", optional=5, fit=Fit.WRAP),
            Column("Headline", numeric=True),
            Column("Unit"),
            *(Column(cause.value, numeric=True, optional=2) for cause in causes),
        ],
        title=title(result),
    )
    for row in rows:
        table.add_row(
            row.count.convention,
            row.count.tool,
            _headline_text(row.count),
            row.count.unit,
            *(_signed(row.differences[cause]) for cause in causes),
        )
    return table


def conventions_csv(result: AnalysisResult, counts: list[NetworkCount]) -> str:
    """One line per convention: the exact headline, and each cause's exact share of the difference."""
    rows = comparison_rows(result, counts)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["convention", "tool", "headline", "headline_unit", *(cause.value for cause in Cause), "failure"])
    for row in rows:
        writer.writerow(
            [
                row.count.convention,
                row.count.tool,
                "" if row.count.headline is None else row.count.headline,
                row.count.unit,
                *(_whole(row.differences[cause]) for cause in Cause),
                row.count.failure or "",
            ]
        )
    return buffer.getvalue()


def title(result: AnalysisResult) -> str:
    return (
        f"{result.name}: input {shape_text(result.input_shape)} (batch {result.totals.batch}); "
        f"cnncalc MACs {grouped(result.totals.macs)} ({human(result.totals.macs)})"
    )


def notes(result: AnalysisResult, counts: list[NetworkCount], rows: list[ComparisonRow] | None = None) -> list[str]:
    """How to read the table, then what each cause column and each convention means."""
    rows = comparison_rows(result, counts) if rows is None else rows
    lines = ["Each row: Headline = cnncalc MACs + the columns after Unit (exact figures: --format json)."]
    lines += [f"{cause.value}: {CAUSE_HELP[cause]}" for cause in used_causes(rows)]
    for count in counts:
        convention = CONVENTIONS[count.convention]
        line = f"{count.convention} ({count.label!r}, {count.batch_handling}): {convention.summary}"
        lines.append(line + (f" -- fails: {count.failure}" if count.failure else ""))
    return lines


def conventions_markdown(result: AnalysisResult, counts: list[NetworkCount]) -> str:
    rows = comparison_rows(result, counts)
    table = comparison_table(result, counts, rows)
    out = [f"**{table.title}**", "", *markdown_table(table), ""]
    out += [f"- {line}" for line in notes(result, counts, rows)]
    return "\n".join(out) + "\n"


def print_conventions(printer: Printer, result: AnalysisResult, counts: list[NetworkCount]) -> None:
    rows = comparison_rows(result, counts)
    printer.table(comparison_table(result, counts, rows), "widen the terminal, or use --format json for every figure")
    for line in notes(result, counts, rows):
        printer.line(line, style="dim")
