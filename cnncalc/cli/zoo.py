"""`cnncalc zoo`: the bundled specs with their headline figures."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cnncalc.base.errors import ExitCode, SpecError
from cnncalc.cli.common import printer, write_text
from cnncalc.cli.options import ColorOption, FormatOption, OutputFormat
from cnncalc.engine.analysis import analyze_file
from cnncalc.language.zoo import zoo_specs
from cnncalc.render.style import ColorChoice
from cnncalc.render.units import human
from cnncalc.render.view import field_text, shape_text

if TYPE_CHECKING:  # the table is built only when one is printed (start-up time)
    from cnncalc.render.layout import Table

TITLE = "Bundled specs (cnncalc analyze NAME)"


def zoo(output_format: FormatOption = OutputFormat.table, color: ColorOption = ColorChoice.auto) -> None:
    """List the bundled specs with input, params, MACs and receptive field (usable as SPEC anywhere)."""
    entries = [_entry(name, path) for name, path in zoo_specs().items()]
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(entries, indent=2) + "\n")
    elif output_format is OutputFormat.csv:
        write_text(_csv(entries))
    elif output_format is OutputFormat.markdown:
        write_text("\n".join([f"**{TITLE}**", "", *_markdown(entries)]))
    else:
        printer(color).table(_table(entries))
    if any("error" in entry for entry in entries):
        raise typer.Exit(int(ExitCode.INVALID_SPEC))


def _entry(name: str, path: Path) -> dict[str, Any]:
    try:
        result = analyze_file(path)
    except SpecError as error:  # a broken bundled spec is a bug; show it rather than hide it
        return {"name": name, "error": str(error)}
    return {
        "name": name,
        "description": _description(path),
        "input_shape": list(result.input_shape),
        "params": result.totals.params,
        "macs": result.totals.macs,
        "receptive_field": field_text(result.receptive_field, False, with_start=True),
    }


def _table(entries: list[dict[str, Any]]) -> Table:
    from cnncalc.render.layout import Cell, Column, Fit, Table

    table = Table(
        [
            Column("Name"),
            Column("Input"),
            Column("Params", numeric=True),
            Column("MACs", numeric=True),
            Column("RF size/jump/start", optional=2),
            Column("Description", optional=1, fit=Fit.WRAP),
        ],
        title=TITLE,
    )
    for entry in entries:
        if "error" in entry:
            table.add_row(entry["name"], "", "", "", "", Cell(f"invalid: {entry['error']}", style="red"))
            continue
        table.add_row(
            entry["name"],
            shape_text(tuple(entry["input_shape"])),
            human(entry["params"]),
            human(entry["macs"]),
            entry["receptive_field"],
            entry["description"],
        )
    return table


def _csv(entries: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "input_shape", "params", "macs", "receptive_field", "description", "error"])
    for entry in entries:
        writer.writerow(
            [
                entry["name"],
                shape_text(tuple(entry["input_shape"])) if "input_shape" in entry else "",
                entry.get("params", ""),
                entry.get("macs", ""),
                entry.get("receptive_field", ""),
                entry.get("description", ""),
                entry.get("error", ""),
            ]
        )
    return buffer.getvalue()


def _description(path: Path) -> str:
    from cnncalc.language.yaml_source import load_yaml, read_spec_text

    data = load_yaml(read_spec_text(path), str(path)).data
    return str(data.get("description") or "") if isinstance(data, dict) else ""


def _markdown(entries: list[dict[str, Any]]) -> list[str]:
    from cnncalc.render.markdown import markdown_table

    return markdown_table(_table(entries))
