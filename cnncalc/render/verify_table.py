"""The rich table of `cnncalc verify`: one row per layer, ✓/✗ per check, and a verdict."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cnncalc.bridge.verify import CHECKS, VerifyReport
from cnncalc.render.units import grouped
from cnncalc.render.view import shape_text


def _cell(check: str, expected: object, measured: object) -> Text:
    shown = shape_text(measured) if check == "shape" else grouped(measured)  # type: ignore[arg-type]
    if expected == measured:
        return Text(f"✓ {shown}", style="green")
    wanted = shape_text(expected) if check == "shape" else grouped(expected)  # type: ignore[arg-type]
    return Text(f"✗ {shown} (engine {wanted})", style="bold red")


def print_report(report: VerifyReport, console: Console | None = None) -> None:
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    table = Table(
        title=Text(f"{report.name}: engine vs PyTorch {report.torch_version} on {report.device}"),
        title_justify="left",
        show_edge=False,
    )
    table.add_column("Layer", overflow="fold")
    table.add_column("Type")
    for check in CHECKS:
        table.add_column(check.capitalize(), no_wrap=True)
    table.add_column("Note", overflow="fold")
    for layer in report.layers:
        cells = [_cell(check, layer.expected[check], layer.measured[check]) for check in CHECKS]
        table.add_row(layer.path, layer.kind, *cells, Text(layer.note, style="dim"))
    console.print(table)
    for name, (engine, measured) in report.totals.items():
        mark = "✓" if engine == measured else "✗"
        console.print(f"{mark} total {name}: engine {grouped(engine)}, torch {grouped(measured)}")
    failures = report.mismatches()
    if report.ok:
        console.print(
            Text(
                f"OK: all {len(report.layers)} layers match PyTorch (shape, params, buffers, FLOPs).",
                style="bold green",
            )
        )
    else:
        console.print(Text(f"MISMATCH: {len(failures)} check(s) differ from PyTorch.", style="bold red"))
