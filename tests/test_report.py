"""`cnncalc report`: the page's content and the command's behaviour, without a browser (tests/test_report_browser.py
drives the page in Chromium)."""

from __future__ import annotations

import re
from math import prod
from pathlib import Path

import pytest
from clirunner import ROOT, invoke
from report_pages import (
    BLOCK,
    DEEP_LAYERS,
    DEEP_SPEC,
    NAME,
    PARENT,
    SORT,
    column_index,
    embedded_data,
)

from cnncalc.engine import analyze_file
from cnncalc.engine.analysis import analyze_text
from cnncalc.engine.memory import peak_live_bytes
from cnncalc.language.zoo import zoo_specs
from cnncalc.render.html_report import ReportInputs, render_report
from cnncalc.render.html_report.charts import MAX_MARKS
from cnncalc.render.html_report.model import inference_live_bytes
from cnncalc.render.machine import totals_dict, training_totals_dict
from cnncalc.training import TrainingOptions, analyze_training

ZOO = zoo_specs()
MAX_RESNET50_BYTES = 2 * 1024 * 1024  # the issue's bound for specs/resnet50.yaml


def _report(path: Path, **choices: object) -> tuple[str, object]:
    result = analyze_file(path)
    return render_report(ReportInputs(result, path.read_text(), **choices)), result  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(ZOO))
def test_every_zoo_spec_renders_with_the_engines_totals(name: str) -> None:
    page, result = _report(ZOO[name])
    data = embedded_data(page)
    assert data["totals"] == totals_dict(result)  # type: ignore[arg-type]
    assert data["layer_count"] == len(result.layers)  # type: ignore[attr-defined]
    table = data["table"]
    rows = table["rows"]
    # every layer once, and the top-level rows (layers and blocks with their sums) add up to the totals
    assert sum(1 for row in rows if not row[BLOCK]) == len(result.layers)  # type: ignore[attr-defined]
    for key, total in (("params", "params"), ("macs", "macs"), ("flops", "flops")):
        index = column_index(data, key)
        assert sum(row[SORT][index] for row in rows if row[PARENT] == -1) == data["totals"][total], key
    # each block's figures are its children's, summed
    params = column_index(data, "params")
    children: dict[int, int] = {}
    for row in rows:
        if row[PARENT] >= 0:
            children[row[PARENT]] = children.get(row[PARENT], 0) + row[SORT][params]
    for index, row in enumerate(rows):
        if row[BLOCK]:
            assert children[index] == row[SORT][params], row[NAME]
    assert page.count("<svg") == 6  # FLOPs and params per layer and per stage, memory, receptive field


def test_resnet50_report_is_self_contained_and_under_2_mb() -> None:
    page, _ = _report(ROOT / "specs" / "resnet50.yaml")
    size = len(page.encode())
    assert size < MAX_RESNET50_BYTES, size
    # nothing to fetch: no src/href but page anchors and data: URIs, no url(), no @import, no address but the
    # SVG namespace; and a Content-Security-Policy that would block a request anyway
    assert not re.search(r"\ssrc\s*=", page)
    assert set(re.findall(r'href="(?!#)([^"]*)"', page)) <= {"data:,"}
    assert "url(" not in page and "@import" not in page
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
    assert "default-src 'none'" in page


def test_the_memory_profile_peaks_at_the_engines_peak() -> None:
    for name in ("resnet50", "unet", "densenet121", "inception_v3"):
        result = analyze_file(ZOO[name])
        profile = inference_live_bytes(result)
        assert len(profile) == len(result.layers)
        input_bytes = prod(result.input_shape) * result.dtype_bytes
        assert max(input_bytes, *profile) == result.totals.peak_activation_bytes, name
        assert max(input_bytes, *profile) == peak_live_bytes(
            [row.activation_bytes for row in result.layers],
            [row.input_indices for row in result.layers],
            input_bytes,
            result.output_index,
        )


def test_warnings_are_shown_at_their_lines() -> None:
    path = ZOO["lraspp_mobilenet_v3_large"]
    page, result = _report(path)
    lines = {issue.location.line for issue in result.warnings}  # type: ignore[attr-defined]
    assert lines == {150}
    item = re.search(r'<li id="L150" class="flagged">(.*?)</li>', page, re.S)
    assert item is not None
    assert path.read_text().splitlines()[149].strip() in item.group(1)
    assert item.group(1).count('<div class="issue">') == 2
    assert "the paths are not aligned on axis H" in item.group(1)
    assert '<a href="#L150">' in page  # the warnings list at the top links to the line
    assert page.count('class="flagged"') == 1


