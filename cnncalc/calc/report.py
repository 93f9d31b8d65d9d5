"""Plain-text reports of a calculation: the headline figures of a layer, or a table for a stack.

Every figure is read from the engine's result; this module only arranges them.
"""

from __future__ import annotations

from collections.abc import Mapping

from cnncalc.calc.explain_field import field_summary
from cnncalc.calc.geometry import input_shape_of
from cnncalc.calc.worked import shape_text
from cnncalc.engine.result import AnalysisResult
from cnncalc.render.units import grouped, human, human_bytes
from cnncalc.render.view import field_text


def figures(result: AnalysisResult, rows: list[int] | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs: shapes, params, buffers, MACs, FLOPs, output memory, receptive field."""
    chosen = [result.layers[index] for index in rows] if rows is not None else list(result.layers)
    params = sum(row.params for row in chosen)
    buffers = sum(row.buffers for row in chosen)
    macs = sum(row.macs for row in chosen)
    last = chosen[-1]
    batch = result.totals.batch
    per_image = f"; {grouped(macs // batch)} per image" if batch > 1 and macs else ""
    lines = [
        ("input", shape_text(input_shape_of(result, chosen[0]))),
        ("output", shape_text(last.output_shape)),
        ("params", f"{grouped(params)}{_about(params)}"),
    ]
    if buffers:
        lines.append(("buffers", f"{grouped(buffers)} (BatchNorm running statistics, not params)"))
    lines.append(("MACs", f"{grouped(macs)}{_about(macs)}{per_image}"))
    if macs:
        lines.append(("FLOPs", f"{grouped(2 * macs)}{_about(2 * macs)} = 2 x MACs"))
    lines.append(
        (
            "output memory",
            f"{grouped(last.activation_bytes)} bytes ({human_bytes(last.activation_bytes)}, {result.dtype})",
        )
    )
    if last.global_field:
        lines.append(("receptive field", "global (every unit sees the whole input)"))
    elif last.field:
        lines.append(("receptive field", field_summary(last.field)))
    elif result.receptive_field:
        source = next(row for row in result.layers if row.path == result.receptive_field_layer)
        lines.append(("receptive field", f"{field_summary(result.receptive_field)}, of the {source.kind} units"))
    return lines


def _about(value: int) -> str:
    return f" ({human(value)})" if value >= 1000 else ""


def key_values(lines: list[tuple[str, str]], indent: int = 2) -> str:
    width = max(len(label) for label, _ in lines)
    return "\n".join(" " * indent + f"{label:<{width}}  {value}" for label, value in lines)


def stack_table(result: AnalysisResult, labels: Mapping[int, str]) -> str:
    """One line per row: label, output shape, params, MACs, receptive field size/jump."""
    header = ("#", "layer", "output", "params", "MACs", "RF size/jump")
    body = [
        (
            str(row.index + 1),
            labels.get(row.index, row.path),
            shape_text(row.output_shape),
            grouped(row.params) if row.params else "-",
            grouped(row.macs) if row.macs else "-",
            field_text(row.field, row.global_field),
        )
        for row in result.layers
    ]
    widths = [max(len(line[column]) for line in (header, *body)) for column in range(len(header))]
    right = {0, 3, 4}

    def render(line: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(width) if column in right else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return "\n".join([render(header), *(render(line) for line in body)])
