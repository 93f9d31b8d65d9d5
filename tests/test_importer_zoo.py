"""`cnncalc import` on the model libraries people use: every torchvision classification model and a sample of
timm's families. The written spec, analyzed, equals the module it came from (output shape, parameters,
buffers, FLOPs as FlopCounterMode counts them), and `verify` of it passes."""

from __future__ import annotations

import re

import pytest
from importer_helpers import module_figures, spec_figures
from model_libraries import import_model_library

from cnncalc.bridge.verify import verify
from cnncalc.engine.analysis import InputOverrides, analyze_text
from cnncalc.importer import ImportFailure, import_module
from cnncalc.importer.ops import axes
from cnncalc.importer.target import build

torchvision = import_model_library("torchvision")
timm = import_model_library("timm")

TORCHVISION_MODELS = sorted(torchvision.models.list_models(module=torchvision.models))

# Models cnncalc cannot write yet, and the operation the error names for each. Swin v2's attention computes its
# position bias with an MLP on a coordinate table and scales cosine logits (no kind models that yet); MaxViT
# splits Q, K and V along the last axis of its own attention.
TORCHVISION_UNSUPPORTED = {
    "maxvit_t": "torch.chunk",
    **{name: "shifted_window_attention" for name in ("swin_v2_t", "swin_v2_s", "swin_v2_b")},
}
# Auxiliary classifiers that the forward pass does not run at inference: not in the spec, said in its header.
AUXILIARY = {"googlenet": ("aux1", "aux2"), "inception_v3": ("AuxLogits",)}

TIMM_MODELS = [
    "resnet18", "resnet50", "resnetv2_50", "seresnext26d_32x4d", "ecaresnet26t", "res2net50_14w_8s",
    "efficientnet_b0", "efficientnetv2_rw_t", "tinynet_a", "mobilenetv2_100", "mobilenetv3_large_100",
    "mnasnet_100", "fbnetc_100", "lcnet_050", "ghostnet_100", "rexnet_100", "regnety_002", "repvgg_a0",
    "gernet_s", "cspresnet50", "dpn68", "densenet121", "dla34", "hrnet_w18_small", "xception41",
    "inception_v3", "selecsls42b", "convnext_tiny", "vit_tiny_patch16_224", "deit_tiny_patch16_224",
    "tf_efficientnet_b0", "tf_mobilenetv3_large_100",
    "vgg11",  # its head branches on the feature map's size: imported by the fallback tracer, sizes fixed
]  # fmt: skip
TIMM_UNSUPPORTED = {
    "mobilevit_xxs": "changes the batch axis",  # folds patches into the batch axis
    "poolformer_s12": "operator.sub",
    "skresnet18": "torch.stack",
    "resnest14d": "Tensor.sum",
    "mixer_b16_224": "Tensor.mean",
    "beit_base_patch16_224": "scaled_dot_product_attention",
}


def _size(name: str) -> int:
    return 299 if name == "inception_v3" else 224


def _round_trip(target: str, input_shape: tuple[int, ...], left_out: tuple[str, ...] = ()) -> None:
    module = build(target, {}).module
    spec = import_module(module, input_shape, name=target.partition(":")[2])
    assert tuple(sorted(spec.unused_parameters)) == tuple(sorted(left_out))
    result = analyze_text(spec.text, target)
    assert spec_figures(result) == module_figures(build(target, {}).module, (1, *input_shape), left_out)
    report = verify(result, "meta")
    assert report.ok, report.mismatches()[:5]


@pytest.mark.parametrize("name", [name for name in TORCHVISION_MODELS if name not in TORCHVISION_UNSUPPORTED])
def test_every_torchvision_classifier_round_trips_exactly(name):
    _round_trip(f"torchvision:{name}", (3, _size(name), _size(name)), AUXILIARY.get(name, ()))


@pytest.mark.parametrize("name", sorted(TORCHVISION_UNSUPPORTED))
def test_torchvision_models_that_need_windowed_attention_name_the_operation(name):
    with pytest.raises(ImportFailure) as failure:
        import_module(build(f"torchvision:{name}", {}).module, (3, 224, 224), name=name)
    assert TORCHVISION_UNSUPPORTED[name] in failure.value.message
    assert re.search(r"at .+\.py:\d+: ", failure.value.message), "the error gives the line of the model's code"


def test_the_lists_cover_every_torchvision_classifier():
    assert set(TORCHVISION_UNSUPPORTED) <= set(TORCHVISION_MODELS)
    assert len(TORCHVISION_MODELS) == 80


@pytest.mark.parametrize("name", TIMM_MODELS)
def test_a_sample_of_timm_round_trips_exactly(name):
    _round_trip(f"timm:{name}", (3, _size(name), _size(name)))


@pytest.mark.parametrize("name", sorted(TIMM_UNSUPPORTED))
def test_timm_models_that_cannot_be_imported_say_why(name):
    with pytest.raises(ImportFailure) as failure:
        import_module(build(f"timm:{name}", {}).module, (3, 224, 224), name=name)
    assert TIMM_UNSUPPORTED[name] in failure.value.message


