"""`cnncalc verify --mode train` for people and machines: per layer the backward FLOPs and saved bytes, the
rules' against PyTorch's, cnncalc's true backward FLOPs where FlopCounterMode is wrong, totals, a verdict."""

from __future__ import annotations

import csv
import io

from cnncalc.bridge.verify_training import TrainingVerifyReport
from cnncalc.render.layout import Cell, Column, Fit, Table
from cnncalc.render.markdown import markdown_table
from cnncalc.render.printer import Printer
from cnncalc.render.units import grouped

HEADERS = {
    "backward_flops": "Bwd FLOPs",
    "saved_activation_bytes": "Saved B",
    "recompute_flops": "Recompute",
    "saved_weight_copy_bytes": "Wt copies B",
}


def _cell(expected: int, measured: int) -> Cell:
    if expected == measured:
        return Cell(f"✓ {grouped(measured)}", style="green")
    return Cell(f"✗ {grouped(measured)} (rules {grouped(expected)})", style="bold red")


def title(report: TrainingVerifyReport) -> str:
    return (
        f"{report.name}: training rules ({report.rules_follow}) vs a training step in PyTorch "
        f"{report.torch_version} on {report.device}"
    )


def verify_table(report: TrainingVerifyReport) -> Table:
    table = Table(
        [
            Column("Layer", fit=Fit.SHORTEN),
            Column("Type", optional=3),
            *(Column(HEADERS[check]) for check in report.checks),
            Column("True bwd FLOPs", optional=2),  # where FlopCounterMode is known to be wrong
            Column("Note", optional=4, fit=Fit.WRAP, style="dim"),
        ],
        title=title(report),
    )
    for layer in report.layers:
        cells = [_cell(layer.expected[check], layer.measured[check]) for check in report.checks]
        counted = layer.expected["backward_flops"]
        true = grouped(layer.true_backward_flops) if layer.true_backward_flops != counted else ""
        table.add_row(layer.path, layer.kind, *cells, true, layer.note)
    return table


def total_lines(report: TrainingVerifyReport) -> list[str]:
    lines = [
        f"{'✓' if engine == measured else '✗'} total {name}: rules {grouped(engine)}, torch {grouped(measured)}"
        for name, (engine, measured) in report.totals.items()
    ]
    counted = report.totals["backward_flops"][0]
    if report.true_backward_flops != counted:
        lines.append(
            f"  true backward_flops: {grouped(report.true_backward_flops)} (FlopCounterMode's known faults corrected)"
        )
    return lines


def verdict(report: TrainingVerifyReport) -> str:
    if report.ok:
        return f"OK: all {len(report.layers)} layers match PyTorch (backward FLOPs, saved bytes)."
    return f"MISMATCH: {len(report.mismatches())} check(s) differ from PyTorch."


def print_report(printer: Printer, report: TrainingVerifyReport) -> None:
    printer.table(verify_table(report), "widen the terminal, or use --format json")
    for line in total_lines(report):
        printer.line(line, style="green" if not line.startswith("✗") else "bold red")
    printer.line(verdict(report), style="bold green" if report.ok else "bold red")


def report_markdown(report: TrainingVerifyReport) -> str:
    lines = [f"**{title(report)}**", "", *markdown_table(verify_table(report)), ""]
    lines += [f"- {line.strip()}" for line in total_lines(report)]
    lines += ["", f"**{verdict(report)}**"]
    return "\n".join(lines) + "\n"


def report_csv(report: TrainingVerifyReport) -> str:
    """One line per layer: each check's rules and torch value, the true backward FLOPs, whether it matches."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["name", "type", "ok"]
    for check in report.checks:
        header += [f"{check}_engine", f"{check}_torch"]
    writer.writerow([*header, "true_backward_flops", "note"])
    for layer in report.layers:
        values: list[object] = [layer.path, layer.kind, layer.ok]
        for check in report.checks:
            values += [layer.expected[check], layer.measured[check]]
        writer.writerow([*values, layer.true_backward_flops, layer.note])
    return buffer.getvalue()


def report_json(report: TrainingVerifyReport) -> dict[str, object]:
    return {
        "name": report.name,
        "mode": "train",
        "device": report.device,
        "torch_version": report.torch_version,
        "training_rules": report.rules_follow,
        "ok": report.ok,
        "mismatches": report.mismatches(),
        "totals": {
            **{name: {"engine": engine, "torch": measured} for name, (engine, measured) in report.totals.items()},
            "true_backward_flops": report.true_backward_flops,
        },
        "layers": [
            {
                "name": layer.path,
                "type": layer.kind,
                "ok": layer.ok,
                "engine": layer.expected,
                "torch": layer.measured,
                "true_backward_flops": layer.true_backward_flops,
                "note": layer.note,
            }
            for layer in report.layers
        ],
    }
