"""`cnncalc bench` for people and machines: one row per batch size, per-layer tables, and warnings."""

from __future__ import annotations

import csv
import io

import torch

from cnncalc.bridge.bench import BenchResult
from cnncalc.bridge.device_peaks import DevicePeaks
from cnncalc.bridge.timing import reliability_warnings
from cnncalc.render.layout import Column, Fit, Table
from cnncalc.render.markdown import markdown_table
from cnncalc.render.printer import Printer
from cnncalc.render.units import human_bytes


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}"


def _of_peak(run: BenchResult, peaks: DevicePeaks | None) -> float | None:
    return run.tflops * 1e12 / peaks.flops_per_second if peaks else None


def bench_json(name: str, device: str, runs: list[BenchResult], peaks: DevicePeaks | None) -> dict[str, object]:
    return {
        "name": name,
        "device": device,
        "torch_version": torch.__version__,
        "peaks": None
        if peaks is None
        else {
            "flops_per_second": peaks.flops_per_second,
            "bytes_per_second": peaks.bytes_per_second,
        },
        "runs": [
            {
                "batch": run.batch,
                "dtype": run.config.dtype,
                "mode": run.config.mode,
                "channels_last": run.config.channels_last,
                "compile": run.config.compile,
                "iterations": len(run.timing.samples),
                "latency_ms": {
                    "median": run.timing.median * 1e3,
                    "p10": run.timing.p10 * 1e3,
                    "p90": run.timing.p90 * 1e3,
                },
                "cv": run.timing.cv,
                "throughput_per_s": run.throughput,
                "flops_per_step": run.flops,
                "achieved_tflops": run.tflops,
                "fraction_of_peak": _of_peak(run, peaks),
                "peak_memory_bytes": run.peak_memory_bytes,
                "estimated_memory_bytes": run.estimated_memory_bytes,
                "warnings": [{"message": message, "hint": hint} for message, hint in reliability_warnings(run.timing)],
                "layers": [
                    {
                        "name": layer.path,
                        "type": layer.kind,
                        "median_ms": layer.seconds * 1e3,
                        "flops": layer.flops,
                        "bytes": layer.bytes_moved,
                        "lower_bound_ms": None
                        if layer.lower_bound_seconds is None
                        else layer.lower_bound_seconds * 1e3,
                        "bound": layer.bound,
                        "efficiency": layer.efficiency,
                    }
                    for layer in run.layers
                ],
            }
            for run in runs
        ],
    }


def title(name: str, device: str, runs: list[BenchResult]) -> str:
    config = runs[0].config
    return (
        f"{name} on {device} (torch {torch.__version__}), {config.mode}, {config.dtype}"
        + (", channels-last" if config.channels_last else "")
        + (", compiled" if config.compile else "")
    )


def runs_table(name: str, device: str, runs: list[BenchResult], peaks: DevicePeaks | None) -> Table:
    table = Table(
        [
            Column("Batch", numeric=True),
            Column("Median ms", numeric=True),
            Column("p10 ms", numeric=True, optional=3),
            Column("p90 ms", numeric=True, optional=3),
            Column("CV", numeric=True),
            Column("Iters", numeric=True, optional=2),
            Column("Samples/s", numeric=True),
            Column("TFLOP/s", numeric=True),
            Column("% peak", numeric=True, optional=4),
            Column("Peak mem", numeric=True, optional=1),
            Column("Engine est.", numeric=True, optional=1),
        ],
        title=title(name, device, runs),
    )
    for run in runs:
        fraction = _of_peak(run, peaks)
        table.add_row(
            str(run.batch),
            _ms(run.timing.median),
            _ms(run.timing.p10),
            _ms(run.timing.p90),
            f"{run.timing.cv:.1%}",
            str(len(run.timing.samples)),
            f"{run.throughput:,.1f}",
            f"{run.tflops:.4g}",
            "-" if fraction is None else f"{fraction:.1%}",
            human_bytes(run.peak_memory_bytes) if run.peak_memory_bytes is not None else "n/a (CPU)",
            human_bytes(run.estimated_memory_bytes),
        )
    return table


