"""`cnncalc fit`: the answer, and the memory components at it and one step beyond, in every format."""

from __future__ import annotations

import csv
import io
from typing import Any

from cnncalc.render.layout import Column, Table
from cnncalc.render.markdown import markdown_table
from cnncalc.render.printer import Printer
from cnncalc.render.units import grouped, human_bytes
from cnncalc.render.view import shape_text
from cnncalc.training.fit import FitResult, MemoryPoint, Refusal

COMPONENT_LABELS = {
    "param_bytes": "parameters and buffers",  # train: TrainingTotals.param_bytes holds both
    "buffer_bytes": "buffers",
    "peak_activation_bytes": "peak live activations",
    "gradient_bytes": "gradients",
    "optimizer_state_bytes": "optimizer state",
    "saved_activation_bytes": "saved activations",
    "saved_weight_copy_bytes": "saved weight copies",
    "backward_transient_bytes": "backward transient",
    "recomputed_activation_bytes": "recomputed activations",
}


def _label(result: FitResult, name: str) -> str:
    return "parameters" if result.mode == "infer" and name == "param_bytes" else COMPONENT_LABELS[name]


def peak_key(result: FitResult) -> str:
    return "training_peak_bytes" if result.mode == "train" else "inference_peak_bytes"


def _point_dict(result: FitResult, point: MemoryPoint | Refusal | None) -> dict[str, Any] | None:
    if point is None:
        return None
    document: dict[str, Any] = {"batch": point.batch, "input_shape": list(point.input_shape)}
    if isinstance(point, Refusal):
        return {**document, "fits": False, "refused": point.reason}
    return {
        **document,
        **dict(point.components),
        peak_key(result): point.peak_bytes,
        "fits": point.peak_bytes <= result.memory_bytes,
    }


def fit_document(result: FitResult) -> dict[str, Any]:
    """The JSON document of `cnncalc fit --format json` (the README lists its keys)."""
    formula = result.formula
    return {
        "name": result.name,
        "mode": result.mode,
        "solve": result.solve,
        "memory_bytes": result.memory_bytes,
        "optimizer": result.optimizer,
        "precision": result.precision,
        "freeze": list(result.freeze),
        "checkpoint": list(result.checkpoint),
        "step": result.step,
        "fits": result.fits,
        "answer": result.answer,
        "at": _point_dict(result, result.at),
        "beyond": _point_dict(result, result.beyond),
        "formula": None
        if formula is None
        else {
            "intercept_bytes": formula.intercept,
            "bytes_per_sample": formula.slope,
            "from_batch": formula.from_batch,
        },
        "evaluations": result.evaluations,
        "smallest_refused": _point_dict(result, result.smallest_refused),
    }


def _where(result: FitResult, point: MemoryPoint | Refusal) -> str:
    if result.solve == "batch":
        return f"batch {point.batch}"
    return "input " + shape_text(point.input_shape)


def headline(result: FitResult) -> str:
    budget = f"{human_bytes(result.memory_bytes)} ({grouped(result.memory_bytes)} B)"
    what = "batch" if result.solve == "batch" else "square input side"
    step = "" if result.solve == "batch" else f", in steps of the total stride {result.step}"
    how = f"training with {result.optimizer}" if result.mode == "train" else "inference"
    if result.precision not in (None, "fp32"):
        how += f" in {result.precision}"
    if result.answer is None:
        assert result.beyond is not None
        return f"{result.name}, {how}: nothing fits in {budget}, not even {_where(result, result.beyond)}"
    return f"{result.name}, {how}: the largest {what} that fits in {budget}{step} is {result.answer}"


def fit_table(result: FitResult) -> Table:
    """Components (rows) at the answer and one step beyond (columns), in bytes."""
    points = [point for point in (result.at, result.beyond) if point is not None]
    table = Table([Column("memory"), *(Column(_where(result, point), numeric=True) for point in points)])
    names = [name for name, _ in next((p.components for p in points if isinstance(p, MemoryPoint)), ())]
    for name in names:
        table.add_row(
            _label(result, name),
            *(grouped(point.component(name)) if isinstance(point, MemoryPoint) else "-" for point in points),
        )
    table.add_row(
        "peak estimate",
        *(grouped(point.peak_bytes) if isinstance(point, MemoryPoint) else "refused" for point in points),
    )
    table.add_row(
        "fits",
        *("yes" if isinstance(point, MemoryPoint) and point.peak_bytes <= result.memory_bytes else "no"
          for point in points),
    )  # fmt: skip
    return table


def notes(result: FitResult) -> list[str]:
    lines = []
    if result.smallest_refused is not None:
        below = "" if result.solve == "batch" else " and smaller"
        lines.append(f"{_where(result, result.smallest_refused)}{below}: the network cannot run there: "
                     f"{result.smallest_refused.reason}")  # fmt: skip
    if isinstance(result.beyond, Refusal):
        lines.append(f"{_where(result, result.beyond)}: the network cannot run there: {result.beyond.reason}")
    if result.answer is not None and result.beyond is None:
        lines.append("the answer is the largest dimension cnncalc takes (2,147,483,647)")
    if result.formula is not None:
        formula = result.formula
        checked = [point for point in (result.at, result.beyond) if isinstance(point, MemoryPoint)]
        holds = all(formula.at(point.batch) == point.peak_bytes for point in checked if point.batch >= 2)
        lines.append(
            f"memory from batch {formula.from_batch} on: {grouped(formula.intercept)} B + "
            f"{grouped(formula.slope)} B x batch ("
            + ("the engine agrees at the batches shown)" if holds else "not at the batches shown: searched instead)")
        )
    evaluations = f"{result.evaluations} engine evaluation{'s' if result.evaluations != 1 else ''}"
    lines.append(f"{evaluations}; bytes are exact (the peak estimate of `analyze`)")
    return lines


def print_fit(printer: Printer, result: FitResult) -> None:
    printer.line(headline(result), style="bold")
    printer.table(fit_table(result), "widen the terminal, or use --format json for every figure")
    for line in notes(result):
        printer.line(line, style="dim")


def fit_csv(result: FitResult) -> str:
    """One row per point (the answer, one step beyond): where, then every component, in bytes."""
    points = [("at", result.at), ("beyond", result.beyond)]
    documents = [(role, _point_dict(result, point)) for role, point in points if point is not None]
    keys: list[str] = []
    for _, document in documents:
        keys.extend(key for key in document or {} if key not in keys)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["point", "memory_bytes", *keys])
    for role, document in documents:
        assert document is not None
        row = [shape_text(tuple(value)) if key == "input_shape" else value for key, value in document.items()]
        values = dict(zip(document, row, strict=True))
        writer.writerow([role, result.memory_bytes, *(values.get(key, "") for key in keys)])
    return out.getvalue()


def fit_markdown(result: FitResult) -> str:
    lines = [f"**{headline(result)}**", "", *markdown_table(fit_table(result)), ""]
    lines.extend(f"- {line}" for line in notes(result))
    return "\n".join(lines)
