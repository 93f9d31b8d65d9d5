"""`cnncalc bench SPEC`: time the real module on the GPU (or CPU), with a batch sweep."""

from __future__ import annotations

import enum
import json
import sys
from typing import Annotated

import typer

from cnncalc.base.errors import ExitCode
from cnncalc.cli.common import analyze_or_fail, printer, read_spec_or_fail, write_text
from cnncalc.cli.failure import fail, refuse_format
from cnncalc.cli.options import ColorOption, FormatOption, OutputFormat, SpecArgument, parse_input_shape
from cnncalc.engine.analysis import InputOverrides
from cnncalc.render.style import ColorChoice


class BenchDevice(str, enum.Enum):
    auto = "auto"
    cuda = "cuda"
    cpu = "cpu"


class BenchDtype(str, enum.Enum):
    """The names `analyze --dtype` and a spec's `input.dtype` accept for the three precisions bench runs."""

    fp32 = "fp32"
    float32 = "float32"
    fp16 = "fp16"
    float16 = "float16"
    half = "half"
    bf16 = "bf16"
    bfloat16 = "bfloat16"

    @property
    def precision(self) -> str:
        """fp32, fp16 or bf16: the name the benchmark and its JSON use."""
        return {"float32": "fp32", "float16": "fp16", "half": "fp16", "bfloat16": "bf16"}.get(self.value, self.value)


class BenchMode(str, enum.Enum):
    inference = "inference"
    train = "train"


def parse_batches(text: str) -> list[int]:
    try:
        batches = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        batches = []
    if not batches or min(batches) < 1:
        raise fail(f"--batch {text!r} is not a list of positive sizes", ExitCode.USAGE, "e.g. --batch 1,8,32,128")
    return batches


def bench(
    spec: SpecArgument,
    batch: Annotated[str | None, typer.Option("--batch", "-b", help="Batch size, or a sweep: 1,8,32,128.")] = None,
    dtype: Annotated[
        BenchDtype, typer.Option(help="fp32, or fp16/bf16 under autocast (float16, half, bfloat16 too).")
    ] = BenchDtype.fp32,
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
    output_format: FormatOption = OutputFormat.table,
    color: ColorOption = ColorChoice.auto,
) -> None:
    """Latency (median, p10, p90, spread), throughput, achieved TFLOP/s and memory of the real module.

    Warm-up first; CUDA events on the GPU; an adaptive number of iterations. TFLOP/s use the engine's FLOPs
    (x3 in train mode). Peak FLOP/s and bandwidth for the roofline are measured once per device. A spread
    over 10% or fewer than 5 iterations is warned about.
    """
    from cnncalc.bridge.require import torch_or_exit

    torch_or_exit("bench")
    if per_layer and output_format is OutputFormat.csv:
        raise refuse_format(
            "bench --per-layer", output_format, "CSV holds one table and --per-layer gives two; use --format json"
        )
    batches = parse_batches(batch) if batch else [None]
    shape = parse_input_shape(input_shape)
    results = analyze_or_fail(read_spec_or_fail(spec), *(InputOverrides(shape, size) for size in batches))

    import torch

    from cnncalc.bridge.bench import DTYPES, BenchConfig, estimated_memory, run_benchmark
    from cnncalc.bridge.device_peaks import device_peaks
    from cnncalc.bridge.memory_check import shortfall
    from cnncalc.render import bench_table
    from cnncalc.render.units import human_bytes

    if device is BenchDevice.cuda and not torch.cuda.is_available():
        raise fail("--device cuda but no CUDA device is available", ExitCode.USAGE, "use --device cpu")
    chosen = (
        "cuda" if device is BenchDevice.cuda or (device is BenchDevice.auto and torch.cuda.is_available()) else "cpu"
    )
    precision = dtype.precision
    element_bytes = DTYPES[precision].itemsize
    for result in results:  # every size of the sweep is checked before the first one runs
        short = shortfall(estimated_memory(result, mode.value, element_bytes), chosen)
        if short is not None:
            raise fail(
                f"batch {result.totals.batch} needs about {human_bytes(short.needed)} on {chosen} (engine estimate: "
                f"weights, buffers and activations); {human_bytes(short.available)} is free",
                ExitCode.USAGE,
                "use a smaller --batch or --input",
            )
    config = BenchConfig(chosen, precision, mode.value, channels_last, compile_model, target_time)
    peaks = device_peaks(chosen, DTYPES[precision]) if per_layer else None
    from rich.console import Console
    from rich.progress import Progress

    from cnncalc.render.style import output_style

    # a progress bar is drawn with escape sequences: only where rich output is wanted (not with NO_COLOR)
    show_progress = output_style(color, sys.stderr).rich
    runs = []
    with Progress(console=Console(stderr=True), transient=True, disable=not show_progress) as bar:
        task = bar.add_task(f"benchmarking {results[0].name} on {chosen}", total=len(results))
        for result in results:
            try:
                runs.append(run_benchmark(result, config, peaks, per_layer))
            except RuntimeError as error:  # e.g. a dtype the device cannot run
                raise fail(f"batch {result.totals.batch}: {str(error).splitlines()[0]}", ExitCode.USAGE) from None
            bar.advance(task)
    device_label = torch.cuda.get_device_name() if chosen == "cuda" else "cpu"
    name = results[0].name
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(bench_table.bench_json(name, device_label, runs, peaks), indent=2) + "\n")
    elif output_format is OutputFormat.csv:
        write_text(bench_table.bench_csv(runs))
    elif output_format is OutputFormat.markdown:
        write_text(bench_table.bench_markdown(name, device_label, runs, peaks))
    else:
        bench_table.print_bench(printer(color), name, device_label, runs, peaks)
