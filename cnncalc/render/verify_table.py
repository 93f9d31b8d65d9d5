"""`cnncalc verify` for people and machines: one row per layer, ✓/✗ per check, the totals and a verdict."""

from __future__ import annotations

import csv
import io
from typing import Any

from cnncalc.bridge.verify import CHECKS, VerifyReport
from cnncalc.render.layout import Cell, Column, Fit, Table
from cnncalc.render.markdown import markdown_table
from cnncalc.render.printer import Printer
from cnncalc.render.units import grouped
from cnncalc.render.view import shape_text


def _text(check: str, value: object) -> str:
    return shape_text(value) if check == "shape" else grouped(value)  # type: ignore[arg-type]


def _cell(check: str, expected: object, measured: object) -> Cell:
    if expected == measured:
        return Cell(f"✓ {_text(check, measured)}", style="green")
    return Cell(f"✗ {_text(check, measured)} (engine {_text(check, expected)})", style="bold red")


def title(report: VerifyReport) -> str:
    return f"{report.name}: engine vs PyTorch {report.torch_version} on {report.device}"


def verify_table(report: VerifyReport) -> Table:
    table = Table(
        [
            Column("Layer", fit=Fit.SHORTEN),
            Column("Type", optional=3),
            *(Column(check.capitalize()) for check in CHECKS),
            Column("Note", optional=4, fit=Fit.WRAP, style="dim"),
        ],
        title=title(report),
    )
    for layer in report.layers:
        cells = [_cell(check, layer.expected[check], layer.measured[check]) for check in CHECKS]
        table.add_row(layer.path, layer.kind, *cells, layer.note)
    return table


def total_lines(report: VerifyReport) -> list[str]:
    return [
        f"{'✓' if engine == measured else '✗'} total {name}: engine {grouped(engine)}, torch {grouped(measured)}"
        for name, (engine, measured) in report.totals.items()
    ]


def verdict(report: VerifyReport) -> str:
    if report.ok:
        return f"OK: all {len(report.layers)} layers match PyTorch (shape, params, buffers, FLOPs)."
    return f"MISMATCH: {len(report.mismatches())} check(s) differ from PyTorch."


def print_report(printer: Printer, report: VerifyReport) -> None:
    printer.table(verify_table(report), "widen the terminal, or use --format json")
    for line in total_lines(report):
        printer.line(line, style="green" if line.startswith("✓") else "bold red")
    printer.line(verdict(report), style="bold green" if report.ok else "bold red")


def report_markdown(report: VerifyReport) -> str:
    lines = [f"**{title(report)}**", "", *markdown_table(verify_table(report)), ""]
    lines += [f"- {line}" for line in total_lines(report)]
    lines += ["", f"**{verdict(report)}**"]
    return "\n".join(lines) + "\n"


def _plain(value: object) -> object:
    return shape_text(value) if isinstance(value, tuple) else value  # type: ignore[arg-type]


def report_csv(report: VerifyReport) -> str:
    """One line per layer: each check's engine and torch value, and whether the layer matches."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["name", "type", "ok"]
    for check in CHECKS:
        header += [f"{check}_engine", f"{check}_torch"]
    writer.writerow([*header, "note"])
    for layer in report.layers:
        values: list[Any] = [layer.path, layer.kind, layer.ok]
        for check in CHECKS:
            values += [_plain(layer.expected[check]), _plain(layer.measured[check])]
        writer.writerow([*values, layer.note])
    return buffer.getvalue()


def report_json(report: VerifyReport) -> dict[str, object]:
    return {
        "name": report.name,
        "device": report.device,
        "torch_version": report.torch_version,
        "ok": report.ok,
        "mismatches": report.mismatches(),
        "totals": {name: {"engine": engine, "torch": measured} for name, (engine, measured) in report.totals.items()},
        "layers": [
            {
                "name": layer.path,
                "type": layer.kind,
                "ok": layer.ok,
                "engine": {
                    key: list(value) if isinstance(value, tuple) else value for key, value in layer.expected.items()
                },
                "torch": {
                    key: list(value) if isinstance(value, tuple) else value for key, value in layer.measured.items()
                },
                "note": layer.note,
            }
            for layer in report.layers
        ],
    }
