"""Tables and JSON for `cnncalc bench`."""

from __future__ import annotations

import sys

import torch
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cnncalc.bridge.bench import BenchResult
from cnncalc.bridge.device_peaks import DevicePeaks
from cnncalc.render.units import human_bytes


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}"


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
                "fraction_of_peak": (run.tflops * 1e12 / peaks.flops_per_second) if peaks else None,
                "peak_memory_bytes": run.peak_memory_bytes,
                "estimated_memory_bytes": run.estimated_memory_bytes,
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


def print_bench(name: str, device: str, runs: list[BenchResult], peaks: DevicePeaks | None) -> None:
    console = Console(width=None if sys.stdout.isatty() else 160)
    config = runs[0].config
    title = Text(
        f"{name} on {device} (torch {torch.__version__}), {config.mode}, {config.dtype}"
        + (", channels-last" if config.channels_last else "")
        + (", compiled" if config.compile else "")
    )
    table = Table(title=title, title_justify="left", show_edge=False)
    for column in (
        "Batch",
        "Median ms",
        "p10 ms",
        "p90 ms",
        "CV",
        "Iters",
        "Samples/s",
        "TFLOP/s",
        "% peak",
        "Peak mem",
        "Engine est.",
    ):
        table.add_column(column, justify="right")
    for run in runs:
        of_peak = f"{run.tflops * 1e12 / peaks.flops_per_second:.1%}" if peaks else "-"
        table.add_row(
            str(run.batch),
            _ms(run.timing.median),
            _ms(run.timing.p10),
            _ms(run.timing.p90),
            f"{run.timing.cv:.1%}",
            str(len(run.timing.samples)),
            f"{run.throughput:,.1f}",
            f"{run.tflops:.4g}",
            of_peak,
            human_bytes(run.peak_memory_bytes) if run.peak_memory_bytes is not None else "n/a (CPU)",
            human_bytes(run.estimated_memory_bytes),
        )
    console.print(table)
    if peaks is not None:
        console.print(
            Text(
                f"Measured peaks on this device: {peaks.flops_per_second / 1e12:.3f} TFLOP/s ({peaks.dtype} matmul), "
                f"{peaks.bytes_per_second / 1e9:.1f} GB/s (copy)",
                style="dim",
            )
        )
    for run in runs:
        if not run.layers:
            continue
        total_time = sum(layer.seconds for layer in run.layers) or 1.0
        total_flops = sum(layer.flops for layer in run.layers) or 1
        layers = Table(title=Text(f"Per layer, batch {run.batch}"), title_justify="left", show_edge=False)
        for column in ("Layer", "Type", "ms", "Time %", "FLOPs %", "Bound", "Lower bound ms", "Efficiency"):
            layers.add_column(column, justify="left" if column in ("Layer", "Type", "Bound") else "right")
        for layer in run.layers:
            layers.add_row(
                layer.path,
                layer.kind,
                _ms(layer.seconds),
                f"{layer.seconds / total_time:.1%}",
                f"{layer.flops / total_flops:.1%}",
                layer.bound,
                "-" if layer.lower_bound_seconds is None else _ms(layer.lower_bound_seconds),
                "-" if layer.efficiency is None else f"{layer.efficiency:.1%}",
            )
        console.print(layers)
