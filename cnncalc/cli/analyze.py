"""`cnncalc analyze SPEC`: the per-layer table and totals of one network."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cnncalc.cli.common import (
    Dtype,
    OutputFormat,
    analyze_or_fail,
    parse_input_shape,
    resolve_or_fail,
    stdout_is_terminal,
)
from cnncalc.engine.analysis import InputOverrides
from cnncalc.render.view import display_rows


def analyze(
    spec: Annotated[
        str, typer.Argument(help="Path to a YAML spec, or the name of a bundled spec (see `cnncalc zoo`).")
    ],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = OutputFormat.table,
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth", "-d", min=1, help="Collapse blocks nested deeper than N into one row each (figures summed)."
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
        ),
    ] = None,
) -> None:
    """Shapes, parameters, MACs/FLOPs, memory and receptive field of every layer.

    Totals are for the whole batch; MACs count convolutions, linear layers and attention matmuls
    (bias excluded) and FLOPs = 2 x MACs.
    """
    path = resolve_or_fail(spec)
    if convention is not None:
        from cnncalc.cli.conventions import convention_or_fail  # the conventions load only when asked for

        convention_or_fail(convention)
    overrides = InputOverrides(parse_input_shape(input_shape), batch, dtype.value if dtype else None)
    [result] = analyze_or_fail(path, overrides)
    rows = display_rows(result, depth)
    headline = None
    if convention is not None:
        from cnncalc.conventions import count_as

        headline = count_as(result, convention)
    if output_format is OutputFormat.table and stdout_is_terminal():
        from rich.console import Console  # only a terminal gets rich

        from cnncalc.render.terminal import print_analysis

        print_analysis(Console(), result, rows, headline)
        return
    if output_format is OutputFormat.table:
        from cnncalc.render.plain import render_plain

        sys.stdout.write(render_plain(result, rows, headline))
        return
    from cnncalc.render import machine

    renderers = {
        OutputFormat.json: lambda: machine.render_json(result, rows, headline),
        OutputFormat.csv: lambda: machine.render_csv(result, rows),  # per-layer rows only: no headline
        OutputFormat.markdown: lambda: machine.render_markdown(result, rows, headline),
    }
    text_out = renderers[output_format]()
    sys.stdout.write(text_out if text_out.endswith("\n") else text_out + "\n")
