"""`cnncalc analyze SPEC`: the per-layer table and totals of one network."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from cnncalc.base.errors import ExitCode
from cnncalc.cli.common import printer, read_spec_or_fail, write_text
from cnncalc.cli.completion import complete_convention
from cnncalc.cli.failure import fail
from cnncalc.cli.options import (
    BatchOption,
    CheckpointOption,
    ColorOption,
    ColumnsOption,
    DepthOption,
    DtypeOption,
    FormatOption,
    FreezeOption,
    InputOption,
    Mode,
    ModeOption,
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
from cnncalc.cli.variables import SetOption, analyze_set_or_fail
from cnncalc.engine.analysis import InputOverrides
from cnncalc.render.style import ColorChoice
from cnncalc.render.view import display_rows

if TYPE_CHECKING:
    from cnncalc.engine.result import AnalysisResult
    from cnncalc.training import TrainingOptions, TrainingResult


def columns_or_fail(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    from cnncalc.language.pydantic_errors import did_you_mean
    from cnncalc.render.layer_columns import LAYER_COLUMNS, UnknownColumnError, parse_columns

    try:
        columns = parse_columns(text)
    except UnknownColumnError as error:
        hint = did_you_mean(error.key, LAYER_COLUMNS) or f"one of: {', '.join(LAYER_COLUMNS)}"
        raise fail(f"--columns: unknown column {error.key!r}", ExitCode.USAGE, hint) from None
    if not columns:
        raise fail("--columns needs at least one column", ExitCode.USAGE, f"one of: {', '.join(LAYER_COLUMNS)}")
    return columns


def analyze(
    spec: SpecArgument,
    output_format: FormatOption = OutputFormat.table,
    depth: DepthOption = None,
    columns: ColumnsOption = None,
    input_shape: InputOption = None,
    batch: BatchOption = None,
    dtype: DtypeOption = None,
    convention: Annotated[
        str | None,
        typer.Option(
            "--convention",
            help="Also give the headline another tool prints: cnncalc, torchvision, torch, torchinfo, fvcore, "
            "ptflops, thop, deepspeed, calflops (see `cnncalc conventions`).",
            autocompletion=complete_convention,
        ),
    ] = None,
    mode: ModeOption = Mode.infer,
    optimizer: OptimizerOption = Optimizer.adamw,
    freeze: FreezeOption = None,
    checkpoint: CheckpointOption = None,
    precision: PrecisionOption = Precision.fp32,
    device: RulesDeviceOption = RulesDevice.cpu,
    settings: SetOption = None,
    color: ColorOption = ColorChoice.auto,
) -> None:
    """Shapes, parameters, MACs/FLOPs, memory and receptive field of every layer.

    Totals are for the whole batch; MACs count convolutions, linear layers and attention matmuls (bias
    excluded) and FLOPs = 2 x MACs. With --mode train, also a training step's backward FLOPs and memory.
    """
    chosen_columns = columns_or_fail(columns)
    if convention is not None:
        from cnncalc.cli.conventions import convention_or_fail  # the conventions load only when asked for

        convention_or_fail(convention)
    overrides = InputOverrides(parse_input_shape(input_shape), batch, dtype.value if dtype else None)
    [result] = analyze_set_or_fail(read_spec_or_fail(spec), settings, overrides)
    training = training_step_or_fail(result, mode, optimizer, freeze, checkpoint, precision, device)
    rows = display_rows(result, depth, training.layers if training else None)
    headline = None
    if convention is not None:
        from cnncalc.conventions import count_as

        headline = count_as(result, convention)
    if output_format is OutputFormat.table:
        from cnncalc.render.analysis_text import print_analysis

        print_analysis(printer(color), result, rows, headline, chosen_columns, training)
        return
    from cnncalc.render import machine

    if output_format is OutputFormat.json:
        machine.write_json(result, rows, headline, sys.stdout, training)
    elif output_format is OutputFormat.csv:  # per-layer rows only: no headline
        write_text(machine.render_csv(result, rows, chosen_columns, training is not None))
    else:
        write_text(machine.render_markdown(result, rows, headline, chosen_columns, training))


def training_step_or_fail(
    result: AnalysisResult,
    mode: Mode,
    optimizer: Optimizer,
    freeze: list[str] | None,
    checkpoint: list[str] | None,
    precision: Precision = Precision.fp32,
    device: RulesDevice = RulesDevice.cpu,
) -> TrainingResult | None:
    """With --mode train, the training step of the options (None for inference); a training option without
    --mode train, or a step the network cannot take, ends the command."""
    options = training_options_or_fail(mode.value, optimizer, freeze, checkpoint, precision, device)
    return None if options is None else _training_or_fail(result, options)


def _training_or_fail(result: AnalysisResult, options: TrainingOptions) -> TrainingResult:
    from cnncalc.training import TrainingRefused, analyze_training, training_problem

    problem = training_problem(result, options.freeze, options.checkpoint)
    if problem is not None:
        message, hint = problem
        raise fail(message, ExitCode.USAGE, hint)
    try:
        return analyze_training(result, options)
    except TrainingRefused as refused:
        raise fail(refused.message, ExitCode.INVALID_SPEC, refused.hint) from None
