"""`cnncalc conventions SPEC`: the number every other tool prints for this network, and why they differ."""

from __future__ import annotations

import enum
import json
import sys
from typing import Annotated

import typer

from cnncalc.cli.common import analyze_or_fail, fail, parse_input_shape, resolve_or_fail, stdout_is_terminal
from cnncalc.engine.analysis import InputOverrides
from cnncalc.errors import ExitCode


class ConventionsFormat(str, enum.Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


def convention_or_fail(name: str) -> None:
    """Exit with a usage error (code 2) unless `name` is a known convention."""
    from cnncalc.conventions import convention_names
    from cnncalc.spec.pydantic_errors import did_you_mean

    names = convention_names()
    if name not in names:
        hint = did_you_mean(name, names) or f"one of: {', '.join(names)}"
        raise fail(f"unknown convention {name!r}", ExitCode.USAGE, hint)


def conventions(
    spec: Annotated[str, typer.Argument(help="Path to a YAML spec, or the name of a bundled spec.")],
    output_format: Annotated[
        ConventionsFormat, typer.Option("--format", "-f", help="table, json or markdown.", case_sensitive=False)
    ] = ConventionsFormat.table,
    input_shape: Annotated[
        str | None, typer.Option("--input", "-i", help="Override the input: channels x sizes, e.g. 3x512x512.")
    ] = None,
    batch: Annotated[int | None, typer.Option("--batch", "-b", min=1, help="Override the batch size.")] = None,
) -> None:
    """Each tool's headline for this network side by side: torchvision, FlopCounterMode, torchinfo, fvcore,
    ptflops, thop, DeepSpeed and calflops, computed from the spec without running it.

    The columns after the headline say where each one differs from cnncalc's MACs: bias, norms,
    activations, pooling, transposed convolutions, attention, layers the tool misses, FLOPs vs MACs,
    and per image vs per batch.
    """
    path = resolve_or_fail(spec)
    [result] = analyze_or_fail(path, InputOverrides(parse_input_shape(input_shape), batch))

    from cnncalc.conventions import count_all
    from cnncalc.render import conventions_table

    counts = count_all(result)
    if output_format is ConventionsFormat.json:
        sys.stdout.write(json.dumps(conventions_table.conventions_document(result, counts), indent=2) + "\n")
    elif output_format is ConventionsFormat.markdown:
        sys.stdout.write(conventions_table.conventions_markdown(result, counts))
    else:
        from rich.console import Console

        console = Console(width=None if stdout_is_terminal() else 200)
        conventions_table.print_conventions(console, result, counts)
