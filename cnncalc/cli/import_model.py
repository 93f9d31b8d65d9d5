"""`cnncalc import TARGET`: write a PyTorch model as a cnncalc spec (cnncalc/importer does the work)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cnncalc.base.errors import ExitCode
from cnncalc.cli.common import write_atomically
from cnncalc.cli.failure import fail
from cnncalc.cli.options import ColorOption, parse_input_shape
from cnncalc.render.style import ColorChoice


def import_command(
    target: Annotated[
        str,
        typer.Argument(
            metavar="TARGET",
            help="torchvision:NAME, timm:NAME, package.module:ATTR or path/to/file.py:ATTR (a module class with a "
            "no-argument constructor, a factory returning a module, or a module instance).",
            show_default=False,
        ),
    ],
    input_shape: Annotated[
        str, typer.Option("--input", "-i", help="The input to trace at: channels x sizes, e.g. 3x224x224.")
    ],
    batch: Annotated[int, typer.Option("--batch", "-b", min=1, help="The batch size written in the spec.")] = 1,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the spec to this file (default: standard output).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="The spec's name (default: the model's).")] = None,
    arguments: Annotated[
        list[str] | None,
        typer.Option(
            "--arg",
            metavar="KEY=VALUE",
            help="A keyword argument for the model's constructor or factory, e.g. num_classes=10 (repeatable).",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Compare the written spec with the original model layer by layer; exit 1 on any difference."
        ),
    ] = False,
    allow_uncounted: Annotated[
        bool,
        typer.Option(
            "--allow-uncounted",
            help="Write operations with no layer kind as `uncounted` layers of the traced shape (no work counted, "
            "flagged in every output, refused at other input sizes) instead of failing.",
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the Python traceback of a failure.")] = False,
    color: ColorOption = ColorChoice.auto,
) -> None:
    """Import a PyTorch model as a spec: trace it with torch.fx and write every operation as a layer.

    Weights are never downloaded (random initialisation, on the meta device when the model allows it). An
    operation with no cnncalc layer kind is an error that lists every such operation at once. Exit codes: 0
    written, 1 the model cannot be imported (or --check found a difference), 2 a bad target or option, 3 torch
    is not installed.
    """
    from cnncalc.bridge.require import torch_or_exit

    torch_or_exit("import", "traces the model with PyTorch")
    shape = parse_input_shape(input_shape)
    assert shape is not None
    try:
        spec, report = _import(target, shape, batch, name, arguments or [], check, allow_uncounted)
    except Exception as error:
        if debug:
            raise
        raise _failure(error) from None
    if output is None:
        sys.stdout.write(spec.text)
    else:
        write_atomically(output, spec.text)
        print(f"wrote {output} ({spec.text.count(chr(10))} lines)", file=sys.stderr)
    if report is not None:
        from cnncalc.render import verify_table
        from cnncalc.render.printer import printer_for
        from cnncalc.render.style import output_style

        # With the spec on standard output, the check goes to standard error: the spec stays a clean file.
        stream = sys.stderr if output is None else sys.stdout
        verify_table.print_report(printer_for(output_style(color, stream), stream), report)
        if not report.ok:
            raise typer.Exit(int(ExitCode.INVALID_SPEC))


def _import(
    target: str,
    shape: tuple[int, ...],
    batch: int,
    name: str | None,
    pairs: list[str],
    check: bool,
    allow_uncounted: bool,
):  # type: ignore[no-untyped-def]
    import torch

    from cnncalc.importer import import_module
    from cnncalc.importer.target import build, parse_arguments

    arguments = parse_arguments(pairs)
    built = build(target, arguments)
    label = name or target.partition(":")[2].rpartition(".")[2] or "model"
    origin = [f"Target: {target}" + (f", arguments {arguments}" if arguments else "")]
    versions = [f"torch {torch.__version__}"] + ([f"{built.library} {built.library_version}"] if built.library else [])
    origin.append("Versions: " + ", ".join(versions))
    spec = import_module(built.module, shape, batch, name=label, origin=origin, allow_uncounted=allow_uncounted)
    report = None
    if check:
        from cnncalc.engine.analysis import analyze_text
        from cnncalc.importer.check import check_against_model

        result = analyze_text(spec.text, f"<{label}>")
        report = check_against_model(build(target, arguments).module, result, label, allow_uncounted)
    return spec, report


def _failure(error: Exception) -> typer.Exit:
    from cnncalc.base.errors import SpecError
    from cnncalc.importer import ImportFailure

    if isinstance(error, ImportFailure):
        first, _, rest = error.message.partition("\n")
        message = first + (f"\n{rest}" if rest else "")
        return fail(message, ExitCode.USAGE if error.usage else ExitCode.INVALID_SPEC)
    if isinstance(error, SpecError):
        return fail(f"the written spec does not analyze (a cnncalc bug): {error}", ExitCode.INVALID_SPEC)
    return fail(
        f"importing failed: {type(error).__name__}: {error}",
        ExitCode.INVALID_SPEC,
        "run again with --debug for the traceback",
    )
