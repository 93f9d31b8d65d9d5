"""The bundled specs against published figures: torchvision's exact parameter and MAC counts, and the
receptive fields of Google's receptive_field tables (tests/data/reference, sources in its README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnncalc.engine import analyze_file
from cnncalc.language.yaml_source import load_yaml, read_spec_text
from cnncalc.language.zoo import zoo_specs

# The published figures are copied into the project with their sources (tests/data/reference/README.md).
REFERENCE_DIR = Path(__file__).resolve().parent / "data" / "reference"

SPECS = zoo_specs()
REQUIRED = {
    "lenet5",
    "alexnet",
    "vgg16",
    "vgg16_bn",
    "resnet18",
    "resnet50",
    "resnet101",
    "resnext50_32x4d",
    "mobilenet_v2",
    "efficientnet_b0",
    "densenet121",
    "convnext_tiny",
    "vit_b_16",
    "unet",
    "imagenet_walkthrough",
}


def _torchvision_reference() -> dict:
    return json.loads((REFERENCE_DIR / "torchvision_models.json").read_text())["models"]


def _receptive_field_reference() -> dict:
    return json.loads((REFERENCE_DIR / "receptive_fields.json").read_text())


def _torchvision_name(spec: Path) -> str | None:
    data = load_yaml(read_spec_text(spec), str(spec)).data
    return (data.get("reference") or {}).get("torchvision")


def _field(result, path: str):
    row = next(row for row in result.layers if row.path == path)
    return row.field


def test_zoo_holds_every_required_network():
    assert set(SPECS) >= REQUIRED


# The classifiers with published figures; the segmentation networks, which have none there, are compared
# with torchvision's modules themselves (tests/test_zoo_torchvision.py).
TORCHVISION_SPECS = sorted(name for name, path in SPECS.items() if _torchvision_name(path) in _torchvision_reference())


def test_the_published_figures_cover_the_classifiers():
    assert {"inception_v3", "googlenet", "resnet50"} <= set(TORCHVISION_SPECS)


@pytest.mark.parametrize("name", TORCHVISION_SPECS)
def test_params_and_macs_match_torchvision_exactly(name):
    spec = SPECS[name]
    reference = _torchvision_reference()[_torchvision_name(spec)]
    result = analyze_file(spec)
    batch = result.totals.batch
    assert result.input_shape[1:] == tuple(reference["input"])
    # The zoo leaves out auxiliary classifiers that only training runs (Inception v3's AuxLogits).
    assert result.totals.params == reference.get("num_params_without_aux", reference["num_params"])
    assert result.totals.macs == batch * reference["exact_macs_conv_linear_matmul"]
    assert result.totals.flops == 2 * batch * reference["exact_macs_conv_linear_matmul"]
    assert result.totals.buffers == reference["buffers"]
    assert result.output_shape == (batch, 1000)


def test_lenet5_matches_the_deepspeed_figures():
    # DeepSpeed's flops-profiler test: LeNet-5 has 61,706 params and 416,520 MACs per image.
    result = analyze_file(SPECS["lenet5"])
    assert result.totals.params == 61_706
    assert result.totals.macs == 416_520 * result.totals.batch


def test_unet_matches_hand_count():
    # 3 -> 2 classes, 64..1024 channels, transposed-conv upsampling: the figure of the common PyTorch U-Net.
    result = analyze_file(SPECS["unet"])
    assert result.totals.params == 31_037_698
    assert result.totals.buffers == 11_776
    assert result.output_shape == (1, 2, 256, 256)


def _axis(field):
    assert len({(axis.size, axis.jump, axis.start) for axis in field}) == 1, "square networks: axes agree"
    axis = field[0]
    return axis.size, axis.jump, axis.start


def test_vgg16_features_receptive_field_and_tf_slim_table():
    reference = _receptive_field_reference()
    result = analyze_file(SPECS["vgg16"])
    # torchvision's features.N for each end point of the TF-Slim vgg_16 table
    end_points = {
        "conv1/conv1_1": 0,
        "pool1": 4,
        "conv2/conv2_1": 5,
        "pool2": 9,
        "conv3/conv3_1": 10,
        "conv3/conv3_2": 12,
        "pool3": 16,
        "conv4/conv4_1": 17,
        "conv4/conv4_2": 19,
        "pool4": 23,
        "conv5/conv5_1": 24,
        "conv5/conv5_2": 26,
        "pool5": 30,
    }
    table = {row["end_point"].removeprefix("vgg_16/"): row for row in reference["networks"]["vgg_16"]}
    assert set(end_points) == set(table)
    for end_point, index in end_points.items():
        expected = table[end_point]
        got = _axis(_field(result, f"features.{index}"))
        assert got == (expected["receptive_field"], expected["effective_stride"], expected["effective_padding"]), (
            end_point
        )
    assert _axis(_field(result, "features.30")) == (212, 32, 90)
    assert _axis(result.receptive_field) == (212, 32, 90)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("resnet18", (435, 32, 217)),
        ("resnet34", (899, 32, 449)),
        ("resnet50", (427, 32, 213)),
        ("resnet101", (971, 32, 485)),
    ],
)
def test_resnet_receptive_fields(name, expected):
    reference = _receptive_field_reference()["torchvision_derived"][name]
    assert expected == (reference["receptive_field"], reference["effective_stride"], reference["effective_padding"])
    result = analyze_file(SPECS[name])
    assert _axis(result.receptive_field) == expected
    assert result.receptive_field_layer.startswith("layer4.")


def test_resnet50_stage_receptive_fields():
    stages = _receptive_field_reference()["torchvision_derived"]["resnet50"]["stage_receptive_fields"]
    assert stages == [35, 91, 267, 427]
    result = analyze_file(SPECS["resnet50"])
    last_block = {"layer1": 2, "layer2": 3, "layer3": 5, "layer4": 2}
    got = [_field(result, f"{stage}.{block}.relu")[0].size for stage, block in last_block.items()]
    assert got == stages


def test_alexnet_features_receptive_field():
    expected = _receptive_field_reference()["torchvision_derived"]["alexnet_features"]
    result = analyze_file(SPECS["alexnet"])
    assert _axis(_field(result, "features.12")) == (
        expected["receptive_field"],
        expected["effective_stride"],
        expected["effective_padding"],
    )


def test_walkthrough_network_reproduces_the_notes_shapes():
    result = analyze_file(SPECS["imagenet_walkthrough"])
    shapes = {row.path: row.output_shape for row in result.layers}
    assert result.input_shape == (32, 3, 224, 224)
    assert shapes["conv1"] == (32, 64, 112, 112)
    assert shapes["maxpool"] == (32, 64, 56, 56)
    assert result.layers[-1].output_shape == (32, 1000)
    assert (32, 512, 7, 7) in shapes.values()
    assert (32, 512) in shapes.values()


# Warnings that are the network as it is, and that the spec's comments explain.
EXPECTED_WARNINGS = {
    # a bilinear upsampling (align_corners=False) before an add: the two score maps are not centred alike
    "lraspp_mobilenet_v3_large": "classifier.add (add): add: the paths are not aligned",
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_bundled_spec_analyzes_without_warnings(name):
    result = analyze_file(SPECS[name])
    assert result.layers
    expected = EXPECTED_WARNINGS.get(name)
    assert all(expected and warning.message.startswith(expected) for warning in result.warnings), [
        warning.message for warning in result.warnings
    ]
