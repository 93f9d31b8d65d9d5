"""`cnncalc sweep`: every point equals a fresh analysis there, the grid is what the options say, the expansion
is reused where it may be, and the charts are drawn (in the terminal, and as PNG/SVG with matplotlib)."""

from __future__ import annotations

import copy
import importlib.util
import json
from fractions import Fraction
from pathlib import Path

import pytest
from clirunner import invoke, write_spec

import cnncalc
from cnncalc.language.yaml_source import load_yaml, read_spec_text
from cnncalc.language.zoo import resolve_spec
from cnncalc.sweeps.grid import GridError, build_grid, parse_values
from cnncalc.sweeps.run import INFERENCE_METRICS, SweepStats, run_sweep

ALL_METRICS = ",".join(INFERENCE_METRICS)


def sweep_json(*args: str) -> dict:
    run = invoke("sweep", *args, "--format", "json")
    assert run.code == 0, run.output
    return run.json()


def fresh_totals(source: object, shape: list[int], **options: object) -> dict[str, int]:
    """What `cnncalc.analyze` gives at that input (batch first), as the sweep names the figures."""
    analysis = cnncalc.analyze(source, input=tuple(shape[1:]), batch=shape[0], **options)
    return {metric: getattr(analysis.totals, metric) for metric in INFERENCE_METRICS}


# --- every point is a fresh analysis ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "inputs"),
    [
        ("resnet50", "3x{96..320..56}"),  # blocks read in_channels: reused while every channel count agrees
        ("mobilenet_v2", "3x{160,224,257}"),
        ("lenet5", "1x{32,40}"),  # flatten + linear: the linear layer's parameters follow the input size
        ("deeplabv3_resnet50", "3x{129,256}"),  # spatial(...): analysed afresh at each input
        ("swin_t", "3x{224,448}"),
        ("inception_v3", "3x{299,342}x{299,320}"),  # H and W as two parameters: a product
    ],
)
def test_every_point_equals_a_fresh_analysis(spec: str, inputs: str) -> None:
    document = sweep_json(spec, "--input", inputs, "--batch", "1,2,5", "--metrics", ALL_METRICS)
    for point in document["points"]:
        assert point["totals"] == fresh_totals(spec, point["input_shape"]), point["input_shape"]


def test_derived_batches_equal_fresh_analyses_at_every_batch() -> None:
    document = sweep_json("resnet18", "--input", "3x{64,100}", "--batch", "1..6", "--metrics", ALL_METRICS)
    assert [point["batch"] for point in document["points"]] == [1, 2, 3, 4, 5, 6] * 2
    for point in document["points"]:
        assert point["totals"] == fresh_totals("resnet18", point["input_shape"])


def test_set_changes_a_spec_variable_exactly_as_editing_the_spec() -> None:
    document = sweep_json("unet", "--input", "3x{64,96}", "--set", "base=16,32", "--metrics", ALL_METRICS)
    data = load_yaml(read_spec_text(resolve_spec("unet")), "unet").data
    assert len(document["points"]) == 4
    for point in document["points"]:
        edited = copy.deepcopy(data)
        edited["vars"]["base"] = point["vars"]["base"]
        assert point["totals"] == fresh_totals(edited, point["input_shape"])
    assert {point["totals"]["params"] for point in document["points"]} == {
        cnncalc.analyze({**data, "vars": {**data["vars"], "base": base}}).totals.params for base in (16, 32)
    }


def test_training_totals_equal_analyze_mode_train() -> None:
    document = sweep_json(
        "resnet18", "--input", "3x{64,128}", "--batch", "2,4", "--mode", "train", "--metrics", "training_peak_bytes"
    )
    for point in document["points"]:
        shape = point["input_shape"]
        analysis = cnncalc.analyze("resnet18", input=tuple(shape[1:]), batch=shape[0], mode="train")
        assert point["totals"] == {"training_peak_bytes": analysis.training.training_peak_bytes}


CHANNELS_DECIDE = """\
input: {shape: [3, 32, 32]}
vars: {wide: 8}
blocks:
  unit:
    args: {out: null}
    vars: {project: in_channels != out}
    layers:
      - {name: conv, type: conv2d, out: out, kernel: 3, padding: 1}
      - {name: proj, type: conv2d, out: out, kernel: 1, from: input, when: project}
      - {name: add, type: add, from: [conv, proj]}
layers:
  - {block: unit, args: {out: wide}}
  - {type: global_avgpool}
"""

