"""`cnncalc analyze SPEC`: the per-layer table and totals of one network."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from cnncalc.base.errors import ExitCode
from cnncalc.cli.common import analyze_or_fail, printer, read_spec_or_fail, write_text
from cnncalc.cli.completion import complete_convention
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
    SpecArgument,
    parse_input_shape,
    training_options_or_fail,
)
from cnncalc.engine.analysis import InputOverrides
from cnncalc.render.style import ColorChoice
from cnncalc.render.view import display_rows

if TYPE_CHECKING:
    from cnncalc.engine.result import AnalysisResult
    from cnncalc.training import TrainingOptions, TrainingResult


def _columns_or_fail(text: str | None) -> tuple[str, ...] | None:
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
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth", "-d", min=1, help="Collapse blocks nested deeper than N into one row each (figures summed)."
        ),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            help="Columns of the table (and of CSV and Markdown), in order, comma-separated: name, type, input, "
            "output, params, params_pct, trainable, buffers, macs, macs_pct, flops, memory, kernel, stride, padding, "
            "dilation, groups, rf, rf_start. Default: name,type,output,params,macs,flops,rf.",
        ),
    ] = None,
    input_shape: Annotated[
        str | None, typer.Option("--input", "-i", help="Override the input: channels x sizes, e.g. 3x512x512.")
    ] = None,
    batch: Annotated[int | None, typer.Option("--batch", "-b", min=1, help="Override the batch size.")] = None,
    dtype: Annotated[
        Dtype | None, typer.Option("--dtype", help="Element type for memory figures.", case_sensitive=False)
    ] = None,
    convention: Annotated[
        str | None,
        typer.Option(
            "--convention",
            help="Also give the headline another tool prints: cnncalc, torchvision, torch, torchinfo, fvcore, "
            "ptflops, thop, deepspeed, calflops (see `cnncalc conventions`).",
            autocompletion=complete_convention,
        ),
    ] = None,
    mode: Annotated[
        Mode,
        typer.Option(
            "--mode",
            help="train: add a training step: backward FLOPs, what autograd keeps, gradients, optimizer state and "
            "the peak estimate (rules of PyTorch 2.13 on the CPU; see --precision).",
            case_sensitive=False,
        ),
    ] = Mode.infer,
    optimizer: OptimizerOption = Optimizer.adamw,
    freeze: FreezeOption = None,
    checkpoint: CheckpointOption = None,
    precision: PrecisionOption = Precision.fp32,
    color: ColorOption = ColorChoice.auto,
) -> None:
    """Shapes, parameters, MACs/FLOPs, memory and receptive field of every layer.

    Totals are for the whole batch; MACs count convolutions, linear layers and attention matmuls (bias
    excluded) and FLOPs = 2 x MACs. With --mode train, also a training step's backward FLOPs and memory.
    """
    chosen_columns = _columns_or_fail(columns)
    if convention is not None:
        from cnncalc.cli.conventions import convention_or_fail  # the conventions load only when asked for

        convention_or_fail(convention)
    overrides = InputOverrides(parse_input_shape(input_shape), batch, dtype.value if dtype else None)
    [result] = analyze_or_fail(read_spec_or_fail(spec), overrides)
    options = training_options_or_fail(mode.value, optimizer, freeze, checkpoint, precision)
    training = None if options is None else _training_or_fail(result, options)
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
