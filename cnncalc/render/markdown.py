"""Markdown tables from the same table models the terminal draws: same cells, so same figures and shapes."""

from __future__ import annotations

from cnncalc.render.layout import Table


def _escaped(text: str) -> str:
    return text.replace("|", "\\|").strip()


def markdown_table(table: Table) -> list[str]:
    """The lines of a GitHub-flavoured Markdown table (numeric columns right-aligned); every column, whole."""
    lines = [
        "| " + " | ".join(_escaped(column.title) for column in table.columns) + " |",
        "|" + "|".join("---:" if column.numeric else "---" for column in table.columns) + "|",
    ]
    lines.extend("| " + " | ".join(_escaped(cell.text) for cell in row) + " |" for row in table.rows)
    return lines