SIZE_DECIDES = """\
input: {shape: [3, 32, 32]}
layers:
  - {type: conv2d, out: 4, kernel: 3, stride: 2}
  - {type: flatten}
  - {type: linear, out: "in_features // 64 + 1"}
"""


@pytest.mark.parametrize(
    ("text", "inputs", "varies"),
    [
        (CHANNELS_DECIDE, "{3,8}x{16,32}", "C"),  # `when: in_channels != out`: `proj` exists at 3 channels only
        (SIZE_DECIDES, "3x{16,32}", "size"),  # `in_features`: the linear layer's width follows the input size
    ],
)
def test_a_structure_that_depends_on_the_input_is_expanded_again(
    tmp_path: Path, text: str, inputs: str, varies: str
) -> None:
    path = write_spec(tmp_path, text)
    document = sweep_json(str(path), "--input", inputs, "--metrics", ALL_METRICS)
    for point in document["points"]:
        assert point["totals"] == fresh_totals(str(path), point["input_shape"])
    params = {point["parameters"][varies]: point["totals"]["params"] for point in document["points"]}
    assert len(set(params.values())) == 2, params  # the structure did change


# --- exact figures ---------------------------------------------------------------------------------------------


def test_params_are_constant_and_macs_scale_as_the_engine_counts() -> None:
    document = sweep_json("resnet18", "--input", "3x{224,448}", "--metrics", "params,macs")
    small, large = document["points"]
    assert small["totals"]["params"] == large["totals"]["params"] == 11_689_512
    assert small["totals"]["macs"] == 1_814_073_344  # torchvision's published 1.81 GMACs, exactly
    ratio = Fraction(large["totals"]["macs"], small["totals"]["macs"])
    engine_ratio = Fraction(
        cnncalc.analyze("resnet18", input="3x448x448").totals.macs, cnncalc.analyze("resnet18").totals.macs
    )
    assert ratio == engine_ratio
    # Every convolution's MACs grow with the area (x4); the classifier's 512 x 1,000 do not.
    assert large["totals"]["macs"] == 4 * 1_814_073_344 - 3 * 512_000 == 7_254_757_376


def test_the_rows_are_the_product_of_the_lists_in_order() -> None:
    document = sweep_json("resnet18", "--input", "3x{128..512..64}", "--batch", "1,8,32")
    assert document["combination"] == "product"
    assert [(p["name"], p["values"]) for p in document["parameters"]] == [
        ("size", [128, 192, 256, 320, 384, 448, 512]),
        ("batch", [1, 8, 32]),
    ]
    assert len(document["points"]) == 7 * 3
    assert [point["input_shape"] for point in document["points"][:4]] == [
        [1, 3, 128, 128],
        [8, 3, 128, 128],
        [32, 3, 128, 128],
        [1, 3, 192, 192],
    ]


def test_zip_takes_the_lists_together() -> None:
    document = sweep_json("resnet18", "--input", "3x{128,256,512}", "--batch", "32,8,2", "--zip")
    assert document["combination"] == "zip"
    assert [point["input_shape"] for point in document["points"]] == [
        [32, 3, 128, 128],
        [8, 3, 256, 256],
        [2, 3, 512, 512],
    ]


def test_zip_of_unequal_lists_is_a_usage_error() -> None:
    run = invoke("sweep", "resnet18", "--input", "3x{128,256,512}", "--batch", "1,8", "--zip")
    assert run.code == 2
    assert "--zip needs lists of one length; these have size 3, batch 2 values" in run.stderr
    assert "Traceback" not in run.stderr


def test_hxw_is_a_product_unless_zipped() -> None:
    product = sweep_json("resnet18", "--input", "3x{128,256}x{96,192}")
    assert [point["input_shape"][2:] for point in product["points"]] == [[128, 96], [128, 192], [256, 96], [256, 192]]
    zipped = sweep_json("resnet18", "--input", "3x{128,256}x{96,192}", "--zip")
    assert [point["input_shape"][2:] for point in zipped["points"]] == [[128, 96], [256, 192]]


def test_csv_has_one_row_per_point_with_exact_integers() -> None:
    run = invoke("sweep", "resnet18", "--input", "3x{224,448}", "--batch", "1,2", "--format", "csv")
    assert run.code == 0, run.output
    lines = run.stdout.splitlines()
    assert lines[0] == "input_shape,batch,params,macs,flops,peak_activation_bytes"
    assert lines[1] == "1x3x224x224,1,11689512,1814073344,3628146688,6422528"
    assert len(lines) == 5


