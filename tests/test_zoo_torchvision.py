"""Zoo specs of torchvision networks that the published figures (tests/data/reference) do not cover, against
torchvision's modules themselves, at the spec's own input and at an odd one: output shape, parameters,
buffers and FLOPs as FlopCounterMode counts them, exactly; and `verify` of the spec passes.

The segmentation networks upsample their scores to the input's size (`size: spatial(input)`), and LR-ASPP its
high map to the low map's (`spatial(backbone.4)`): at an odd input, a size written as a number would be wrong.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from types import ModuleType

import pytest

pytest.importorskip("torch", reason="compared with torchvision's modules (the torch extra)")

import torch
from importer_helpers import module_figures, spec_figures

from cnncalc.bridge.verify import verify
from cnncalc.engine.analysis import InputOverrides, analyze_file
from cnncalc.language.zoo import zoo_specs

SPECS = zoo_specs()


class _Out(torch.nn.Module):
    """A segmentation network's `out` entry, the spec's output (its forward returns a dict)."""

    def __init__(self, network: torch.nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.network(image)["out"]


def _segmentation(name: str) -> Callable[[ModuleType], torch.nn.Module]:
    # weights_backbone=None: the builders would download ImageNet weights for the backbone otherwise
    return lambda torchvision: _Out(getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None))


BUILDERS: dict[str, Callable[[ModuleType], torch.nn.Module]] = {
    "deeplabv3_resnet50": _segmentation("deeplabv3_resnet50"),
    "fcn_resnet50": _segmentation("fcn_resnet50"),
    "lraspp_mobilenet_v3_large": _segmentation("lraspp_mobilenet_v3_large"),
    # the spec leaves out the auxiliary classifier, which only training runs
    "inception_v3": lambda torchvision: torchvision.models.inception_v3(aux_logits=False, init_weights=False),
}
# (batch, channels, height, width): the spec's own input, and an odd, non-square one
ODD_INPUT = {
    "deeplabv3_resnet50": (1, 3, 97, 131),
    "fcn_resnet50": (1, 3, 97, 131),
    "lraspp_mobilenet_v3_large": (1, 3, 97, 131),
    "inception_v3": (2, 3, 331, 301),
}
CASES = [(name, None) for name in BUILDERS] + list(ODD_INPUT.items())


@pytest.mark.parametrize(("name", "shape"), CASES, ids=[f"{name}-{shape or 'own'}" for name, shape in CASES])
def test_zoo_spec_is_torchvisions_network(name, shape, torchvision):
    overrides = InputOverrides(shape=shape[1:], batch=shape[0]) if shape else InputOverrides()
    result = analyze_file(SPECS[name], overrides)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = BUILDERS[name](torchvision)
    assert spec_figures(result) == module_figures(module, result.input_shape)
    report = verify(result, "meta")
    assert report.ok, report.mismatches()[:5]


def test_the_segmentation_scores_have_the_input_size():
    for name in ("deeplabv3_resnet50", "fcn_resnet50", "lraspp_mobilenet_v3_large"):
        result = analyze_file(SPECS[name], InputOverrides(shape=(3, 97, 131)))
        assert result.output_shape[1:] == (21, 97, 131), name


def test_published_parameter_counts():
    """torchvision's own figures: LR-ASPP's weights have no auxiliary head (3,221,538 parameters); FCN's and
    DeepLabV3's carry one (an FCNHead on layer3: 2,365,205 parameters more than these specs)."""
    assert analyze_file(SPECS["lraspp_mobilenet_v3_large"]).totals.params == 3_221_538
    aux_head = 1024 * 256 * 9 + 2 * 256 + 256 * 21 + 21
    assert aux_head == 2_365_205
    assert analyze_file(SPECS["fcn_resnet50"]).totals.params + aux_head == 35_322_218
    assert analyze_file(SPECS["deeplabv3_resnet50"]).totals.params + aux_head == 42_004_074
