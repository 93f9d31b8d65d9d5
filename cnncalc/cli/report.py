"""`cnncalc report SPEC [-o report.html]`: one self-contained HTML page of the analysis."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from cnncalc.base.errors import ExitCode
from cnncalc.cli.analyze import columns_or_fail, training_step_or_fail
from cnncalc.cli.common import STDIN_LABEL, read_spec_or_fail, write_atomically
from cnncalc.cli.failure import fail
from cnncalc.cli.options import (
    BatchOption,
    CheckpointOption,
    ColumnsOption,
    DepthOption,
    DtypeOption,
    FreezeOption,
    InputOption,
    Mode,
    ModeOption,
    Optimizer,
    OptimizerOption,
    Precision,
    PrecisionOption,
    RulesDevice,
    RulesDeviceOption,
    SpecArgument,
    parse_input_shape,
)
from cnncalc.cli.variables import SetOption, analyze_set_or_fail
from cnncalc.engine.analysis import InputOverrides
from cnncalc.render.units import human_bytes

STDOUT_ARGUMENT = "-"
REPORT_SNIFF_BYTES = 1024  # a report names its generator in its first few hundred bytes


def report(
    spec: SpecArgument,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="The HTML file to write, or - for standard output. Default: the spec's name with .html, in the "
            "current folder; a file of that name is replaced only when it is an earlier cnncalc report.",
        ),
    ] = None,
    depth: DepthOption = None,
    columns: ColumnsOption = None,
    input_shape: InputOption = None,
    batch: BatchOption = None,
    dtype: DtypeOption = None,
    mode: ModeOption = Mode.infer,
    optimizer: OptimizerOption = Optimizer.adamw,
    freeze: FreezeOption = None,
    checkpoint: CheckpointOption = None,
    precision: PrecisionOption = Precision.fp32,
    device: RulesDeviceOption = RulesDevice.cpu,
    settings: SetOption = None,
) -> None:
    """Write one HTML page with the analysis: totals, the per-layer table (sort, filter, collapse blocks), charts
    of FLOPs, parameters, activation memory and receptive field along the network, the other tools'
    conventions, and the spec with its warnings at their lines.

    The page is self-contained: styles, script, data and charts are inline, and it makes no network request,
    so it opens offline. Options as for `analyze`; --depth collapses the table's deeper blocks at first (each
    can be expanded) and groups the per-layer charts as `analyze --depth` groups rows.
    """
    chosen_columns = columns_or_fail(columns)
    text = read_spec_or_fail(spec)
    overrides = InputOverrides(parse_input_shape(input_shape), batch, dtype.value if dtype else None)
    [result] = analyze_set_or_fail(text, settings, overrides)
    training = training_step_or_fail(result, mode, optimizer, freeze, checkpoint, precision, device)

    from cnncalc.render.html_report import GENERATOR, ReportInputs, render_report

    page = render_report(ReportInputs(result, text.text, depth, chosen_columns, training))
    if output == STDOUT_ARGUMENT:
        sys.stdout.write(page)
        return
    path = Path(output) if output is not None else default_output(text.label, result.name)
    replacing = path.exists()
    if output is None and replacing and not _is_report(path, GENERATOR):
        raise fail(
            f"{path} exists and is not a cnncalc report: not replaced",
            ExitCode.USAGE,
            f"choose the file with -o (-o {path} replaces it)",
        )
    size = write_atomically(path, page)
    verb = "replaced" if replacing else "wrote"
    print(f"{verb} {path} ({human_bytes(size)}, {len(result.layers):,} layers)", file=sys.stderr)


def default_output(label: str, name: str) -> Path:
    """`resnet50.html` for specs/resnet50.yaml or the bundled resnet50; for a spec read from standard input, its
    `name:` (characters other than letters, digits, `.`, `_` and `-` left out)."""
    stem = name if label == STDIN_LABEL else Path(label).stem
    safe = re.sub(r"[^A-Za-z0-9._-]", "", stem).lstrip(".")
    return Path(f"{safe or 'report'}.html")


def _is_report(path: Path, generator: str) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(REPORT_SNIFF_BYTES)
    except OSError:
        return False
    return f'<meta name="generator" content="{generator} '.encode() in head
