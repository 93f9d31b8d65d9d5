"""`cnncalc kinds`: every layer type, its fields and what it computes."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cnncalc.base.errors import ExitCode
from cnncalc.cli.common import printer, write_text
from cnncalc.cli.failure import fail
from cnncalc.cli.options import ColorOption, FormatOption, OutputFormat
from cnncalc.kinds import COMPOSITES, REGISTRY
from cnncalc.render.style import ColorChoice

if TYPE_CHECKING:  # the table is built only when one is printed (start-up time)
    from cnncalc.render.layout import Table


def _entries() -> list[dict[str, Any]]:
    """Every kind and composite, by family then name, with its fields (required ones first)."""
    records = [
        *((name, kind.schema, kind.summary, kind.family, False) for name, kind in REGISTRY.items()),
        *(
            (name, composite.schema, composite.summary, composite.family, True)
            for name, composite in COMPOSITES.items()
        ),
    ]
    entries = []
    for name, schema, summary, family, composite in sorted(records, key=lambda record: (record[3], record[0])):
        fields = [
            {"name": field, "required": info.is_required(), "default": None if info.is_required() else info.default}
            for field, info in schema.model_fields.items()
        ]
        fields.sort(key=lambda field: not field["required"])
        entries.append({"name": name, "family": family, "summary": summary, "composite": composite, "fields": fields})
    return entries


def _fields_text(fields: list[dict[str, Any]]) -> str:
    return ", ".join(
        field["name"] if field["required"] else f"{field['name']}={field['default']!r}" for field in fields
    )


def _table(entries: list[dict[str, Any]]) -> Table:
    from cnncalc.render.layout import Column, Fit, Table

    table = Table(
        [
            Column("Type"),
            Column("Family", optional=2),
            Column("What it computes", fit=Fit.WRAP),
            Column("Fields (defaults)", fit=Fit.WRAP, optional=1),
        ]
    )
    for entry in entries:
        table.add_row(entry["name"], entry["family"], entry["summary"], _fields_text(entry["fields"]))
    return table


def _csv(entries: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["type", "family", "summary", "composite", "fields"])
    for entry in entries:
        writer.writerow(
            [entry["name"], entry["family"], entry["summary"], entry["composite"], _fields_text(entry["fields"])]
        )
    return buffer.getvalue()


def kinds(
    kind: Annotated[str | None, typer.Argument(help="Show one layer type only.")] = None,
    output_format: FormatOption = OutputFormat.table,
    color: ColorOption = ColorChoice.auto,
) -> None:
    """List layer types with their fields (required ones first) and a one-line description."""
    entries = _entries()
    if kind is not None:
        known = [entry["name"] for entry in entries]
        if kind not in known:
            from cnncalc.language.pydantic_errors import did_you_mean

            raise fail(f"unknown layer type {kind!r}", ExitCode.USAGE, did_you_mean(kind, known))
        entries = [entry for entry in entries if entry["name"] == kind]
    if output_format is OutputFormat.json:
        write_text(json.dumps(entries, indent=2, default=repr))
    elif output_format is OutputFormat.csv:
        write_text(_csv(entries))
    elif output_format is OutputFormat.markdown:
        write_text("\n".join(_markdown(entries)))
    else:
        printer(color).table(_table(entries), "widen the terminal, or use --format json")


def _markdown(entries: list[dict[str, Any]]) -> list[str]:
    from cnncalc.render.markdown import markdown_table

    return markdown_table(_table(entries))
