"""`cnncalc fit SPEC --memory 24GiB`: the largest batch, or square input, whose memory estimate fits."""

from __future__ import annotations

import enum
import json
import sys
from typing import Annotated

import typer

from cnncalc.base.errors import ExitCode, SpecError, UsageError
from cnncalc.cli.common import SourceCache, printer, read_spec_or_fail, spec_failure, write_text
from cnncalc.cli.failure import fail
from cnncalc.cli.options import (
    CheckpointOption,
    ColorOption,
    Dtype,
    FormatOption,
    FreezeOption,
    Mode,
    Optimizer,
    OptimizerOption,
    OutputFormat,
    Precision,
    PrecisionOption,
    RulesDevice,
    RulesDeviceOption,
    SpecArgument,
    parse_input_shape,
    training_options_or_fail,
)
from cnncalc.cli.startup import collection_paused
from cnncalc.render.style import ColorChoice


class Solve(str, enum.Enum):
    batch = "batch"
    resolution = "resolution"


def fit(
    spec: SpecArgument,
    memory: Annotated[
        str,
        typer.Option(
            "--memory",
            "-m",
            help="The memory budget: 24GiB, 24GB, 24000MiB or plain bytes (KB, MB, GB, TB are powers of 1000; "
            "KiB, MiB, GiB, TiB powers of 1024).",
        ),
    ],
    mode: Annotated[
        Mode,
        typer.Option(
            "--mode",
            help="train (default): the peak estimate of a training step, as `analyze --mode train`; infer: "
            "parameters + buffers + peak live activations.",
            case_sensitive=False,
        ),
    ] = Mode.train,
    solve: Annotated[
        Solve,
        typer.Option(
            "--solve",
            help="batch (default): the largest batch at the spec's input; resolution: the largest square input "
            "at the spec's batch, in steps of the network's total stride.",
            case_sensitive=False,
        ),
    ] = Solve.batch,
    optimizer: OptimizerOption = Optimizer.adamw,
    freeze: FreezeOption = None,
    checkpoint: CheckpointOption = None,
    precision: PrecisionOption = Precision.fp32,
    device: RulesDeviceOption = RulesDevice.cpu,
    input_shape: Annotated[
        str | None,
        typer.Option("--input", "-i", help="With --solve batch: the input to solve at, channels x sizes (3x512x512)."),
    ] = None,
    batch: Annotated[
        int | None, typer.Option("--batch", "-b", min=1, help="With --solve resolution: the batch to solve at.")
    ] = None,
    dtype: Annotated[
        Dtype | None, typer.Option("--dtype", help="Element type for memory figures.", case_sensitive=False)
    ] = None,
    output_format: FormatOption = OutputFormat.table,
    color: ColorOption = ColorChoice.auto,
) -> None:
    """The largest batch (or square input) whose peak memory estimate fits in --memory, with the memory
    components at that point and one step beyond.

    Exact integers, from the engine's own estimate, in a handful of evaluations whatever the size: memory is
    a line in the batch from batch 2 on (solved, then checked), and grows with the input size (searched by
    doubling and bisection).
    """
    from cnncalc.training import TrainingOptions
    from cnncalc.training.fit import FitProblem, fit_memory, parse_memory

    try:
        budget = parse_memory(memory)
    except UsageError as error:
        raise fail(f"--memory: {error.message}", ExitCode.USAGE, error.hint) from None
    options = training_options_or_fail(
        mode.value, optimizer, freeze, checkpoint, precision, device, train_hint="drop --mode infer"
    )
    if solve is Solve.batch and batch is not None:
        raise fail("--batch is what --solve batch finds", ExitCode.USAGE, "drop --batch, or use --solve resolution")
    if solve is Solve.resolution and input_shape is not None:
        raise fail("--input sets the sizes --solve resolution finds", ExitCode.USAGE, "drop --input, or --solve batch")
    text = read_spec_or_fail(spec)
    sources = SourceCache()
    sources.add(text.label, text.text)
    try:
        from cnncalc.language.yaml_source import load_yaml

        with collection_paused():
            result = fit_memory(
                load_yaml(text.text, text.label),
                budget,
                mode=mode.value,
                solve=solve.value,
                options=options or TrainingOptions(),
                sample=parse_input_shape(input_shape),
                batch=batch,
                dtype=dtype.value if dtype else None,
            )
    except SpecError as error:
        raise spec_failure(error, sources) from None
    except UsageError as error:
        raise fail(error.message, ExitCode.USAGE, error.hint) from None
    except FitProblem as problem:
        raise fail(problem.message, ExitCode.INVALID_SPEC, problem.hint) from None
    from cnncalc.render import fit_table

    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(fit_table.fit_document(result), indent=2) + "\n")
    elif output_format is OutputFormat.csv:
        write_text(fit_table.fit_csv(result))
    elif output_format is OutputFormat.markdown:
        write_text(fit_table.fit_markdown(result))
    else:
        fit_table.print_fit(printer(color), result)