@pytest.mark.parametrize(
    ("target", "traced", "other"),
    [
        ("torchvision:resnet50", (3, 224, 224), (3, 160, 200)),
        ("torchvision:efficientnet_b0", (3, 224, 224), (3, 257, 255)),
        ("torchvision:convnext_tiny", (3, 224, 224), (3, 192, 160)),
        ("torchvision:shufflenet_v2_x1_0", (3, 224, 224), (3, 320, 256)),
        ("torchvision:densenet121", (3, 224, 224), (3, 129, 131)),
        ("timm:regnety_002", (3, 224, 224), (3, 288, 288)),
    ],
)
def test_a_spec_imported_at_one_size_is_exact_at_another(target, traced, other):
    spec = import_module(build(target, {}).module, traced)
    result = analyze_text(spec.text, target, InputOverrides(shape=other, batch=3))
    assert spec_figures(result) == module_figures(build(target, {}).module, (3, *other))


def _zoo_with_torchvision_reference() -> dict[str, str]:
    from cnncalc.language.yaml_source import load_yaml, read_spec_text
    from cnncalc.language.zoo import zoo_specs

    found = {}
    for name, path in zoo_specs().items():
        reference = (load_yaml(read_spec_text(path), str(path)).data.get("reference") or {}).get("torchvision")
        if reference and name != "imagenet_walkthrough":
            found[name] = reference
    return found


@pytest.mark.parametrize(("spec", "model"), sorted(_zoo_with_torchvision_reference().items()))
def test_an_imported_torchvision_model_counts_as_its_zoo_spec_in_every_convention(spec, model):
    """The zoo specs follow torchvision's forward, and tests/test_torchvision_peers.py checks them against each
    tool run on torchvision's own module: an imported spec that counts as the zoo's, counts as the tools do."""
    from cnncalc.conventions import convention_names, count_as
    from cnncalc.engine.analysis import analyze_file
    from cnncalc.language.zoo import resolve_spec

    zoo = analyze_file(resolve_spec(spec))
    module = build(f"torchvision:{model}", {}).module
    imported = analyze_text(import_module(module, zoo.input_shape[1:], zoo.input_shape[0]).text)
    for convention in convention_names():
        assert count_as(imported, convention).headline == count_as(zoo, convention).headline, convention


@pytest.mark.parametrize("name", ["swin_t", "swin_s", "swin_b"])
def test_swin_imports_with_its_shifted_windows(name):
    """Every second block of a stage shifts its windows by half a window: the shift costs no FLOPs, so the
    round trip's figures cannot tell it is lost; the imported rows must carry it as torchvision's modules do."""
    module = build(f"torchvision:{name}", {}).module
    spec = import_module(module, (3, 224, 224), name=name)
    rows = analyze_text(spec.text, name).layers
    shifts = {row.path: row.spec.shift for row in rows if row.kind == "window_attention"}
    expected = {
        path: axes(list(attention.shift_size))
        for path, attention in module.named_modules()
        if type(attention).__name__ == "ShiftedWindowAttention"
    }
    assert shifts == expected
    assert sorted(set(shifts.values())) == [0, 3]


def test_swin_at_an_odd_size_and_a_batch():
    """Padding to whole windows and odd patch merging, at a size imported at another."""
    spec = import_module(build("torchvision:swin_t", {}).module, (3, 224, 224))
    result = analyze_text(spec.text, "swin_t", InputOverrides(shape=(3, 231, 197), batch=2))
    assert spec_figures(result) == module_figures(build("torchvision:swin_t", {}).module, (2, 3, 231, 197))
    assert spec_figures(result).flops == 20_537_516_544


@pytest.mark.parametrize("name", ["r3d_18", "mc3_18", "r2plus1d_18"])
def test_torchvision_video_models_round_trip(name):
    """3-d convolutions, written by torchvision as subclasses of nn.Conv3d that keep its forward."""
    _round_trip(f"torchvision:{name}", (3, 8, 64, 64))


SEGMENTATION = {
    # the sizes written, and the FLOPs at 97x131 and at 161x97, as FlopCounterMode counts torchvision's module
    "fcn_resnet50": (["spatial(input)"], 14_896_629_504),
    "deeplabv3_resnet50": (["spatial(backbone)", "spatial(input)"], 17_618_191_616),
    "lraspp_mobilenet_v3_large": (["spatial(backbone.4)", "spatial(input)"], 237_499_776),
}


@pytest.mark.parametrize("name", sorted(SEGMENTATION))
def test_a_segmentation_model_is_its_out_entry_sized_from_other_layers(name):
    """torchvision's segmentation models return {"out": ...} and upsample to the size of another tensor
    (`F.interpolate(x, size=input_shape)` with `input_shape = x.shape[-2:]`): the spec says `spatial(NAME)`, so
    it holds at any input size. Their builders would download backbone weights: they must not."""
    import re

    module = build(f"torchvision:{name}", {}).module
    spec = import_module(module, (3, 97, 131))
    sizes, flops = SEGMENTATION[name]
    assert re.findall(r'size: "(spatial\([^)]*\))"', spec.text) == sizes
    result = analyze_text(spec.text)
    assert spec_figures(result) == module_figures(module, (1, 3, 97, 131))
    assert (spec_figures(result).flops, result.layers[result.output_index].output_shape) == (flops, (1, 21, 97, 131))
    other = analyze_text(spec.text, name, InputOverrides(shape=(3, 161, 97), batch=2))
    assert spec_figures(other) == module_figures(module, (2, 3, 161, 97))
