"""`cnncalc bench SPEC`: time the real module on the GPU (or CPU), with a batch sweep."""

from __future__ import annotations

import enum
import json
import sys
from typing import Annotated

import typer

from cnncalc.cli.common import OutputFormat, analyze_or_fail, parse_input_shape, resolve_or_fail
from cnncalc.engine.analysis import InputOverrides
from cnncalc.errors import ExitCode


class BenchDevice(str, enum.Enum):
    auto = "auto"
    cuda = "cuda"
    cpu = "cpu"


class BenchDtype(str, enum.Enum):
    fp32 = "fp32"
    fp16 = "fp16"
    bf16 = "bf16"


class BenchMode(str, enum.Enum):
    inference = "inference"
    train = "train"


def parse_batches(text: str) -> list[int]:
    try:
        batches = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        batches = []
    if not batches or min(batches) < 1:
        print(
            f"error: --batch {text!r} is not a list of positive sizes\n  hint: e.g. --batch 1,8,32,128", file=sys.stderr
        )
        raise typer.Exit(int(ExitCode.USAGE))
    return batches


def bench(
    spec: Annotated[str, typer.Argument(help="Path to a YAML spec, or the name of a bundled spec.")],
    batch: Annotated[str | None, typer.Option("--batch", "-b", help="Batch size, or a sweep: 1,8,32,128.")] = None,
    dtype: Annotated[BenchDtype, typer.Option(help="fp32, or fp16/bf16 under autocast.")] = BenchDtype.fp32,
    channels_last: Annotated[bool, typer.Option("--channels-last", help="Use channels-last memory layout.")] = False,
    mode: Annotated[BenchMode, typer.Option(help="inference, or train: forward + backward + SGD step.")] = (
        BenchMode.inference
    ),
    compile_model: Annotated[bool, typer.Option("--compile", help="Run through torch.compile.")] = False,
    device: Annotated[BenchDevice, typer.Option(help="auto (cuda if available), cuda or cpu.")] = BenchDevice.auto,
    per_layer: Annotated[
        bool, typer.Option("--per-layer", help="Time each layer; share of time vs FLOPs, roofline bound.")
    ] = False,
    target_time: Annotated[
        float | None, typer.Option(min=0.01, help="Seconds of timed iterations per measurement (adaptive count).")
    ] = None,
    input_shape: Annotated[
        str | None, typer.Option("--input", "-i", help="Override the input, e.g. 3x512x512.")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.", case_sensitive=False)
    ] = OutputFormat.table,
) -> None:
    """Latency (median, p10, p90, spread), throughput, achieved TFLOP/s and memory of the real module.

    Warm-up first; CUDA events on the GPU; an adaptive number of iterations. TFLOP/s use the engine's
    FLOPs (x3 in train mode). Peak FLOP/s and bandwidth for the roofline are measured once per device.
    """
    from cnncalc.bridge.require import torch_or_exit

    torch_or_exit("bench")
    path = resolve_or_fail(spec)
    batches = parse_batches(batch) if batch else [None]
    shape = parse_input_shape(input_shape)
    results = analyze_or_fail(path, *(InputOverrides(shape, size) for size in batches))

    import torch

    from cnncalc.bridge.bench import DTYPES, BenchConfig, run_benchmark
    from cnncalc.bridge.device_peaks import device_peaks

    if device is BenchDevice.cuda and not torch.cuda.is_available():
        print("error: --device cuda but no CUDA device is available\n  hint: use --device cpu", file=sys.stderr)
        raise typer.Exit(int(ExitCode.USAGE))
    chosen = (
        "cuda" if device is BenchDevice.cuda or (device is BenchDevice.auto and torch.cuda.is_available()) else "cpu"
    )
    config = BenchConfig(chosen, dtype.value, mode.value, channels_last, compile_model, target_time)
    peaks = device_peaks(chosen, DTYPES[dtype.value]) if per_layer else None
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    runs = []
    with Progress(
        console=console, transient=True, disable=len(results) == 1 and output_format is OutputFormat.json
    ) as bar:
        task = bar.add_task(f"benchmarking {results[0].name} on {chosen}", total=len(results))
        for result in results:
            try:
                runs.append(run_benchmark(result, config, peaks, per_layer))
            except RuntimeError as error:  # e.g. out of memory, or a dtype the device cannot run
                console.print(f"error: batch {result.totals.batch}: {error}".splitlines()[0], markup=False)
                raise typer.Exit(int(ExitCode.USAGE)) from None
            bar.advance(task)
    device_label = torch.cuda.get_device_name() if chosen == "cuda" else "cpu"
    if output_format is OutputFormat.json:
        from cnncalc.render.bench_table import bench_json

        sys.stdout.write(json.dumps(bench_json(results[0].name, device_label, runs, peaks), indent=2) + "\n")
        return
    from cnncalc.render.bench_table import print_bench

    print_bench(results[0].name, device_label, runs, peaks)
