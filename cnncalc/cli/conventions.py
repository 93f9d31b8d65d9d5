"""`cnncalc conventions SPEC`: the number every other tool prints for this network, and why they differ."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from cnncalc.base.errors import ExitCode
from cnncalc.cli.common import analyze_or_fail, printer, read_spec_or_fail, write_text
from cnncalc.cli.failure import fail
from cnncalc.cli.options import ColorOption, FormatOption, OutputFormat, SpecArgument, parse_input_shape
from cnncalc.engine.analysis import InputOverrides
from cnncalc.render.style import ColorChoice


def convention_or_fail(name: str) -> None:
    """Exit with a usage error (code 2) unless `name` is a known convention."""
    from cnncalc.conventions import convention_names
    from cnncalc.language.pydantic_errors import did_you_mean

    names = convention_names()
    if name not in names:
        hint = did_you_mean(name, names) or f"one of: {', '.join(names)}"
        raise fail(f"unknown convention {name!r}", ExitCode.USAGE, hint)


def conventions(
    spec: SpecArgument,
    output_format: FormatOption = OutputFormat.table,
    input_shape: Annotated[
        str | None, typer.Option("--input", "-i", help="Override the input: channels x sizes, e.g. 3x512x512.")
    ] = None,
    batch: Annotated[int | None, typer.Option("--batch", "-b", min=1, help="Override the batch size.")] = None,
    color: ColorOption = ColorChoice.auto,
) -> None:
    """Each tool's headline for this network side by side: torchvision, FlopCounterMode, torchinfo, fvcore,
    ptflops, thop, DeepSpeed and calflops, computed from the spec without running it.

    The columns after the headline say where each one differs from cnncalc's MACs: bias, norms,
    activations, pooling, transposed convolutions, attention, layers the tool misses, FLOPs vs MACs,
    and per image vs per batch.
    """
    [result] = analyze_or_fail(read_spec_or_fail(spec), InputOverrides(parse_input_shape(input_shape), batch))

    from cnncalc.conventions import count_all
    from cnncalc.render import conventions_table

    counts = count_all(result)
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(conventions_table.conventions_document(result, counts), indent=2) + "\n")
    elif output_format is OutputFormat.csv:
        write_text(conventions_table.conventions_csv(result, counts))
    elif output_format is OutputFormat.markdown:
        write_text(conventions_table.conventions_markdown(result, counts))
    else:
        conventions_table.print_conventions(printer(color), result, counts)