# --- the options -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("1,8,32", [1, 8, 32]),
        ("{128..1024..64}", list(range(128, 1025, 64))),
        ("1..4", [1, 2, 3, 4]),
        ("10..20..4", [10, 14, 18]),  # the end is included only when a step lands on it
        ("1,2,4..16..4", [1, 2, 4, 8, 12, 16]),
        ("0.5..1.0..0.25", [0.5, 0.75, 1]),
        ("0.1..0.3..0.1", [0.1, 0.2, 0.3]),  # exact decimal steps, not 0.30000000000000004
    ],
)
def test_value_lists(text: str, values: list[float]) -> None:
    assert parse_values(text, "--set x", integers=False) == values


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "3x{512..128..64}"], "ends before it starts"),
        (["--input", "3x{128..512..0}"], "must be positive"),
        (["--input", "3x{128..512"], "leaves a brace open"),
        (["--batch", "1,2.5"], "is not a whole number"),
        (["--batch", "1,eight"], "'eight' is not a number or a range"),
        (["--input", "3x{1..1000000}x{1..1000000}"], "more than 100,000"),
    ],
)
def test_malformed_lists_are_usage_errors(args: list[str], message: str) -> None:
    run = invoke("sweep", "resnet18", *args)
    assert run.code == 2, run.output
    assert message in run.stderr and "Traceback" not in run.stderr


def test_an_unknown_metric_gets_a_suggestion() -> None:
    run = invoke("sweep", "resnet18", "--metrics", "params,mcas")
    assert run.code == 2
    assert "unknown figure 'mcas'" in run.stderr and "macs" in run.stderr
    training = invoke("sweep", "resnet18", "--metrics", "training_flops")
    assert training.code == 2 and "add --mode train" in training.stderr


def test_set_names_a_variable_of_the_spec() -> None:
    run = invoke("sweep", "unet", "--set", "bsae=16,32")
    assert run.code == 2
    assert "no variable 'bsae'" in run.stderr and "base" in run.stderr
    none = invoke("sweep", "resnet18", "--set", "width=1,2")
    assert none.code == 2 and "no top-level `vars:`" in none.stderr


def test_a_point_the_network_cannot_take_is_reported_with_the_point() -> None:
    run = invoke("sweep", "lenet5", "--input", "1x{32,4}")
    assert run.code == 1
    assert "cannot be analysed at input 1x4x4" in run.stderr
    assert "Traceback" not in run.stderr


def test_grid_without_options_is_the_spec_itself() -> None:
    grid = build_grid(None, None, [], 2, zipped=False)
    assert len(grid.points) == 1 and grid.parameters == ()
    with pytest.raises(GridError):
        build_grid("3x{1,2}x{1,2}x{1,2}x{1,2}", None, [], 2, zipped=False)


# --- reuse -----------------------------------------------------------------------------------------------------


def test_the_expansion_is_reused_and_batches_are_derived() -> None:
    loaded = load_yaml(read_spec_text(resolve_spec("resnet50")), "resnet50")
    grid = build_grid("3x{64..1000..24}", "1..25", [], 2, zipped=False)
    stats = SweepStats()
    rows = run_sweep(loaded, grid.points, None, None, stats)
    assert len(rows) == 1000
    assert stats.fresh_analyses == 1  # one expansion for 40 input sizes
    assert (stats.computed, stats.derived) == (80, 920)  # each size at batch 1 and 25; the rest derived


def test_a_spec_reading_shapes_is_analysed_afresh_at_each_input() -> None:
    loaded = load_yaml(read_spec_text(resolve_spec("fcn_resnet50")), "fcn_resnet50")
    grid = build_grid("3x{128,160,192}", None, [], 2, zipped=False)
    stats = SweepStats()
    run_sweep(loaded, grid.points, None, None, stats)
    assert stats.fresh_analyses == 3


# --- charts ----------------------------------------------------------------------------------------------------


def test_terminal_chart_fits_the_width_with_a_line_per_batch() -> None:
    run = invoke("sweep", "resnet18", "--input", "3x{128..512..64}", "--batch", "1,8", "--chart", columns=80)
    assert run.code == 0, run.output
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "macs vs input size (resnet18)" in run.stdout
    assert "* batch 1   o batch 8" in run.stdout
    assert any(line.strip().startswith("128") and line.rstrip().endswith("512") for line in lines)


