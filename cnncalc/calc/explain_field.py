"""Worked receptive fields: the Distill recurrence, layer by layer, checked against the engine's fields.

    r_out = r_in + (k_eff - 1) * j_in      j_out = j_in * s      start_out = start_in + p_left * j_in

with k_eff = d * (k - 1) + 1. `start` is the effective padding: unit 0 of a feature map sees input pixels
from -start to -start + r - 1.
"""

from __future__ import annotations

from collections.abc import Mapping

from cnncalc.base.tensor import AxisField
from cnncalc.calc.geometry import AxisWindow, Window, input_field_of, window_of, windows_of
from cnncalc.calc.worked import Worked, group_axes, num
from cnncalc.engine.result import AnalysisResult, LayerRow
from cnncalc.render.view import axis_names

RECURRENCE = "r = r_in + (k_eff − 1) × j_in;  j = j_in × s;  start = start_in + p_left × j_in"


def field_step_text(window: AxisWindow, before: AxisField, after: AxisField, worked: Worked) -> str:
    """One application of the recurrence, with the numbers substituted; checked against `after`."""
    k_eff = window.effective_kernel
    size = before.size + (k_eff - 1) * before.jump
    jump = before.jump * window.stride
    start = before.start + window.pad_left * before.jump
    worked.check("receptive field size", size, after.size)
    worked.check("jump", jump, after.jump)
    worked.check("effective padding", start, after.start)
    kernel = f"k_eff = {window.dilation}·({window.kernel} − 1) + 1 = {k_eff}; " if window.dilation > 1 else ""
    return (
        f"{kernel}r = {num(before.size)} + ({k_eff} − 1) × {num(before.jump)} = {num(size)};  "
        f"j = {num(before.jump)} × {window.stride} = {num(jump)};  "
        f"start = {num(before.start)} + {window.pad_left} × {num(before.jump)} = {num(start)}"
    )


def field_summary(field: tuple[AxisField, ...]) -> str:
    """'7 (jump 2, start 3)' when every axis agrees, else 'H 7 (jump 2, start 3); W 5 (jump 1, start 2)'."""

    def one(axis: AxisField) -> str:
        size = f"{num(axis.size_min)}-{num(axis.size)}" if axis.size_min not in (None, axis.size) else num(axis.size)
        every = f", repeating every {axis.period} units" if axis.period not in (None, 1) else ""
        return f"{'' if axis.exact else '~'}{size} (jump {num(axis.jump)}, start {num(axis.start)}{every})"

    groups = group_axes(axis_names(len(field)), list(field))
    if len(groups) == 1:
        return one(field[0])
    return "; ".join(f"{label} {one(field[first])}" for label, first in groups)


def explain_row_field(result: AnalysisResult, row: LayerRow, worked: Worked, indent: int = 0) -> None:
    """The receptive field of one row's units, from the field of what it reads."""
    before = input_field_of(result, row)
    if row.global_field:
        worked.say("global: every unit depends on the whole input (global pooling or attention)", indent)
        return
    if row.field is None or before is None:
        worked.say("no spatial receptive field (the spatial axes are gone)", indent)
        return
    windows = windows_of(row)
    names = axis_names(len(row.field))
    if windows is not None and any(axis.reach is not None or not axis.exact for axis in before):
        # After upsampling units read different pixel counts: the recurrence holds per unit, not for all.
        for label, first in group_axes(names, [(windows[i], before[i], row.field[i]) for i in range(len(names))]):
            prefix = f"{label}: " if len(names) > 1 else ""
            jump = before[first].jump * windows[first].stride
            worked.check("jump", jump, row.field[first].jump)
            worked.say(
                f"{prefix}units of an upsampled map see different pixel counts, so r is worked out per unit: "
                f"{field_summary((row.field[first],))}; j = {num(before[first].jump)} × {windows[first].stride} = "
                f"{num(jump)}",
                indent,
            )
        return
    if windows is not None:
        steps = [(windows[i], before[i], row.field[i]) for i in range(len(windows))]
        for label, first in group_axes(names, steps):
            prefix = f"{label}: " if len(names) > 1 else ""
            worked.say(prefix + field_step_text(*steps[first], worked), indent)
        return
    if window_of(row) is Window.TRANSPOSED:
        for label, first in group_axes(names, [(before[i], row.field[i]) for i in range(len(names))]):
            prefix = f"{label}: " if len(names) > 1 else ""
            after = row.field[first]
            worked.say(
                f"{prefix}upsampling divides the jump by the stride: j = {num(before[first].jump)} / "
                f"{row.geometry.axes[first].stride} = "  # type: ignore[union-attr]
                f"{num(after.jump)}; units read different input counts: {field_summary((after,))}",
                indent,
            )
        return
    if row.field == before:
        worked.say(f"unchanged: {field_summary(row.field)} (the layer works pixel by pixel)", indent)
        return
    worked.say(f"{field_summary(row.field)} (resampling; see the README's receptive-field rules)", indent)


def explain_field_stack(result: AnalysisResult, labels: Mapping[int, str] | None = None) -> Worked:
    """The recurrence through every row of a result, from the input pixel (r = 1, j = 1, start = 0)."""
    labels = labels or {}
    worked = Worked()
    worked.say("Receptive field, layer by layer (r = size in input pixels, j = jump, start = effective padding):")
    worked.say(RECURRENCE, 1)
    worked.say("input: r = 1, j = 1, start = 0", 1)
    for row in result.layers:
        label = labels.get(row.index, f"{row.path} ({row.kind})")
        step = Worked()
        explain_row_field(result, row, step)
        if len(step.lines) == 1:
            worked.say(f"{label}: {step.lines[0]}", 1)
        else:
            worked.say(f"{label}:", 1)
            worked.extend(step, 2)
    if result.receptive_field is not None:
        deepest = next(row for row in result.layers if row.path == result.receptive_field_layer)
        label = labels.get(deepest.index, f"{deepest.path} ({deepest.kind})")
        worked.say(f"Receptive field after {label}: {field_summary(result.receptive_field)}")
    return worked
