"""From a module to spec text: capture, convert, check that nothing is unsupported, write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from cnncalc.importer.capture import capture
from cnncalc.importer.convert import Conversion, UnsupportedUse, convert
from cnncalc.importer.errors import ImportFailure
from cnncalc.importer.writer import Group, NotContiguous, Shadowed, SpecWriter, build_tree, flatten_module


@dataclass(frozen=True)
class ImportedSpec:
    text: str  # the YAML spec
    name: str
    input_shape: tuple[int, ...]  # batch first
    unused_parameters: dict[str, int] = field(default_factory=dict)  # module path -> parameters the forward skips


def import_module(
    module: nn.Module,
    input_shape: tuple[int, ...],
    batch: int = 1,
    *,
    name: str | None = None,
    origin: list[str] | None = None,
    blocks: bool = True,
    allow_uncounted: bool = False,
) -> ImportedSpec:
    """Trace `module` at one `input_shape` (per sample: channels, *spatial) and write it as a spec.

    `origin` lines go into the header comment (where the model came from). Raises ImportFailure listing every
    operation cnncalc has no layer kind for.
    """
    label = name or type(module).__name__
    full_shape = (batch, *input_shape)
    captured = capture(module, full_shape, label)
    conversion = convert(captured, allow_uncounted)
    if conversion.unsupported:  # traced again with each operation's line of code, for the message
        conversion = convert(capture(module, full_shape, label, stack_traces=True), allow_uncounted)
        raise ImportFailure(unsupported_message(label, conversion.unsupported))
    placeholder = next(node for node in captured.graph_module.graph.nodes if node.op == "placeholder")  # the image
    if not conversion.layers:
        raise ImportFailure(f"{label}: the forward pass computes nothing cnncalc can count")
    if conversion.output is not conversion.layers[-1].node:
        raise ImportFailure(f"{label}: the model returns a value computed before its last operation")
    class_names = {path: type(submodule).__name__ for path, submodule in module.named_modules()}
    header = _header(label, full_shape, origin or [], conversion)
    # The written spec is analyzed before it is returned: its layers must be the traced ones, at their paths,
    # of their kinds and shapes. Blocks are a rewriting; should one ever not hold, the spec is written without.
    for with_blocks in (True, False) if blocks else (False,):
        body, block_lines = _write(conversion, placeholder, class_names, with_blocks, label)
        lines = [
            *header,
            f"name: {label}",
            "input:",
            f"  shape: [{', '.join(str(size) for size in input_shape)}]",
            f"  batch: {batch}",
            *(["  fixed: true  # traced with its sizes fixed: it holds at this input only"] if captured.fixed else []),
            *(["blocks:", *block_lines] if block_lines else []),
            "layers:",
            *("  " + line for line in body),
        ]
        text = "\n".join(lines) + "\n"
        expected = {layer.path: (layer.kind, captured.shape(layer.output_node)) for layer in conversion.layers}
        if _written_as_traced(text, expected):
            return ImportedSpec(text, label, full_shape, conversion.unused_parameters)
    raise ImportFailure(f"{label}: the written spec does not reproduce the traced model (a cnncalc bug)")


def _written_as_traced(text: str, expected: dict[str, tuple[str, tuple[int, ...]]]) -> bool:
    from cnncalc.base.errors import SpecError
    from cnncalc.engine.analysis import analyze_text

    try:
        result = analyze_text(text)
    except SpecError:
        return False
    return {row.path: (row.kind, row.output_shape) for row in result.layers} == expected


def layout(conversion: Conversion) -> Group:
    """The layers as groups of modules, each layer at its final path (the check compares by those paths)."""
    while True:
        try:
            return build_tree(conversion.layers)
        except NotContiguous as error:
            flatten_module(conversion.layers, error.path)


def _write(
    conversion: Conversion, placeholder: Any, class_names: dict[str, str], blocks: bool, label: str
) -> tuple[list[str], list[str]]:
    """The spec's `layers:` and `blocks:` lines. A module whose layers do not run together is written in its
    parent's scope; a group whose own input is hidden by a nearer name is written as a block (which calls it
    `input`)."""
    single: set[str] = set()
    refused: set[str] = set()  # groups whose block body cannot name what it reads
    for _attempt in range(1000):
        writer = SpecWriter(layout(conversion), placeholder, class_names)
        if blocks:
            writer.find_blocks(frozenset(single), frozenset(refused))
        try:
            return writer.lines(), writer.block_lines()
        except Shadowed as error:
            if error.base:
                refused.add(error.base)
                continue
            group = writer.group_reading_its_input(error.scope, error.node)
            if group is None or group in single or not blocks:
                raise ImportFailure(
                    f"{label}: a layer in {error.scope} reads {error.target}, whose name is hidden there"
                ) from None
            single.add(group)
    raise ImportFailure(f"{label}: the spec could not be written")


def spec_from_module(
    module: nn.Module, input_shape: tuple[int, ...], batch: int = 1, *, name: str | None = None
) -> str:
    """The YAML spec of `module` traced at `input_shape` (per sample, e.g. (3, 224, 224))."""
    return import_module(module, tuple(input_shape), batch, name=name).text


def _header(label: str, shape: tuple[int, ...], origin: list[str], conversion: Conversion) -> list[str]:
    lines = [f"# {label}, imported by cnncalc from PyTorch (torch {torch.__version__})."]
    lines += [f"# {line}" for line in origin]
    lines.append(
        f"# Traced at input {'x'.join(str(size) for size in shape)}. Layer names are the model's module paths."
    )
    if conversion.unused_parameters:
        total = sum(conversion.unused_parameters.values())
        where = ", ".join(sorted(conversion.unused_parameters))
        lines.append(
            f"# Not in this spec: {total:,} parameters of modules the forward pass does not use at inference ({where})."
        )
    return lines


def unsupported_message(label: str, unsupported: list[UnsupportedUse]) -> str:
    total = sum(use.count for use in unsupported)
    lines = [f"{label}: {total} operation{'s' if total != 1 else ''} with no cnncalc layer kind:"]
    for use in unsupported:
        paths = [path for path in use.module_paths if path]
        shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        where = f" in {shown}" if shown else ""
        times = f" ({use.count} times)" if use.count > 1 else ""
        lines.append(f"  {use.op}{times}{where}" + (f": {use.reason}" if use.reason else ""))
        if use.source:
            lines.append(f"    at {use.source}")
    lines.append("  hint: --allow-uncounted writes them as uncounted layers of the traced shape")
    return "\n".join(lines)
