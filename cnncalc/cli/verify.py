"""`cnncalc verify SPEC`: build the spec in PyTorch and check every engine number against it."""

from __future__ import annotations

import enum
import json
import sys
from typing import Annotated

import typer

from cnncalc.cli.common import OutputFormat, analyze_or_fail, parse_input_shape, resolve_or_fail
from cnncalc.engine.analysis import InputOverrides
from cnncalc.errors import ExitCode


class VerifyDevice(str, enum.Enum):
    auto = "auto"
    cuda = "cuda"
    cpu = "cpu"
    meta = "meta"


def verify(
    spec: Annotated[str, typer.Argument(help="Path to a YAML spec, or the name of a bundled spec.")],
    device: Annotated[
        VerifyDevice,
        typer.Option(help="Where to run: auto (cuda if available), cuda, cpu, or meta (allocates nothing)."),
    ] = VerifyDevice.auto,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.", case_sensitive=False)
    ] = OutputFormat.table,
    input_shape: Annotated[
        str | None, typer.Option("--input", "-i", help="Override the input, e.g. 3x512x512.")
    ] = None,
    batch: Annotated[int | None, typer.Option("--batch", "-b", min=1, help="Override the batch size.")] = None,
) -> None:
    """Build the network as a torch.nn.Module, run it, and compare shapes, params, buffers and FLOPs per layer.

    FLOPs come from torch.utils.flop_counter.FlopCounterMode. Exit code 0 when everything matches,
    1 when anything does not (or the spec is invalid), 3 when torch is not installed.
    """
    from cnncalc.bridge.require import torch_or_exit

    torch_or_exit("verify")
    path = resolve_or_fail(spec)
    [result] = analyze_or_fail(path, InputOverrides(parse_input_shape(input_shape), batch))
    import torch

    from cnncalc.bridge.verify import verify as run_verify

    if device is VerifyDevice.cuda and not torch.cuda.is_available():
        print("error: --device cuda but no CUDA device is available\n  hint: use --device cpu or meta", file=sys.stderr)
        raise typer.Exit(int(ExitCode.USAGE))
    report = run_verify(result, device.value)
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(_as_json(report), indent=2, default=str) + "\n")
    else:
        from cnncalc.render.verify_table import print_report

        print_report(report)
    if not report.ok:
        raise typer.Exit(int(ExitCode.INVALID_SPEC))


def _as_json(report) -> dict[str, object]:
    return {
        "name": report.name,
        "device": report.device,
        "torch_version": report.torch_version,
        "ok": report.ok,
        "mismatches": report.mismatches(),
        "totals": {name: {"engine": engine, "torch": measured} for name, (engine, measured) in report.totals.items()},
        "layers": [
            {
                "name": layer.path,
                "type": layer.kind,
                "ok": layer.ok,
                "engine": {
                    key: list(value) if isinstance(value, tuple) else value for key, value in layer.expected.items()
                },
                "torch": {
                    key: list(value) if isinstance(value, tuple) else value for key, value in layer.measured.items()
                },
                "note": layer.note,
            }
            for layer in report.layers
        ],
    }
