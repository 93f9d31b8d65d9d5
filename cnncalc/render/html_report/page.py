"""The report as one self-contained HTML page: styles, script and data inline, charts as inline SVG.

The page loads nothing: its Content-Security-Policy allows no request at all (no fonts, no images but data:
URIs, no scripts or styles but its own inline ones), so it opens offline and from an e-mail attachment alike.
"""

from __future__ import annotations

import json
from collections import defaultdict
from html import escape
from importlib.resources import files

from cnncalc import __version__
from cnncalc.base.errors import SpecIssue
from cnncalc.render.html_report import charts
from cnncalc.render.html_report.model import (
    ReportInputs,
    chart_rows,
    document,
    inference_live_bytes,
    kept_for_backward,
    stage_rows,
    table_columns,
)
from cnncalc.render.layer_columns import LAYER_COLUMNS
from cnncalc.render.layout import Table
from cnncalc.render.machine import summary_lines
from cnncalc.render.units import human, human_bytes
from cnncalc.render.view import axis_names, shape_text

GENERATOR = "cnncalc report"  # the <meta name="generator"> a report carries: `report` replaces only its own files
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)


def _asset(name: str) -> str:
    return files("cnncalc.render.html_report").joinpath(name).read_text(encoding="utf-8")


def _script_json(data: object) -> str:
    """JSON safe inside <script>: no '<' at all, so no '</script>' or '<!--' can end or change the element."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def render_report(inputs: ReportInputs) -> str:
    """The whole page."""
    result = inputs.result
    title = f"{result.name}: cnncalc report"
    mode = "a training step (--mode train)" if inputs.training else "inference"
    subtitle = (
        f"{result.file} · input {shape_text(result.input_shape)} · batch {result.totals.batch} · {result.dtype} · "
        f"{len(result.layers):,} layers · {mode} · cnncalc {__version__}"
    )
    sections = [
        ("totals", "Totals", _totals(inputs)),
        ("charts", "Charts", _charts(inputs)),
        ("layers", "Layers", _table_section(inputs)),
        ("conventions", "Conventions", _conventions(inputs)),
        ("source", "Spec", _source(inputs)),
    ]
    nav = "".join(f'<a href="#section-{key}">{escape(heading)}</a>' for key, heading, _ in sections)
    body = "".join(
        f'<section id="section-{key}"><h2>{escape(heading)}</h2>{content}</section>'
        for key, heading, content in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        f'<meta name="generator" content="{GENERATOR} {__version__}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{_asset('report.css')}</style></head>"
        f"<body><header><h1>{escape(result.name)}</h1><p>{escape(subtitle)}</p></header>"
        f"<nav>{nav}</nav><main>{body}</main>"
        f'<script id="cnncalc-data" type="application/json">{_script_json(document(inputs))}</script>'
        f"<script>{_asset('report.js')}</script></body></html>\n"
    )


def _totals(inputs: ReportInputs) -> str:
    pairs = summary_lines(inputs.result, None, inputs.training)
    items = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in pairs)
    notes = f'<p class="note">{escape(inputs.result.convention)}</p>'
    if inputs.training:
        notes += f'<p class="note">Training step: {escape(inputs.training.rules_follow)}</p>'
    return f'<dl class="totals">{items}</dl>{notes}{_warning_list(inputs)}'


def _warning_list(inputs: ReportInputs) -> str:
    warnings = inputs.result.warnings
    if not warnings:
        return ""
    items = []
    for issue in warnings:
        where = escape(str(issue.location))
        if issue.location.file == inputs.result.file and issue.location.line > 0:
            where = f'<a href="#L{issue.location.line}">{where}</a>'
        items.append(f"<li>{where}: {escape(issue.message)}</li>")
    count = len(warnings)
    return f'<h3>{count} warning{"s" * (count != 1)}</h3><ul class="warnings">{"".join(items)}</ul>'


def _figure(heading: str, svg: str, note: str = "") -> str:
    caption = f'<p class="note">{escape(note)}</p>' if note else ""
    return f'<figure class="figure"><h3>{escape(heading)}</h3>{svg}{caption}</figure>'


def _charts(inputs: ReportInputs) -> str:
    result = inputs.result
    rows = chart_rows(inputs)
    names = [row.name for row in rows]
    per = "per layer" if inputs.depth is None else f"per row of --depth {inputs.depth}"
    figures = [
        _figure(
            f"FLOPs {per}", charts.bar_chart("FLOPs per layer", names, [row.flops for row in rows], human, "FLOPs")
        ),
        _figure(
            f"Parameters {per}",
            charts.bar_chart("parameters per layer", names, [row.params for row in rows], human, "parameters"),
        ),
    ]
    if inputs.training:
        backward = [row.backward_flops or 0 for row in rows]
        figures.append(
            _figure(f"Backward FLOPs {per}", charts.bar_chart("backward FLOPs", names, backward, human, "FLOPs"))
        )
    stages = stage_rows(inputs)
    stage_names = [row.name for row in stages]
    figures.append(
        _figure(
            "FLOPs per stage", charts.ranked_bars("FLOPs per stage", stage_names, [row.flops for row in stages], human)
        )
    )
    figures.append(
        _figure(
            "Parameters per stage",
            charts.ranked_bars("parameters per stage", stage_names, [row.params for row in stages], human),
        )
    )
    series = [charts.Series("live in inference", inference_live_bytes(result))]
    note = (
        "Inference: the outputs alive just after each layer runs (each freed after its last reader); "
        f"the peak is {human_bytes(result.totals.peak_activation_bytes)}."
    )
    if inputs.training:
        series.append(charts.Series("kept for the backward (training)", kept_for_backward(inputs.training)))
        totals = inputs.training.totals
        note += (
            f" Training: what autograd has kept once each layer has run forward, "
            f"{human_bytes(totals.saved_activation_bytes)} in all; the training step's peak estimate is "
            f"{human_bytes(totals.training_peak_bytes)} with parameters, gradients and optimizer state."
        )
    figures.append(
        _figure(
            "Activation memory along the network",
            charts.line_chart("activation memory", series, human_bytes, peak_of=0, binary=True),
            note,
        )
    )
    figures.append(_receptive_field_figure(inputs))
    return f'<div class="charts">{"".join(figures)}</div>'


def _receptive_field_figure(inputs: ReportInputs) -> str:
    result = inputs.result
    spatial = result.input_shape[2:]  # batch and channels first
    names = axis_names(len(spatial))
    fields = [None if row.global_field else row.field for row in result.layers]
    same_axes = all(field is None or len({(axis.size, axis.jump) for axis in field}) == 1 for field in fields)
    shown_axes = range(1 if same_axes else len(spatial))
    series = []
    for quantity in ("size", "jump"):
        for axis in shown_axes:
            label = quantity if same_axes else f"{quantity} {names[axis]}"
            values = [None if field is None else float(getattr(field[axis], quantity)) for field in fields]
            series.append(charts.Series(label, values))
    markers = [
        charts.Marker(f"input {size}" if len(set(spatial)) == 1 else f"input {names[axis]} {size}", size)
        for axis, size in enumerate(spatial)
        if len(set(spatial)) > 1 or axis == 0
    ]
    svg = charts.line_chart("receptive field", series, _plain, log_scale=True, markers=markers)
    note = (
        "Receptive field size (input pixels a unit sees) and jump (its effective stride), per layer, on a log "
        "scale; the dashed line is the input size. Layers whose units see the whole input (global pooling, "
        "attention) and layers without a spatial map are left out."
    )
    return _figure("Receptive field along the network", svg, note)


def _plain(value: float) -> str:
    return f"{value:g}" if value < 10_000 else human(int(value))


def _table_section(inputs: ReportInputs) -> str:
    columns = [LAYER_COLUMNS[key] for key in table_columns(inputs)]
    headers = "".join(
        f'<th data-column="{index}" data-key="{column.key}"{" class=num" if column.numeric else ""} '
        f'title="sort by {escape(column.title)}">{escape(column.title)}</th>'
        for index, column in enumerate(columns)
    )
    return (
        '<div class="controls"><input type="search" id="table-filter" placeholder="filter by name or type" '
        'aria-label="filter layers by name or type">'
        '<button id="expand-all" type="button">expand all</button>'
        '<button id="collapse-all" type="button">collapse all</button>'
        '<span id="table-status" class="note"></span></div>'
        '<p class="note">Click a header to sort (again: reverse; a third time: network order); ▸ expands a block, '
        "whose row shows its layers' figures summed.</p>"
        f'<div class="table-view" id="table-view"><table id="layers"><thead><tr>{headers}</tr></thead>'
        "<tbody></tbody></table></div>"
    )


def _static_table(table: Table) -> str:
    head = "".join(
        f"<th{' class=num' if column.numeric else ''}>{escape(column.title)}</th>" for column in table.columns
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if column.numeric else ''}>{escape(cell.text)}</td>"
            for column, cell in zip(table.columns, row, strict=True)
        )
        + "</tr>"
        for row in table.rows
    )
    table_html = f'<table class="static"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    return f'<div class="scroll-x">{table_html}</div>'


def _conventions(inputs: ReportInputs) -> str:
    from cnncalc.conventions import count_all
    from cnncalc.render.conventions_table import comparison_rows, comparison_table, notes

    counts = count_all(inputs.result)
    rows = comparison_rows(inputs.result, counts)
    table = comparison_table(inputs.result, counts, rows)
    items = "".join(f"<li>{escape(line)}</li>" for line in notes(inputs.result, counts, rows))
    return f'<p class="note">{escape(table.title)}</p>{_static_table(table)}<ul class="note">{items}</ul>'


def _source(inputs: ReportInputs) -> str:
    result = inputs.result
    by_line: dict[int, list[SpecIssue]] = defaultdict(list)
    for issue in result.warnings:
        if issue.location.file == result.file and issue.location.line > 0:
            by_line[issue.location.line].append(issue)
    items = []
    for number, line in enumerate(inputs.spec_text.splitlines(), start=1):
        issues = by_line.get(number, [])
        flagged = ' class="flagged"' if issues else ""
        notes = "".join(_issue_note(issue) for issue in issues)
        items.append(f'<li id="L{number}"{flagged}>{escape(line)}{notes}</li>')
    return f'<p class="note">{escape(result.file)}</p><ol class="source">{"".join(items)}</ol>'


def _issue_note(issue: SpecIssue) -> str:
    text = f"{issue.severity} (column {issue.location.column}): {issue.message}"
    if issue.count > 1:
        text += f" ({issue.count} layers)"
    hint = f' <span class="hint">hint: {escape(issue.hint)}</span>' if issue.hint else ""
    return f'<div class="issue">{escape(text)}{hint}</div>'
