"""The analysis in machine-readable formats (JSON with stable keys, CSV) and as a Markdown document.

No rich import on this path.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from cnncalc import __version__
from cnncalc.engine.result import AnalysisResult, Totals
from cnncalc.render.headline import headline_keys, headline_lines
from cnncalc.render.units import grouped, human, human_bytes
from cnncalc.render.view import DisplayRow, field_axes, field_text, shape_text

if TYPE_CHECKING:
    from cnncalc.conventions import NetworkCount
    from cnncalc.training import TrainingResult


def to_dict(
    result: AnalysisResult,
    rows: list[DisplayRow],
    headline: NetworkCount | None = None,
    training: TrainingResult | None = None,
) -> dict[str, Any]:
    """The JSON document. Keys documented in the README are stable; new keys may be added. With `training`
    (`--mode train`), the totals and every layer carry the figures of a training step too."""
    document = {
        "cnncalc_version": __version__,
        "name": result.name,
        "file": result.file,
        "convention": result.convention,
        "input_shape": list(result.input_shape),
        "output_shape": list(result.output_shape),
        "batch": result.totals.batch,
        "dtype": result.dtype,
        "totals": totals_dict(result, headline),
        "receptive_field": field_axes(result.receptive_field),
        "receptive_field_layer": result.receptive_field_layer,
        "layers": [_layer_dict(row) for row in rows],
        # Operations an imported spec carries without counting them (`import --allow-uncounted`).
        "uncounted": [{"layer": row.path, "op": row.spec.op} for row in result.layers if row.kind == "uncounted"],
        "warnings": [issue.as_dict() for issue in result.warnings],
    }
    if training is not None:
        document["totals"].update(training_totals_dict(training))
        document["mode"] = "train"
        document["training_rules"] = training.rules_follow
    return document


def training_totals_dict(training: TrainingResult) -> dict[str, Any]:
    """The totals `--mode train` adds (the Python API's `TrainingTotals` holds the same keys)."""
    totals = training.totals
    return {
        "optimizer": totals.optimizer,
        "precision": totals.precision,
        "backward_flops": totals.backward_flops,
        "torch_backward_flops": totals.torch_backward_flops,
        "training_flops": totals.training_flops,
        "recompute_flops": totals.recompute_flops,
        "gradient_bytes": totals.gradient_bytes,
        "optimizer_state_bytes": totals.optimizer_state_bytes,
        "saved_activation_bytes": totals.saved_activation_bytes,
        "saved_weight_copy_bytes": totals.saved_weight_copy_bytes,
        "backward_transient_bytes": totals.backward_transient_bytes,
        "recomputed_activation_bytes": totals.recomputed_activation_bytes,
        "training_peak_bytes": totals.training_peak_bytes,
    }


def totals_dict(result: AnalysisResult, headline: NetworkCount | None = None) -> dict[str, Any]:
    """The JSON's `totals` (the Python API's `Totals` holds the same keys)."""
    return {**count_totals_dict(result.totals), **headline_keys(result, headline)}


def count_totals_dict(totals: Totals) -> dict[str, int]:
    """The figures of the JSON's `totals` (its keys but the headline's), from the engine's totals alone."""
    batch = totals.batch
    return {
        "params": totals.params,
        "trainable_params": totals.trainable_params,
        "non_trainable_params": totals.non_trainable_params,
        "buffers": totals.buffers,
        # which buffers are what: BatchNorm running statistics (the model's dtype) and int64 index tables
        "running_stat_buffers": totals.running_stat_buffers,
        "index_buffers": totals.index_buffers,
        "macs": totals.macs,
        "flops": totals.flops,
        "macs_per_sample": totals.macs // batch,
        "flops_per_sample": totals.flops // batch,
        "param_bytes": totals.param_bytes,
        "buffer_bytes": totals.buffer_bytes,
        "activation_bytes": totals.activation_bytes,
        "peak_activation_bytes": totals.peak_activation_bytes,
    }


def _layer_dict(row: DisplayRow) -> dict[str, Any]:
    layer = {
        "name": row.name,
        "type": row.kind,
        "depth": row.depth,
        "input_shapes": [list(shape) for shape in row.input_shapes],
        "output_shape": list(row.output_shape),
        "params": row.params,
        "trainable_params": row.trainable_params,
        "buffers": row.buffers,
        "running_stat_buffers": row.running_stat_buffers,
        "index_buffers": row.index_buffers,
        "macs": row.macs,
        "flops": row.flops,
        "activation_bytes": row.activation_bytes,
        "receptive_field": field_axes(row.field) if not row.global_field else None,
        "global_receptive_field": row.global_field,
        "layers": row.layers,
        "functional": row.functional,
    }
    if row.backward_flops is not None:
        layer["backward_flops"] = row.backward_flops
        layer["saved_activation_bytes"] = row.saved_activation_bytes
        layer["recompute_flops"] = row.recompute_flops
        layer["saved_weight_copy_bytes"] = row.saved_weight_copy_bytes
    return layer


def buffers_text(totals: Totals) -> str:
    """The buffers, saying which are what: running statistics, and int64 index tables where there are any."""
    if not totals.index_buffers:
        return f"{grouped(totals.buffers)} (BatchNorm running statistics)"
    if not totals.running_stat_buffers:
        return f"{grouped(totals.buffers)} (int64 index tables, 8 bytes each)"
    return (
        f"{grouped(totals.buffers)} ({grouped(totals.running_stat_buffers)} running statistics, "
        f"{grouped(totals.index_buffers)} int64 index entries)"
    )


def render_json(
    result: AnalysisResult,
    rows: list[DisplayRow],
    headline: NetworkCount | None = None,
    training: TrainingResult | None = None,
) -> str:
    return json.dumps(to_dict(result, rows, headline, training), indent=2)


_LAYERS_GO_HERE = "\u0000layers"  # a placeholder no real key or value contains


def write_json(
    result: AnalysisResult,
    rows: Sequence[DisplayRow],
    headline: NetworkCount | None,
    stream: TextIO,
    training: TrainingResult | None = None,
) -> None:
    """`render_json`'s text, written a layer at a time: a 100,000-layer network never holds the whole document
    (or a dict per layer) in memory at once."""
    document = to_dict(result, [], headline, training)
    document["layers"] = [_LAYERS_GO_HERE]
    head, tail = json.dumps(document, indent=2).split(json.dumps(_LAYERS_GO_HERE))
    stream.write(head)
    for position, row in enumerate(rows):
        if position:
            stream.write(",\n    ")
        stream.write(json.dumps(_layer_dict(row), indent=2).replace("\n", "\n    "))
    stream.write(tail + "\n")


def render_csv(
    result: AnalysisResult, rows: list[DisplayRow], columns: Sequence[str] | None = None, training: bool = False
) -> str:
    """One line per row with machine values (no thousands separators); `columns` as `analyze --columns`."""
    from cnncalc.render.layer_columns import csv_header_and_rows  # not on the JSON path, which starts faster

    header, body = csv_header_and_rows(rows, result.totals, columns, training)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    return buffer.getvalue()


def summary_lines(
    result: AnalysisResult, headline: NetworkCount | None = None, training: TrainingResult | None = None
) -> list[tuple[str, str]]:
    """(label, value) pairs of the totals, shared by the Markdown and terminal renderers."""
    totals = result.totals
    batch = totals.batch
    per_sample = f" ({human(totals.macs // batch)} per sample)" if batch > 1 else ""
    lines = [
        ("Input", f"{shape_text(result.input_shape)} ({result.dtype})"),
        ("Output", shape_text(result.output_shape)),
        (
            "Params",
            f"{grouped(totals.params)} ({human(totals.params)}); trainable {grouped(totals.trainable_params)}, "
            f"non-trainable {grouped(totals.non_trainable_params)}",
        ),
        ("Buffers", buffers_text(totals)),
        ("MACs", f"{grouped(totals.macs)} ({human(totals.macs)}){per_sample}"),
        ("FLOPs", f"{grouped(totals.flops)} ({human(totals.flops)}) = 2 x MACs"),
        *headline_lines(headline),
        ("Parameter memory", f"{human_bytes(totals.param_bytes)} (+ {human_bytes(totals.buffer_bytes)} buffers)"),
        (
            "Activation memory",
            f"{human_bytes(totals.activation_bytes)} all outputs; "
            f"{human_bytes(totals.peak_activation_bytes)} peak live in inference",
        ),
    ]
    if result.receptive_field:
        legend = "size/jump/start"
        periods = [axis.period for axis in result.receptive_field]
        if any(period is not None and period > 1 for period in periods):
            # After upsampling units see different pixel counts, in a pattern that repeats every N units.
            every = str(periods[0]) if len(set(periods)) == 1 else "x".join(str(period) for period in periods)
            varies = any(axis.size_min is not None and axis.size_min != axis.size for axis in result.receptive_field)
            legend = f"{'fewest-most pixels' if varies else 'size'}/jump/start, repeating every {every} units"
        lines.append(
            (
                "Receptive field",
                f"{field_text(result.receptive_field, False, with_start=True)} ({legend}) "
                f"at {result.receptive_field_layer}",
            )
        )
    if training is not None:
        lines.extend(training_lines(result, training))
    return lines


def training_lines(result: AnalysisResult, training: TrainingResult) -> list[tuple[str, str]]:
    """The totals of a training step: work, then the memory estimate's components."""
    totals = training.totals
    backward = f"{grouped(totals.backward_flops)} ({human(totals.backward_flops)})"
    if totals.torch_backward_flops != totals.backward_flops:
        backward += f"; FlopCounterMode counts {grouped(totals.torch_backward_flops)}"
    model = result.totals.param_bytes + result.totals.buffer_bytes
    work = "forward + backward + recomputation" if totals.recompute_flops else "forward + backward"
    recomputed = []
    if totals.recompute_flops:
        recomputed = [
            ("Recompute FLOPs", f"{grouped(totals.recompute_flops)} ({human(totals.recompute_flops)}) checkpointed"),
        ]
    transient = f"largest backward transient {human_bytes(totals.backward_transient_bytes)}"
    copies, copies_term = [], ""
    if totals.precision != "fp32":
        kept = f"{human_bytes(totals.saved_weight_copy_bytes)} half-precision weights autocast keeps"
        copies, copies_term = [("Saved weight copies", kept)], " + weight copies"
    if totals.recomputed_activation_bytes:
        transient += f" + largest recomputed block {human_bytes(totals.recomputed_activation_bytes)}"
    return [
        ("Backward FLOPs", backward),
        *recomputed,
        ("Training FLOPs", f"{grouped(totals.training_flops)} ({human(totals.training_flops)}) = {work}"),
        ("Gradients", human_bytes(totals.gradient_bytes)),
        (f"Optimizer state ({totals.optimizer})", human_bytes(totals.optimizer_state_bytes)),
        ("Saved activations", f"{human_bytes(totals.saved_activation_bytes)} kept by autograd for the backward"),
        *copies,
        (
            "Training peak",
            f"{human_bytes(totals.training_peak_bytes)} = parameters and buffers {human_bytes(model)} + gradients "
            f"+ optimizer state + saved activations{copies_term} + {transient}",
        ),
        ("Training rules", training.rules_follow),
    ]


def render_markdown(
    result: AnalysisResult,
    rows: list[DisplayRow],
    headline: NetworkCount | None = None,
    columns: Sequence[str] | None = None,
    training: TrainingResult | None = None,
) -> str:
    """The terminal's table (same cells, same shapes) as a Markdown table, then the totals."""
    from cnncalc.render.layer_columns import layer_table
    from cnncalc.render.markdown import markdown_table

    table = layer_table(rows, result.totals, columns, training=training is not None)
    out = [f"## {result.name}", "", *markdown_table(table), ""]
    out.extend(f"- **{label}**: {value}" for label, value in summary_lines(result, headline, training))
    out.append(f"- **Convention**: {result.convention}")
    for issue in result.warnings:
        out.append(f"- **Warning** ({issue.location}): {issue.message}")
    return "\n".join(out) + "\n"