def layers_table(run: BenchResult) -> Table:
    total_time = sum(layer.seconds for layer in run.layers) or 1.0
    total_flops = sum(layer.flops for layer in run.layers) or 1
    table = Table(
        [
            Column("Layer", fit=Fit.SHORTEN),
            Column("Type", optional=4),
            Column("ms", numeric=True),
            Column("Time %", numeric=True),
            Column("FLOPs %", numeric=True),
            Column("Bound", optional=2),
            Column("Lower bound ms", numeric=True, optional=3),
            Column("Efficiency", numeric=True, optional=1),
        ],
        title=f"Per layer, batch {run.batch}",
    )
    for layer in run.layers:
        table.add_row(
            layer.path,
            layer.kind,
            _ms(layer.seconds),
            f"{layer.seconds / total_time:.1%}",
            f"{layer.flops / total_flops:.1%}",
            layer.bound,
            "-" if layer.lower_bound_seconds is None else _ms(layer.lower_bound_seconds),
            "-" if layer.efficiency is None else f"{layer.efficiency:.1%}",
        )
    return table


def peaks_line(peaks: DevicePeaks) -> str:
    return (
        f"Measured peaks on this device: {peaks.flops_per_second / 1e12:.3f} TFLOP/s ({peaks.dtype} matmul), "
        f"{peaks.bytes_per_second / 1e9:.1f} GB/s (copy)"
    )


def warning_lines(runs: list[BenchResult]) -> list[tuple[str, str]]:
    return [
        (f"warning: batch {run.batch}: {message}", f"    hint: {hint}")
        for run in runs
        for message, hint in reliability_warnings(run.timing)
    ]


def print_bench(printer: Printer, name: str, device: str, runs: list[BenchResult], peaks: DevicePeaks | None) -> None:
    printer.table(runs_table(name, device, runs, peaks), "widen the terminal, or use --format json")
    if peaks is not None:
        printer.line(peaks_line(peaks), style="dim")
    for run in runs:
        if run.layers:
            printer.table(layers_table(run), "widen the terminal, or use --format json")
    for warning, hint in warning_lines(runs):
        printer.line(warning, style="yellow")
        printer.line(hint, style="dim")


def bench_markdown(name: str, device: str, runs: list[BenchResult], peaks: DevicePeaks | None) -> str:
    table = runs_table(name, device, runs, peaks)
    lines = [f"**{table.title}**", "", *markdown_table(table)]
    if peaks is not None:
        lines += ["", peaks_line(peaks)]
    for run in runs:
        if run.layers:
            layers = layers_table(run)
            lines += ["", f"**{layers.title}**", "", *markdown_table(layers)]
    warnings = warning_lines(runs)
    if warnings:
        lines.append("")
        lines += [f"- {warning.removeprefix('warning: ')} ({hint.strip()})" for warning, hint in warnings]
    return "\n".join(lines) + "\n"


def bench_csv(runs: list[BenchResult]) -> str:
    """One line per batch size (CSV holds one table: per-layer timings are in --format json)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "batch",
            "dtype",
            "mode",
            "iterations",
            "median_ms",
            "p10_ms",
            "p90_ms",
            "cv",
            "throughput_per_s",
            "flops_per_step",
            "achieved_tflops",
            "peak_memory_bytes",
            "estimated_memory_bytes",
        ]
    )
    for run in runs:
        writer.writerow(
            [
                run.batch,
                run.config.dtype,
                run.config.mode,
                len(run.timing.samples),
                run.timing.median * 1e3,
                run.timing.p10 * 1e3,
                run.timing.p90 * 1e3,
                run.timing.cv,
                run.throughput,
                run.flops,
                run.tflops,
                "" if run.peak_memory_bytes is None else run.peak_memory_bytes,
                run.estimated_memory_bytes,
            ]
        )
    return buffer.getvalue()