def test_training_mode_adds_the_training_figures() -> None:
    path = ZOO["resnet18"]
    result = analyze_file(path)
    training = analyze_training(result, TrainingOptions(optimizer="sgd"))
    page = render_report(ReportInputs(result, path.read_text(), training=training))
    data = embedded_data(page)
    assert data["mode"] == "train"
    assert data["totals"] == {**totals_dict(result), **training_totals_dict(training)}
    saved = column_index(data, "saved")
    assert sum(row[SORT][saved] for row in data["table"]["rows"] if row[PARENT] == -1) == (
        training.totals.saved_activation_bytes
    )
    assert "kept for the backward (training)" in page
    assert page.count("<svg") == 7  # and the backward FLOPs per layer


def test_ten_thousand_layers_stay_small_and_charts_are_binned() -> None:
    result = analyze_text(DEEP_SPEC, "deep.yaml")
    assert len(result.layers) == DEEP_LAYERS
    page = render_report(ReportInputs(result, DEEP_SPEC))
    size = len(page.encode())
    assert size < 4 * 1024 * 1024, size  # about 2.3 MiB: the table's data, a row per layer and block
    data = embedded_data(page)
    assert sum(1 for row in data["table"]["rows"] if not row[BLOCK]) == DEEP_LAYERS
    assert page.count('class="bar"') <= 2 * MAX_MARKS + 2 * 24
    assert "each mark: 17 consecutive rows" in page


def test_columns_and_depth_choose_the_table(tmp_path: Path) -> None:
    output = tmp_path / "r.html"
    run = invoke("report", "resnet50", "-o", str(output), "--columns", "params,kernel,rf", "--depth", "2")
    assert run.code == 0, run.output
    data = embedded_data(output.read_text())
    assert [column["key"] for column in data["table"]["columns"]] == ["name", "params", "kernel", "rf"]
    assert data["table"]["collapsed_below"] == 2
    conv1 = next(row for row in data["table"]["rows"] if row[NAME] == "conv1")
    assert conv1[6] == ["conv1", "9,408", "7x7", "7/2"]


def test_default_file_name_and_replacing_only_a_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = invoke("report", "resnet18")
    assert run.code == 0, run.output
    assert re.fullmatch(r"wrote resnet18\.html \(\d+\.\d\d KiB, 69 layers\)\n", run.stderr)
    assert embedded_data((tmp_path / "resnet18.html").read_text())["name"] == "resnet18"
    run = invoke("report", "resnet18")  # an earlier report of that name is replaced, and the command says so
    assert run.code == 0 and run.stderr.startswith("replaced resnet18.html")
    mine = tmp_path / "unet.html"
    mine.write_text("<p>my own notes</p>")
    run = invoke("report", "unet")  # a file that is not a report is never replaced unless named
    assert run.code == 2
    assert "unet.html exists and is not a cnncalc report: not replaced" in run.stderr
    assert "-o unet.html" in run.stderr
    assert mine.read_text() == "<p>my own notes</p>"
    run = invoke("report", "unet", "-o", "unet.html")
    assert run.code == 0 and run.stderr.startswith("replaced unet.html")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["resnet18.html", "unet.html"]  # no temporary left


def test_stdin_spec_named_from_its_name_and_stdout_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    spec = "name: tiny/../net\ninput: {shape: [3, 8, 8]}\nlayers:\n  - {type: conv2d, out: 4, kernel: 3}\n"
    run = invoke("report", "-", stdin=spec)
    assert run.code == 0, run.output
    assert [path.name for path in tmp_path.iterdir()] == ["tiny..net.html"]  # no folder separator survives
    run = invoke("report", "-", "-o", "-", stdin=spec)
    assert run.code == 0 and run.stderr == ""
    assert run.stdout.startswith("<!DOCTYPE html>") and embedded_data(run.stdout)["totals"]["params"] == 112


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "folder.html"
    target.mkdir()
    run = invoke("report", "lenet5", "-o", str(target))
    assert run.code == 2
    assert f"cannot write {target}" in run.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["folder.html"]
    assert list(target.iterdir()) == []


def test_bad_input_is_reported_as_analyze_reports_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: {shape: [3, 32, 32]}\nlayers:\n  - {type: conv2d, out: 8, kernal: 3}\n")
    run = invoke("report", str(bad), "-o", str(tmp_path / "bad.html"))
    assert run.code == 1
    assert f"{bad}:3:" in run.stderr and "kernal" in run.stderr
    assert not (tmp_path / "bad.html").exists()
    run = invoke("report", "resnet18", "--columns", "parms", "-o", str(tmp_path / "x.html"))
    assert run.code == 2 and "unknown column 'parms'" in run.stderr
    run = invoke("report", "resnet18", "--freeze", "layer1", "-o", str(tmp_path / "x.html"))
    assert run.code == 2 and "add --mode train" in run.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.yaml"]
