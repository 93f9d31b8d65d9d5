"""`cnncalc conventions`: every tool's headline side by side, and the causes of each difference.

One row per convention; after the headline come the causes (bias, norms, ..., per image) that take
cnncalc's MACs to it, so that each row reads as a sum: headline = cnncalc MACs + the cause columns.
Only causes that occur for this network get a column.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from cnncalc.conventions import CONVENTIONS, NetworkCount
from cnncalc.conventions.breakdown import CAUSE_HELP, Cause, differences
from cnncalc.engine.result import AnalysisResult
from cnncalc.render.units import grouped, human
from cnncalc.render.view import shape_text

if TYPE_CHECKING:
    from rich.console import Console


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


def table_cells(result: AnalysisResult, counts: list[NetworkCount]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the comparison, as text (shared by the terminal and Markdown renderers)."""
    rows = comparison_rows(result, counts)
    causes = used_causes(rows)
    header = ["Convention", "Tool", "Headline", "Unit", *(cause.value for cause in causes)]
    cells = [
        [
            row.count.convention,
            row.count.tool,
            _headline_text(row.count),
            row.count.unit,
            *(_signed(row.differences[cause]) for cause in causes),
        ]
        for row in rows
    ]
    return header, cells


def title(result: AnalysisResult) -> str:
    return (
        f"{result.name}: input {shape_text(result.input_shape)} (batch {result.totals.batch}); "
        f"cnncalc MACs {grouped(result.totals.macs)} ({human(result.totals.macs)})"
    )


def notes(result: AnalysisResult, counts: list[NetworkCount]) -> list[str]:
    """How to read the table, then what each cause column and each convention means."""
    rows = comparison_rows(result, counts)
    lines = ["Each row: Headline = cnncalc MACs + the columns after Unit (exact figures: --format json)."]
    lines += [f"{cause.value}: {CAUSE_HELP[cause]}" for cause in used_causes(rows)]
    for count in counts:
        convention = CONVENTIONS[count.convention]
        line = f"{count.convention} ({count.label!r}, {count.batch_handling}): {convention.summary}"
        lines.append(line + (f" -- fails: {count.failure}" if count.failure else ""))
    return lines


def conventions_markdown(result: AnalysisResult, counts: list[NetworkCount]) -> str:
    header, cells = table_cells(result, counts)
    numeric = {"Headline", *(cause.value for cause in Cause)}
    out = [
        f"**{title(result)}**",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if column in numeric else "---" for column in header) + "|",
    ]
    out += ["| " + " | ".join(row) + " |" for row in cells]
    out.append("")
    out += [f"- {line}" for line in notes(result, counts)]
    return "\n".join(out) + "\n"


def print_conventions(console: Console, result: AnalysisResult, counts: list[NetworkCount]) -> None:
    from rich.table import Table  # only the table needs rich
    from rich.text import Text

    header, cells = table_cells(result, counts)
    table = Table(title=Text(title(result)), title_justify="left", show_edge=False, pad_edge=False)
    for column in header:
        right = column not in ("Convention", "Tool", "Unit")
        table.add_column(column, justify="right" if right else "left", no_wrap=column != "Tool")
    for row in cells:
        table.add_row(*row)
    console.print(table)
    for line in notes(result, counts):
        console.print(Text(line, style="dim"))
