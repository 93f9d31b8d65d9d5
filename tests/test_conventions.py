"""Each tool's convention, checked without torch: figures from the tools' own test suites
(tests/data/reference/peer_conventions.md), whole zoo networks as the tools report them, coverage of every
layer kind, the breakdown that explains the differences, and the command line.

The zoo figures were read from the tools themselves (torchinfo 1.8.0, fvcore 0.1.5, ptflops 0.7.5, thop
0.1.1, torch 2.13 FlopCounterMode on the CPU, DeepSpeed 0.19.8, calflops 0.3.2) on the modules cnncalc's
bridge builds and, for networks with a torchvision counterpart, on torchvision's own models, which give the
same figures; tests/test_conventions_live.py and tests/test_torchvision_peers.py run the tools again
wherever the `test` extra is installed.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import pytest
from clirunner import invoke, run_python
from convention_cases import CASES, uncovered_kinds

from cnncalc.conventions import CONVENTIONS, count_all, count_as
from cnncalc.conventions.breakdown import Cause, differences
from cnncalc.engine.analysis import InputOverrides, analyze_file, analyze_text
from cnncalc.kinds import REGISTRY
from cnncalc.language.yaml_source import load_yaml, read_spec_text
from cnncalc.language.zoo import resolve_spec


def headline(text: str, convention: str, batch: int | None = None) -> int | None:
    result = analyze_text(text, overrides=InputOverrides(batch=batch))
    return count_as(result, convention).headline


# ------------------------------------------------------------------ figures from the tools' own tests

# Each case is a figure a tool's own test suite asserts (tests/data/reference/peer_unit_figures.json, taken from
# peer_conventions.md beside it), written as a spec and the convention that must reproduce it.
PEER_FIGURES_DIR = Path(__file__).resolve().parent / "data" / "reference"
PEER_CASES = json.loads((PEER_FIGURES_DIR / "peer_unit_figures.json").read_text())["cases"]


@pytest.mark.parametrize("case", PEER_CASES, ids=[case["id"] for case in PEER_CASES])
def test_figures_from_the_tools_own_tests(case):
    result = analyze_text(case["spec"])
    assert count_as(result, case["convention"]).headline == case["headline"]
    if "params" in case:
        assert result.totals.params == case["params"]
    if "macs" in case:
        assert result.totals.macs == case["macs"]


def test_peer_figures_are_the_published_ones():
    """Every figure of the data file is quoted in the published notes it was taken from."""
    notes = (PEER_FIGURES_DIR / "peer_conventions.md").read_text()
    for case in PEER_CASES:
        for key in ("headline", "params", "macs"):
            if key in case and case[key] >= 1000:
                assert f"{case[key]:,}" in notes, (case["id"], key)


def test_transposed_convolution_on_the_input_grid():
    # ptflops' ConvTranspose2d(3, 2, 3, stride 2) on 3x224x224: MACs on the 224x224 input grid (2,709,504) plus the
    # bias on the 449x449 output grid (403,202); cnncalc counts the MACs alone.
    text = "input: {shape: [3, 224, 224]}\nlayers:\n  - {type: conv_transpose2d, out: 2, kernel: 3, stride: 2}\n"
    assert headline(text, "cnncalc") == 2_709_504
    assert headline(text, "ptflops") == 2_709_504 + 2 * 449 * 449


# ------------------------------------------------------------- whole networks, as each tool reports them

ZOO_HEADLINES = {
    "resnet50": {
        "cnncalc": 4_089_184_256,
        "torchvision": 4_089_184_256,
        "torch": 8_178_368_512,
        "torchinfo": 4_089_238_376,
        "fvcore": 4_111_512_576,
        "ptflops": 4_132_436_968,
        "thop": 4_133_742_592,
        "deepspeed": 8_211_108_352,
        "calflops": 8_211_108_352,
    },
    # torchvision's forward: a plain Conv2d patch embedding (torchinfo counts it per position, ptflops and
    # thop count it) and attention without need_weights, whose fused kernel fvcore, calflops and
    # FlopCounterMode on the CPU do not count; ptflops counts nn.MultiheadAttention with its own formula.
    "vit_b_16": {
        "cnncalc": 17_563_828_224,
        "torchvision": 17_563_828_224,
        "torch": 33_697_001_472,
        "torchinfo": 173_232_616,
        "fvcore": 16_867_412_736,
        "ptflops": 17_606_030_584,
        "thop": 11_286_254_592,
        "deepspeed": 35_153_981_184,
        "calflops": 33_723_326_208,
    },
    # F.relu, F.adaptive_avg_pool2d and torch.flatten in forward: no module hook counts them.
    "densenet121": {
        "cnncalc": 2_834_161_664,
        "torchvision": 2_834_161_664,
        "torch": 5_668_323_328,
        "torchinfo": 2_834_246_312,
        "fvcore": 2_865_546_752,
        "ptflops": 2_899_843_048,
        "thop": 2_897_007_104,
        "deepspeed": 5_716_881_152,
        "calflops": 5_716_881_152,
    },
    "mobilenet_v2": {
        "cnncalc": 300_774_272,
        "torchvision": 300_774_272,
        "torch": 601_548_544,
        "torchinfo": 300_809_384,
        "fvcore": 314_193_216,
        "ptflops": 320_300_008,
        "thop": 327_486_720,
        "deepspeed": 614_967_488,
        "calflops": 614_967_488,
    },
    "unet": {
        "cnncalc": 48_171_581_440,
        "torchvision": 48_171_581_440,
        "torch": 96_343_162_880,
        "torchinfo": 54_622_039_552,
        "fvcore": 48_235_544_576,
        "ptflops": 48_323_231_744,
        "thop": 54_741_958_656,
        "deepspeed": 96_454_967_296,
        "calflops": 96_447_594_496,
    },
    "mobilenet_v3_large": {
        "cnncalc": 216_589_760,
        "torchvision": 216_589_760,
        "torch": 433_179_520,
        "torchinfo": 216_621_520,
        "fvcore": 226_033_824,
        "ptflops": 231_316_416,
        "thop": 234_838_456,
        "deepspeed": 444_944_056,
        "calflops": 444_944_056,
    },
    "imagenet_walkthrough": {  # ResNet-18 at batch 32
        "cnncalc": 58_050_347_008,
        "torchvision": 1_814_073_344,
        "torch": 116_100_694_016,
        "torchinfo": 58_050_686_208,
        "fvcore": 58_209_304_576,
        "ptflops": 1_921_701_864,
        "thop": 58_368_262_144,
        "deepspeed": 116_359_200_768,
        "calflops": 116_359_200_768,
    },
}


@pytest.mark.parametrize("name", sorted(ZOO_HEADLINES))
def test_zoo_headlines_as_the_tools_print_them(name):
    result = analyze_file(resolve_spec(name))
    assert {count.convention: count.headline for count in count_all(result)} == ZOO_HEADLINES[name]


# Published figures copied into the project, as in tests/test_zoo.py.
REFERENCE = Path(__file__).resolve().parent / "data" / "reference" / "torchvision_models.json"
# Networks the file has no figures for: torchvision publishes the segmentation networks' GFLOPS with the
# auxiliary head their weights carry (aux_loss=True), which the zoo leaves out. tests/test_zoo_torchvision.py
# compares those specs with torchvision's modules instead.
NOT_PUBLISHED = {"deeplabv3_resnet50", "fcn_resnet50", "lraspp_mobilenet_v3_large"}


def test_torchvision_convention_is_the_published_gflops():
    models = json.loads(REFERENCE.read_text())["models"]
    checked = []
    for path in sorted(Path(__file__).resolve().parents[1].glob("specs/*.yaml")):
        reference = (load_yaml(read_spec_text(path), str(path)).data.get("reference") or {}).get("torchvision")
        if reference is None or path.stem in NOT_PUBLISHED:
            continue
        published = models[reference]  # a spec naming a model the file lacks fails here
        count = count_as(analyze_file(path, InputOverrides(batch=4)), "torchvision")  # one image, whatever the batch
        assert count.headline == published["exact_macs_conv_linear_matmul"], path.stem
        assert round(count.headline / 1e9, 3) == published["gmacs"], path.stem
        checked.append(path.stem)
    assert checked == [
        "alexnet", "convnext_tiny", "densenet121", "efficientnet_b0", "googlenet", "imagenet_walkthrough",
        "inception_v3", "mobilenet_v2", "mobilenet_v3_large", "regnet_y_400mf", "resnet101", "resnet152", "resnet18",
        "resnet34", "resnet50", "resnext50_32x4d", "shufflenet_v2_x1_0", "squeezenet1_0", "swin_t", "vgg11", "vgg16",
        "vgg16_bn", "vgg19",
        "vit_b_16", "wide_resnet50_2",
    ]


def test_per_image_tools_divide_the_batch():
    result = analyze_file(resolve_spec("resnet50"), InputOverrides(batch=8))
    assert count_as(result, "torchvision").headline == 4_089_184_256
    assert count_as(result, "cnncalc").headline == 8 * 4_089_184_256
    assert count_as(result, "torchinfo").headline == 8 * 4_089_238_376
    # ptflops divides its module hooks by the batch but adds its patched functions (ReLU, pooling) whole.
    assert count_as(result, "ptflops").headline == 4_132_436_968 + 7 * (9_608_704 + 903_168)


# ------------------------------------------------------------------------------ coverage and structure


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_every_convention_decides_every_layer_kind(name):
    convention = CONVENTIONS[name]
    for kind in REGISTRY:
        convention.rule_for(kind)  # raises for a kind the convention has not decided
    assert set(convention.rules) <= set(REGISTRY), "a rule for a kind that does not exist"


def test_the_small_cases_cover_every_layer_kind():
    assert uncovered_kinds() == []


def test_calflops_fails_on_a_network_without_parameters():
    count = count_as(analyze_text(CASES["pooling_2d"]), "calflops")
    assert count.headline is None
    assert "without parameters" in count.failure


@pytest.mark.parametrize("name", ["resnet50", "vit_b_16", "unet", "efficientnet_b0", "imagenet_walkthrough"])
def test_the_breakdown_adds_up_to_each_headline(name):
    result = analyze_file(resolve_spec(name), InputOverrides(batch=3))
    for count in count_all(result):
        parts = differences(count, result.totals.macs)
        assert result.totals.macs + sum(parts.values(), Fraction(0)) == count.headline, count.convention


def _elements(result, *kinds: str) -> int:
    return sum(math.prod(row.output_shape) for row in result.layers if row.kind in kinds)


def test_breakdown_of_resnet50_names_the_causes():
    result = analyze_file(resolve_spec("resnet50"))
    batch_norms, relus = _elements(result, "batchnorm"), _elements(result, "relu")
    assert (batch_norms, relus) == (11_113_984, 9_608_704)
    ptflops = differences(count_as(result, "ptflops"), result.totals.macs)
    assert ptflops[Cause.BIAS] == 1_000  # the classifier's bias; the convolutions have none
    assert ptflops[Cause.NORMS] == 2 * batch_norms  # input numel x 2 (affine)
    assert ptflops[Cause.ACTIVATIONS] == 2 * relus  # each ReLU counted by its hook and by F.relu
    assert ptflops[Cause.POOLING] == 2 * (802_816 + 100_352)  # max pool and average pool inputs, twice each
    thop = differences(count_as(result, "thop"), result.totals.macs)
    assert thop[Cause.NORMS] == 4 * batch_norms
    assert thop[Cause.POOLING] == (49 + 1) * 2048  # adaptive average pooling: (window + 1) x outputs
    torch = differences(count_as(result, "torch"), result.totals.macs)
    assert torch[Cause.FLOPS] == result.totals.macs


def test_conventions_never_import_torch():
    code = (
        "import sys, cnncalc.conventions as c; from cnncalc.engine.analysis import analyze_text; "
        "c.count_all(analyze_text(open('specs/resnet50.yaml').read())); "
        "print('torch' in sys.modules)"
    )
    run = run_python(code)
    assert run.code == 0, run.stderr
    assert run.stdout == "False\n"


# --------------------------------------------------------------------------------------- command line


def test_analyze_json_has_the_headline_of_a_convention():
    result = invoke("analyze", "resnet50", "--convention", "fvcore", "--format", "json")
    assert result.code == 0, result.output
    totals = result.json()["totals"]
    assert (totals["convention"], totals["headline"], totals["headline_unit"]) == ("fvcore", 4_111_512_576, "MACs")
    assert totals["macs"] == 4_089_184_256  # the engine's own keys are unchanged


def test_analyze_json_default_headline_is_cnncalc_macs():
    result = invoke("analyze", "lenet5", "--format", "json")
    assert result.code == 0, result.output
    totals = result.json()["totals"]
    assert (totals["convention"], totals["headline"], totals["headline_unit"]) == ("cnncalc", 416_520, "MACs")


def test_analyze_table_and_markdown_show_the_headline():
    table = invoke("analyze", "resnet50", "--depth", "1", "--convention", "torch")
    assert table.code == 0, table.output
    assert "Headline (torch)" in table.stdout and "8,178,368,512" in table.stdout
    markdown = invoke("analyze", "resnet50", "-f", "markdown", "--convention", "thop")
    assert markdown.code == 0, markdown.output
    assert "**Headline (thop)**: 4,133,742,592 (4.13 G) MACs" in markdown.stdout


def test_unknown_convention_is_a_usage_error():
    result = invoke("analyze", "lenet5", "--convention", "ptflop")
    assert result.code == 2
    assert result.stderr == "error: unknown convention 'ptflop'\n  hint: did you mean 'ptflops'?\n"
    assert result.stdout == ""


def test_conventions_command_json():
    result = invoke("conventions", "resnet50", "--format", "json")
    assert result.code == 0, result.output
    document = result.json()
    by_name = {entry["name"]: entry for entry in document["conventions"]}
    assert list(by_name) == list(CONVENTIONS)
    assert by_name["ptflops"]["headline"] == 4_132_436_968
    assert by_name["torch"]["headline_unit"] == "FLOPs"
    assert by_name["thop"]["differences"]["norms"] == 4 * 11_113_984


def test_conventions_command_table_and_markdown():
    table = invoke("conventions", "vit_b_16")
    assert table.code == 0, table.output
    for text in ("torchinfo", "173,232,616", "attention", "missed layers"):
        assert text in table.stdout
    markdown = invoke("conventions", "resnet50", "-f", "markdown")
    assert markdown.code == 0, markdown.output
    assert "| ptflops | ptflops 0.7.5 (pytorch backend) | 4,132,436,968 (4.13 G) | MACs |" in markdown.stdout


def test_analyze_without_convention_does_not_load_the_conventions():
    code = (
        "import sys; from cnncalc.cli.startup import run; run(['analyze', 'resnet50', '--format', 'json']); "
        "print('cnncalc.conventions' in sys.modules, 'torch' in sys.modules, file=sys.stderr)"
    )
    run = run_python(code)
    assert run.code == 0, run.stderr
    assert run.stderr == "False False\n"
