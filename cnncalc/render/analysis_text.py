"""`cnncalc analyze` for people: the per-layer table, the totals and the warnings, through a printer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cnncalc.engine.result import AnalysisResult
from cnncalc.render.layer_columns import layer_table
from cnncalc.render.machine import summary_lines
from cnncalc.render.printer import BOXED, PLAIN, Printer
from cnncalc.render.view import DisplayRow

if TYPE_CHECKING:
    from cnncalc.conventions import NetworkCount
    from cnncalc.training import TrainingResult

HOW_TO_SHOW_COLUMNS = "choose columns with --columns, or widen the terminal"


def print_analysis(
    printer: Printer,
    result: AnalysisResult,
    rows: Sequence[DisplayRow],
    headline: NetworkCount | None = None,
    columns: Sequence[str] | None = None,
    training: TrainingResult | None = None,
) -> None:
    title = f"{result.name}  ({result.file})"
    table = layer_table(rows, result.totals, columns, title, training=training is not None)
    printer.table(table, HOW_TO_SHOW_COLUMNS)
    printer.line()
    printer.pairs(summary_lines(result, headline, training), title="Totals")
    printer.line(f"Convention: {result.convention}", style="dim")
    for issue in result.warnings:
        printer.line(f"warning: {issue.location}: {issue.message}", style="yellow")
        if issue.hint:
            printer.line(f"    hint: {issue.hint}", style="dim")


def analysis_text(
    result: AnalysisResult,
    rows: Sequence[DisplayRow],
    headline: NetworkCount | None = None,
    columns: Sequence[str] | None = None,
    *,
    width: int | None = None,
    styled: bool = False,
    training: TrainingResult | None = None,
) -> str:
    """What `print_analysis` draws, as text: plain, or with colour and box drawing (`styled`) as on a terminal;
    fitted to `width` (None: every column whole, as into a file)."""
    import io

    buffer = io.StringIO()
    print_analysis(Printer(width, buffer, BOXED if styled else PLAIN), result, rows, headline, columns, training)
    return buffer.getvalue()
