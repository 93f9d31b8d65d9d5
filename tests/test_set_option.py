"""`--set NAME=VALUE` on the commands that analyze a spec at one setting (analyze, report, graph), and `vars=`
in `cnncalc.analyze`: the spec's own `vars:` entry takes the value, exactly as if the spec said so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cnncalc
from cnncalc.engine import analyze_text
from cnncalc.language.zoo import zoo_specs
from tests.clirunner import invoke

UNET = zoo_specs()["unet"]


def unet_edited(base: int, classes: int = 2) -> cnncalc.engine.AnalysisResult:
    """unet with its `vars:` rewritten in the text: what --set must give, found without it."""
    text = UNET.read_text()
    assert "  base: 64 " in text and "  classes: 2 " in text
    return analyze_text(
        text.replace("  base: 64 ", f"  base: {base} ").replace("  classes: 2 ", f"  classes: {classes} ")
    )


def test_analyze_set_gives_what_the_edited_spec_gives() -> None:
    run = invoke("analyze", "unet", "--set", "base=32", "--set", "classes=5", "--format", "json")
    assert run.code == 0, run.output
    document = json.loads(run.stdout)
    expected = unet_edited(32, 5)
    # base 32 gives 7,763,074 with 2 classes; the 1x1 head then has 32 x 5 + 5 = 165 instead of 66
    assert document["totals"]["params"] == expected.totals.params == 7_763_074 - 66 + 165 == 7_763_173
    assert document["totals"]["macs"] == expected.totals.macs
    assert document["output_shape"] == [1, 5, 256, 256]
    assert cnncalc.analyze("unet", vars={"base": 32, "classes": 5}).totals.params == 7_763_173
    assert cnncalc.analyze("unet").totals.params == 31_037_698  # the spec's own base: 64


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["unet", "--set", "bse=32"], 2, "--set bse: the spec has no variable 'bse' in `vars:`"),
        (["resnet18", "--set", "width=2"], 2, "--set width: the spec has no top-level `vars:`"),
        (["unet", "--set", "base"], 2, "--set 'base' is not NAME=VALUE"),
        (["unet", "--set", "base=16,32"], 2, "--set 'base=16,32' gives 2 values; it takes one"),
        (["unet", "--set", "base=16", "--set", "base=32"], 2, "--set base is given twice"),
        (["unet", "--set", "base=0"], 1, "unet.yaml:45:42: error: inc.conv1 (conv2d): out: must be at least 1"),
    ],
)
def test_a_setting_that_cannot_be_used_is_refused_with_its_reason(args: list[str], code: int, message: str) -> None:
    run = invoke("analyze", *args)
    assert run.code == code, run.output
    assert message in run.stderr
    assert "Traceback" not in run.output


def test_unknown_variable_in_the_api_names_the_closest() -> None:
    with pytest.raises(cnncalc.UsageError, match="did you mean 'base'"):
        cnncalc.analyze("unet", vars={"bse": 32})


def test_graph_and_report_take_the_setting(tmp_path: Path) -> None:
    graph = invoke("graph", "unet", "--set", "base=16", "--depth", "1")
    assert graph.code == 0, graph.output
    assert "1x16x256x256" in graph.stdout and "1x64x256x256" not in graph.stdout
    page = tmp_path / "unet.html"
    report = invoke("report", "unet", "--set", "base=16", "-o", str(page))
    assert report.code == 0, report.output
    assert f"{unet_edited(16).totals.params:,}" in page.read_text()
