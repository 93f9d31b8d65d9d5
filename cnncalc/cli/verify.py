"""`cnncalc verify SPEC`: build the spec in PyTorch and check every engine number against it."""

from __future__ import annotations

import enum
import json
import sys
from typing import Annotated

import typer

from cnncalc.base.errors import ExitCode
from cnncalc.cli.common import analyze_or_fail, printer, read_spec_or_fail, write_text
from cnncalc.cli.failure import fail
from cnncalc.cli.options import (
    ColorOption,
    FormatOption,
    Mode,
    OutputFormat,
    Precision,
    PrecisionOption,
    SpecArgument,
    parse_input_shape,
)
from cnncalc.engine.analysis import InputOverrides
from cnncalc.engine.result import AnalysisResult
from cnncalc.render.style import ColorChoice


class VerifyDevice(str, enum.Enum):
    auto = "auto"
    cuda = "cuda"
    cpu = "cpu"
    meta = "meta"


def verify(
    spec: SpecArgument,
    device: Annotated[
        VerifyDevice,
        typer.Option(help="Where to run: auto (cuda if available), cuda, cpu, or meta (allocates nothing)."),
    ] = VerifyDevice.auto,
    output_format: FormatOption = OutputFormat.table,
    input_shape: Annotated[
        str | None, typer.Option("--input", "-i", help="Override the input, e.g. 3x512x512.")
    ] = None,
    batch: Annotated[int | None, typer.Option("--batch", "-b", min=1, help="Override the batch size.")] = None,
    mode: Annotated[
        Mode,
        typer.Option(
            "--mode",
            help="train: run a training step (forward and backward; CPU, meta or CUDA) and compare each layer's "
            "backward FLOPs (FlopCounterMode) and saved activation bytes (saved_tensors_hooks) with the rules.",
            case_sensitive=False,
        ),
    ] = Mode.infer,
    precision: PrecisionOption = Precision.fp32,
    color: ColorOption = ColorChoice.auto,
) -> None:
    """Build the network as a torch.nn.Module, run it, and compare shapes, params, buffers and FLOPs per layer.

    FLOPs come from torch.utils.flop_counter.FlopCounterMode. With --mode train, one training step instead:
    backward FLOPs and the bytes autograd keeps, per layer. Exit code 0 when everything matches, 1 when
    anything does not (or the spec is invalid), 2 when the network does not fit in the device's free memory,
    3 when torch is not installed.
    """
    from cnncalc.bridge.require import torch_or_exit

    torch_or_exit("verify")
    [result] = analyze_or_fail(read_spec_or_fail(spec), InputOverrides(parse_input_shape(input_shape), batch))
    if mode is Mode.train:
        _verify_training(result, device, precision, output_format, color)
        return
    if precision is not Precision.fp32:
        raise fail("--precision applies to a training step", ExitCode.USAGE, "add --mode train")
    import torch

    from cnncalc.bridge.memory_check import inference_bytes, shortfall
    from cnncalc.bridge.verify import pick_device
    from cnncalc.bridge.verify import verify as run_verify
    from cnncalc.render import verify_table
    from cnncalc.render.units import human_bytes

    if device is VerifyDevice.cuda and not torch.cuda.is_available():
        raise fail("--device cuda but no CUDA device is available", ExitCode.USAGE, "use --device cpu or meta")
    chosen = pick_device(device.value)
    short = shortfall(inference_bytes(result), chosen)
    if short is not None:
        raise fail(
            f"{result.name} at input {'x'.join(map(str, result.input_shape))} needs about "
            f"{human_bytes(short.needed)} on {chosen} (weights, buffers and the largest live activations, float32); "
            f"{human_bytes(short.available)} is free",
            ExitCode.USAGE,
            "--device meta checks shapes, parameters and FLOPs without allocating anything; "
            "or use a smaller --input or --batch",
        )
    report = run_verify(result, chosen)
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(verify_table.report_json(report), indent=2, default=str) + "\n")
    elif output_format is OutputFormat.csv:
        write_text(verify_table.report_csv(report))
    elif output_format is OutputFormat.markdown:
        write_text(verify_table.report_markdown(report))
    else:
        verify_table.print_report(printer(color), report)
    if not report.ok:
        raise typer.Exit(int(ExitCode.INVALID_SPEC))


def _verify_training(
    result: AnalysisResult,
    device: VerifyDevice,
    precision: Precision,
    output_format: OutputFormat,
    color: ColorChoice,
) -> None:
    """One training step against the training rules of the device it runs on, at the precision."""
    import torch

    from cnncalc.training import TrainingOptions, TrainingRefused, analyze_training, training_problem

    cuda = torch.cuda.is_available()
    if device is VerifyDevice.cuda and not cuda:
        raise fail("--device cuda but no CUDA device is available", ExitCode.USAGE, "use --device cpu or meta")
    if device is VerifyDevice.meta and precision is not Precision.fp32:
        raise fail(
            f"--precision {precision.value} runs the forward under autocast, which has no meta device",
            ExitCode.USAGE,
            "use --device cpu",
        )
    chosen = {VerifyDevice.meta: "meta", VerifyDevice.cpu: "cpu"}.get(device, "cuda" if cuda else "cpu")
    problem = training_problem(result, ())
    if problem is not None:
        raise fail(problem[0], ExitCode.USAGE, problem[1])
    try:
        options = TrainingOptions(precision=precision.value, device="cuda" if chosen == "cuda" else "cpu")
        rules = analyze_training(result, options)
    except TrainingRefused as refused:
        raise fail(refused.message, ExitCode.INVALID_SPEC, refused.hint) from None
    from cnncalc.bridge.memory_check import shortfall
    from cnncalc.bridge.verify_training import meta_problem, verify_training
    from cnncalc.render import verify_training_table
    from cnncalc.render.units import human_bytes

    if chosen == "meta":
        reason = meta_problem(result)
        if reason is not None:
            raise fail(f"--device meta would not run what the CPU runs: {reason}", ExitCode.USAGE, "use --device cpu")
    short = shortfall(rules.totals.training_peak_bytes, chosen)
    if short is not None:
        raise fail(
            f"a training step of {result.name} at input {'x'.join(map(str, result.input_shape))} needs about "
            f"{human_bytes(short.needed)} on {chosen} (the rules' training peak); {human_bytes(short.available)} "
            "is free",
            ExitCode.USAGE,
            "--device meta measures without allocating anything; or use a smaller --input or --batch",
        )
    report = verify_training(result, chosen, rules, precision=precision.value)
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(verify_training_table.report_json(report), indent=2) + "\n")
    elif output_format is OutputFormat.csv:
        write_text(verify_training_table.report_csv(report))
    elif output_format is OutputFormat.markdown:
        write_text(verify_training_table.report_markdown(report))
    else:
        verify_training_table.print_report(printer(color), report)
    if not report.ok:
        raise typer.Exit(int(ExitCode.INVALID_SPEC))
