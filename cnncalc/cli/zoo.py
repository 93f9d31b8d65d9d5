"""`cnncalc zoo`: the bundled specs with their headline figures."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from cnncalc.cli.common import OutputFormat, stdout_is_terminal
from cnncalc.engine.analysis import analyze_file
from cnncalc.errors import ExitCode, SpecError
from cnncalc.render.units import human
from cnncalc.render.view import field_text, shape_text
from cnncalc.zoo import zoo_specs


def zoo(
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.", case_sensitive=False)
    ] = OutputFormat.table,
) -> None:
    """List the bundled specs with input, params, MACs and receptive field (usable as SPEC anywhere)."""
    entries = []
    broken = False
    for name, path in zoo_specs().items():
        try:
            result = analyze_file(path)
        except SpecError as error:  # a broken bundled spec is a bug; show it rather than hide it
            broken = True
            entries.append({"name": name, "error": str(error)})
            continue
        entries.append(
            {
                "name": name,
                "description": _description(path),
                "input_shape": list(result.input_shape),
                "params": result.totals.params,
                "macs": result.totals.macs,
                "receptive_field": field_text(result.receptive_field, False, with_start=True),
            }
        )
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(entries, indent=2) + "\n")
    else:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(title="Bundled specs (cnncalc analyze NAME)", title_justify="left", show_edge=False)
        for title, justify in (
            ("Name", "left"),
            ("Input", "left"),
            ("Params", "right"),
            ("MACs", "right"),
            ("RF size/jump/start", "left"),
            ("Description", "left"),
        ):
            table.add_column(title, justify=justify)  # type: ignore[arg-type]
        for entry in entries:
            if "error" in entry:
                table.add_row(entry["name"], "", "", "", "", Text(f"invalid: {entry['error']}", style="red"))
                continue
            table.add_row(
                entry["name"],
                shape_text(tuple(entry["input_shape"])),
                human(entry["params"]),
                human(entry["macs"]),
                entry["receptive_field"],
                Text(entry["description"]),  # free text from the spec, never rich markup
            )
        Console(width=None if stdout_is_terminal() else 160).print(table)
    if broken:
        raise typer.Exit(int(ExitCode.INVALID_SPEC))


def _description(path) -> str:
    from cnncalc.spec.yaml_source import load_yaml, read_spec_text

    data = load_yaml(read_spec_text(path), str(path)).data
    return str(data.get("description") or "") if isinstance(data, dict) else ""