def test_a_chart_of_too_many_lines_is_refused() -> None:
    run = invoke("sweep", "resnet18", "--input", "3x{64..128..32}", "--batch", "1..9", "--chart")
    assert run.code == 2
    assert "would draw 9 lines" in run.stderr and "--chart-x" in run.stderr


def test_chart_goes_with_the_table_only() -> None:
    run = invoke("sweep", "resnet18", "--input", "3x{64,128}", "--chart", "--format", "json")
    assert run.code == 2 and "--plot" in run.stderr


needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None, reason="matplotlib is not installed (pip install cnncalc[plot])"
)


@needs_matplotlib
def test_plot_writes_an_svg_with_its_labels(tmp_path: Path) -> None:
    path = tmp_path / "sweep.svg"
    run = invoke("sweep", "resnet18", "--input", "3x{128..512..64}", "--batch", "1,8", "--plot", str(path))
    assert run.code == 0, run.output
    svg = path.read_text()
    assert svg.startswith("<?xml") and "</svg>" in svg
    for text in ("input size", "macs vs input size (resnet18)", "peak_activation_bytes", "batch 8", "60.00 G", "400"):
        assert text in svg, text


@needs_matplotlib
def test_plot_writes_a_png_that_is_not_blank(tmp_path: Path) -> None:
    from matplotlib import image

    path = tmp_path / "sweep.png"
    run = invoke("sweep", "resnet18", "--input", "3x{128..512..64}", "--plot", str(path), "--metrics", "macs")
    assert run.code == 0, run.output
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(path)
    height, width = pixels.shape[:2]
    assert (height, width) == (320, 800)  # 8 x 3.2 inches at 100 dpi
    colours = {tuple(pixel) for pixel in pixels.reshape(-1, pixels.shape[2])[::7]}
    assert len(colours) > 20  # lines, text and markers, not one colour


def test_plot_without_matplotlib_exits_3_with_the_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("cnncalc.render.plot_file.plotting_available", lambda: False)
    run = invoke("sweep", "resnet18", "--input", "3x{64,128}", "--plot", str(tmp_path / "a.png"))
    assert run.code == 3
    assert 'pip install "cnncalc[plot]"' in run.stderr
    assert not (tmp_path / "a.png").exists()


def test_plot_refuses_an_unknown_extension(tmp_path: Path) -> None:
    run = invoke("sweep", "resnet18", "--input", "3x{64,128}", "--plot", str(tmp_path / "a.jpeg"))
    assert run.code == 2 and ".svg" in run.stderr


# ------------------------------------------------------------------------------------------ Python API


def test_python_sweep_gives_the_json_document_every_point_a_fresh_analysis() -> None:

    document = cnncalc.sweep("resnet18", input="3x{224,448}", batch=[1, 8])
    assert document == json.loads(
        invoke("sweep", "resnet18", "--input", "3x{224,448}", "--batch", "1,8", "--format", "json").stdout
    )
    assert [point["input_shape"] for point in document["points"]] == [
        [1, 3, 224, 224], [8, 3, 224, 224], [1, 3, 448, 448], [8, 3, 448, 448],
    ]  # fmt: skip
    for point in document["points"]:
        fresh = cnncalc.analyze("resnet18", input=point["input_shape"])
        assert point["totals"]["macs"] == fresh.totals.macs
        assert point["totals"]["params"] == 11_689_512
    unet = cnncalc.sweep("unet", vars={"base": [16, 32]}, metrics="params")
    assert [point["totals"]["params"] for point in unet["points"]] == [1_942_594, 7_763_074]
    trained = cnncalc.sweep("resnet18", batch="1,2", mode="train", precision="bf16-mixed")
    fresh_train = cnncalc.analyze("resnet18", batch=2, mode="train", precision="bf16-mixed").training
    assert fresh_train is not None
    assert trained["points"][1]["totals"]["training_peak_bytes"] == fresh_train.training_peak_bytes


def test_python_sweep_refuses_what_it_cannot_use() -> None:

    with pytest.raises(cnncalc.UsageError, match="did you mean 'params'"):
        cnncalc.sweep("unet", metrics="parms")
    with pytest.raises(cnncalc.UsageError, match="did you mean 'base'"):
        cnncalc.sweep("unet", vars={"bse": [16, 32]})
    with pytest.raises(cnncalc.UsageError, match="a figure of a training step"):
        cnncalc.sweep("unet", metrics="training_flops")
    with pytest.raises(cnncalc.SpecError) as refused:
        cnncalc.sweep("unet", input="3x{1..2}")
    assert "the network cannot be analysed at input 3x1x1" in refused.value.__notes__
