"""What `cnncalc calc` prints: the figures of the calculation, then (with --explain) the worked solution."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cnncalc.calc.compare import explain_separable_ratio, separable_ratio
from cnncalc.calc.explain_field import explain_field_stack
from cnncalc.calc.explain_layer import explain_row, layer_title
from cnncalc.calc.geometry import input_shape_of
from cnncalc.calc.report import figures, indented, stack_table
from cnncalc.calc.stack_syntax import StackLayer, labels_by_row
from cnncalc.calc.worked import Worked
from cnncalc.engine.result import AnalysisResult
from cnncalc.render.printer import Printer


def print_calculation(
    printer: Printer,
    result: AnalysisResult,
    shown: Sequence[int],
    explain: bool,
    standard: AnalysisResult | None = None,
    stack_layers: Sequence[StackLayer] | None = None,
) -> None:
    """The report of one calculation; `shown` are the rows the user asked about (not scaffolding)."""
    if stack_layers is not None:
        labels = labels_by_row(list(stack_layers), [row.path for row in result.layers])
        printer.table(stack_table(result, labels), "widen the terminal, or use --json")
        printer.line()
        printer.pairs(figures(result), title="Totals")
    elif len(shown) == 1:
        row = result.layers[shown[0]]
        printer.line(layer_title(row, input_shape_of(result, row)))
        printer.pairs(indented(figures(result, list(shown))))
    else:
        for index in shown:
            printer.line(layer_title(result.layers[index], input_shape_of(result, result.layers[index])))
            printer.pairs(indented(figures(result, [index])[1:]))
        printer.line("Together")
        printer.pairs(indented(figures(result, list(shown))))
    if standard is not None:
        ratio = separable_ratio(result, standard)
        printer.line("Compared with a standard convolution (same kernel, stride, padding)")
        printer.pairs(
            indented(
                [
                    ("params", f"{standard.totals.params:,} (separable: {result.totals.params:,})"),
                    ("MACs", f"{standard.totals.macs:,} (separable: {result.totals.macs:,})"),
                    ("cost ratio", f"{ratio.numerator}/{ratio.denominator} ≈ {float(ratio):.4f} (MACs)"),
                ]
            )
        )
    if explain:
        printer.line()
        printer.line("Worked solution")
        for line in _worked(result, shown, standard, stack_layers).text().splitlines():
            printer.line(line)


def calculation_json(
    result: AnalysisResult,
    shown: Sequence[int],
    explain: bool,
    standard: AnalysisResult | None = None,
    stack_layers: Sequence[StackLayer] | None = None,
) -> str:
    worked = _worked(result, shown, standard, stack_layers) if explain else None
    return _json(result, standard, worked)


def _worked(
    result: AnalysisResult,
    shown: Sequence[int],
    standard: AnalysisResult | None,
    stack_layers: Sequence[StackLayer] | None,
) -> Worked:
    worked = Worked()
    if stack_layers is not None:
        labels = labels_by_row(list(stack_layers), [row.path for row in result.layers])
        worked.extend(explain_field_stack(result, labels))
        worked.say("")
        worked.say("Layer by layer:")
        for index in shown:
            worked.say("")
            worked.say(f"{index + 1}. {labels[index]}")
            worked.extend(explain_row(result, result.layers[index], ("shape", "params", "macs")), 1)
        return worked
    for position, index in enumerate(shown):
        if position:
            worked.say("")
        worked.extend(explain_row(result, result.layers[index]))
    if standard is not None:
        conv_row = standard.layers[0]
        depthwise_row = result.layers[shown[0]]
        worked.say("")
        worked.extend(
            explain_separable_ratio(
                result, standard, depthwise_row.spec.kernel, conv_row.spec.out, depthwise_row.spec.multiplier
            )
        )
    return worked


def _json(result: AnalysisResult, standard: AnalysisResult | None, worked: Worked | None) -> str:
    from cnncalc.render.machine import to_dict
    from cnncalc.render.view import display_rows

    document: dict[str, Any] = to_dict(result, display_rows(result))
    if standard is not None:
        ratio = separable_ratio(result, standard)
        document["standard_conv"] = {"params": standard.totals.params, "macs": standard.totals.macs}
        document["cost_ratio"] = {"numerator": ratio.numerator, "denominator": ratio.denominator, "value": float(ratio)}
    if worked is not None:
        document["explanation"] = worked.lines
    return json.dumps(document, indent=2, ensure_ascii=False)
