"""`cnncalc sweep SPEC`: the totals of one network across inputs, batches and spec variables, with charts."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cnncalc.base.errors import ExitCode, SpecError
from cnncalc.cli.common import SourceCache, printer, read_spec_or_fail, spec_failure, write_text
from cnncalc.cli.failure import fail, refuse_format
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
    training_options_or_fail,
)
from cnncalc.cli.startup import collection_paused
from cnncalc.render.style import ColorChoice

if TYPE_CHECKING:  # loaded when a sweep runs, not when the command is built
    from cnncalc.language.yaml_source import LoadedDocument
    from cnncalc.sweeps.grid import Grid, Parameter
    from cnncalc.sweeps.run import SweepRow


def sweep(
    spec: SpecArgument,
    input_shape: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            help="Inputs: channels x sizes, any axis a list in braces: 3x{128..1024..64} (128 to 1024 in steps "
            "of 64; one size for a 2-d network is a square input), 3x{224,320}, 3x{128,256}x{128,256}.",
        ),
    ] = None,
    batch: Annotated[
        str | None, typer.Option("--batch", "-b", help="Batches: 1,8,32 or 1..64..8 (inclusive end, step).")
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A top-level spec variable (`vars:`) and its values: --set width=0.5,0.75,1.0 or "
            "--set depth=1..4; repeat for several.",
        ),
    ] = None,
    zipped: Annotated[
        bool,
        typer.Option(
            "--zip", help="Take the lists together (the i-th value of each; all of one length), not every combination."
        ),
    ] = False,
    metrics: Annotated[
        str | None,
        typer.Option(
            "--metrics",
            "-m",
            help="The totals shown, comma-separated, named as in `analyze --format json`'s totals: params, "
            "trainable_params, buffers, macs, flops, macs_per_sample, flops_per_sample, param_bytes, "
            "buffer_bytes, activation_bytes, peak_activation_bytes, ...; with --mode train also backward_flops, "
            "training_flops, saved_activation_bytes, training_peak_bytes, .... Default: params,macs,flops,"
            "peak_activation_bytes (--mode train: params,flops,training_flops,training_peak_bytes).",
        ),
    ] = None,
    mode: Annotated[
        Mode,
        typer.Option(
            "--mode",
            help="train: add a training step's totals at every point, as `analyze --mode train`.",
            case_sensitive=False,
        ),
    ] = Mode.infer,
    optimizer: OptimizerOption = Optimizer.adamw,
    freeze: FreezeOption = None,
    checkpoint: CheckpointOption = None,
    precision: PrecisionOption = Precision.fp32,
    device: RulesDeviceOption = RulesDevice.cpu,
    dtype: Annotated[
        Dtype | None, typer.Option("--dtype", help="Element type for memory figures.", case_sensitive=False)
    ] = None,
    chart: Annotated[
        bool, typer.Option("--chart", help="Below the table, a chart of each figure against one parameter.")
    ] = False,
    chart_x: Annotated[
        str | None,
        typer.Option("--chart-x", help="The parameter along the charts' x axis (size, H, W, C, batch or a variable)."),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help='Also write the charts to FILE: .png, .svg or .pdf (needs matplotlib: pip install "cnncalc[plot]").',
            dir_okay=False,
        ),
    ] = None,
    output_format: FormatOption = OutputFormat.table,
    color: ColorOption = ColorChoice.auto,
) -> None:
    """The totals of a network at many inputs, batches and spec variables, each equal to an `analyze` there.

    Lists combine as a product (every combination; the last varies fastest) or, with --zip, side by side.
    The network is expanded once and only its layer rules run again at each input, so sweeps of thousands of
    points take about as long as a few analyses.
    """
    from cnncalc.sweeps.grid import GridError, build_grid
    from cnncalc.sweeps.output import ChartRefused, chart_axis, point_text
    from cnncalc.sweeps.run import PointFailed, TrainingProblem, network_name, run_sweep, spatial_rank

    training = mode is Mode.train
    chosen = _metrics_or_fail(metrics, training)
    options = training_options_or_fail(mode.value, optimizer, freeze, checkpoint, precision, device)
    if chart and output_format is not OutputFormat.table:
        raise refuse_format("sweep --chart", output_format, "the terminal chart goes under the table; use --plot FILE")
    if plot is not None:
        _plot_possible_or_fail(plot)
    text = read_spec_or_fail(spec)
    sources = SourceCache()
    sources.add(text.label, text.text)
    from cnncalc.language.yaml_source import load_yaml

    try:
        loaded = load_yaml(text.text, text.label)
    except SpecError as error:
        raise spec_failure(error, sources) from None
    assignments = [_setting_or_fail(setting, loaded.data) for setting in settings or ()]
    try:
        grid = build_grid(input_shape, batch, assignments, spatial_rank(loaded.data), zipped)
    except GridError as error:
        raise fail(error.message, ExitCode.USAGE, error.hint) from None
    axis = None
    if chart or plot is not None:
        try:
            axis = chart_axis(grid, chart_x)
        except ChartRefused as refused:
            raise fail(refused.message, ExitCode.USAGE, refused.hint) from None
    elif chart_x is not None:
        raise fail("--chart-x chooses the axis of a chart", ExitCode.USAGE, "add --chart or --plot FILE")
    try:
        with collection_paused():
            rows = run_sweep(loaded, grid.points, dtype.value if dtype else None, options)
    except PointFailed as failed:
        print(f"error: the network cannot be analysed at {point_text(failed.point)}:", file=sys.stderr)
        raise spec_failure(failed.error, sources) from None
    except TrainingProblem as problem:
        where = f"at {point_text(problem.point)}: " if not problem.usage else ""
        code = ExitCode.USAGE if problem.usage else ExitCode.INVALID_SPEC
        raise fail(f"{where}{problem.message}", code, problem.hint) from None
    _print(grid, rows, chosen, loaded, output_format, color, axis if chart else None, mode.value)
    if plot is not None and axis is not None:
        _write_plot(plot, grid, rows, chosen, axis, network_name(loaded))


def _print(
    grid: Grid,
    rows: list[SweepRow],
    metrics: tuple[str, ...],
    loaded: LoadedDocument,
    output_format: OutputFormat,
    color: ColorChoice,
    axis: Parameter | None,
    mode: str,
) -> None:
    from cnncalc.sweeps import output
    from cnncalc.sweeps.run import network_name

    name = network_name(loaded)
    if output_format is OutputFormat.json:
        document = output.sweep_document(name, loaded.source.file, grid, rows, metrics, mode)
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    elif output_format is OutputFormat.csv:
        write_text(output.sweep_csv(rows, metrics))
    elif output_format is OutputFormat.markdown:
        from cnncalc.render.markdown import markdown_table

        write_text("\n".join(markdown_table(output.sweep_table(name, grid, rows, metrics))))
    else:
        target = printer(color)
        target.table(output.sweep_table(name, grid, rows, metrics))
        if axis is not None:  # written whole: a chart's lines fit the width, escape sequences included
            from cnncalc.render.line_chart import chart_lines

            for drawn in output.sweep_charts(name, grid, rows, metrics, axis):
                target.stream.write("\n" + "\n".join(chart_lines(drawn, target.width, target.look.styles)) + "\n")


def _metrics_or_fail(text: str | None, training: bool) -> tuple[str, ...]:
    from cnncalc.base.errors import UsageError
    from cnncalc.sweeps.run import chosen_metrics

    try:
        return chosen_metrics(None if text is None else text.split(","), training)
    except UsageError as error:
        raise fail(error.message, ExitCode.USAGE, error.hint) from None


def _setting_or_fail(setting: str, data: Any) -> tuple[str, str]:
    """`--set NAME=VALUES` -> (NAME, VALUES), NAME one of the spec's top-level `vars`."""
    from cnncalc.language.variables import VariableSettingError, check_variable, split_setting

    try:
        name, values = split_setting(setting, "--set", "--set width=0.5,0.75,1.0", "NAME=VALUES")
        check_variable(name, data, "--set")
    except VariableSettingError as error:
        raise fail(error.message, ExitCode.USAGE, error.hint) from None
    return name, values


def _plot_possible_or_fail(path: Path) -> None:
    from cnncalc.render.plot_file import FORMATS, INSTALL_HINT, plotting_available

    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise fail(
            f"--plot {str(path)!r}: the file's extension chooses the format", ExitCode.USAGE, "one of: .png, .svg, .pdf"
        )
    if not plotting_available():
        print(
            "error: `cnncalc sweep --plot` draws with matplotlib, which is not installed.\n"
            f"  hint: {INSTALL_HINT}   (everything else works without it: --chart draws in the terminal)",
            file=sys.stderr,
        )
        raise typer.Exit(int(ExitCode.MISSING_DEPENDENCY))


def _write_plot(
    path: Path, grid: Grid, rows: list[SweepRow], metrics: tuple[str, ...], axis: Parameter, name: str
) -> None:
    from cnncalc.render.plot_file import write_plot
    from cnncalc.sweeps.output import grid_summary, sweep_charts

    try:
        write_plot(sweep_charts(name, grid, rows, metrics, axis), path, f"{name}: {grid_summary(grid)}")
    except OSError as error:
        raise fail(f"--plot {str(path)!r}: cannot write it ({error.strerror or error})", ExitCode.USAGE) from None
