"""The zoo against the tools run on torchvision's own models: for every zoo network with a torchvision
reference and every peer tool, `--convention` on the spec equals the number the tool prints for the real
`torchvision.models.<name>()` (random weights, nothing downloaded).

tests/test_conventions_live.py feeds the tools the module cnncalc's bridge builds from the spec; this file
checks that the spec is torchvision's network as the tools see it: the same modules where torchvision
registers modules, function calls (`functional: true`) where its forward calls F.relu, torch.flatten or
torch.cat, attention called as torchvision calls it. A spec that models a function call as a module is
caught here, as ptflops and thop count module hooks that never fire on torchvision's model.

Each model is built once and given to every tool, at batch 1 and a small input (the tools' rules do not
depend on the size): 32x32 for every network that takes it, 64x64 for AlexNet; the ViT is built for 32x32
with its builder's `image_size`.
"""

from __future__ import annotations

import functools
import warnings
from types import ModuleType

import pytest
from peer_tools import require

pytest.importorskip("torch", reason="the tools run in PyTorch (the torch extra)")

import torch

from cnncalc.conventions import count_as
from cnncalc.engine.analysis import InputOverrides, analyze_file
from cnncalc.language.yaml_source import load_yaml, read_spec_text
from cnncalc.language.zoo import zoo_specs
from cnncalc.peers import PEER_TOOLS, run_peer

SPECS = zoo_specs()

# The input each network is checked at: the smallest round size its layers take (AlexNet's last max pool
# needs a 3x3 map; Inception v3's stem and grid reductions need 75x75).
INPUT = {"alexnet": (3, 64, 64), "inception_v3": (3, 75, 75)}
SMALL = (3, 32, 32)
# torchvision's ViT refuses any image but the size it was built for (its builder's `image_size`, 224 by
# default; its position embedding has one row per patch of that size).
BUILD_FOR_INPUT = {"vit_b_16": "image_size"}
# Builder options the zoo spec follows: Inception v3 without its auxiliary classifier (training only) and
# without its slow truncated-normal initialisation (weights do not change any count).
BUILD_OPTIONS = {"inception_v3": {"aux_logits": False, "init_weights": False}}
# Segmentation networks: built from torchvision.models.segmentation, without downloading a backbone's
# weights; their forward returns a dict, whose `out` entry is the zoo spec's output.
SEGMENTATION = {"deeplabv3_resnet50", "fcn_resnet50", "lraspp_mobilenet_v3_large"}

# Zoo specs whose reference names a torchvision model but which deliberately differ from its forward.
NOT_TORCHVISION_FORWARD = {
    # The study notes' network: ResNet-18 at batch 32 with one global average pool (tensor code) where
    # torchvision runs nn.AdaptiveAvgPool2d and torch.flatten; params and MACs are resnet18's (test_zoo).
    "imagenet_walkthrough",
}


def _torchvision_name(name: str) -> str | None:
    path = SPECS[name]
    return (load_yaml(read_spec_text(path), str(path)).data.get("reference") or {}).get("torchvision")


NETWORKS = sorted(name for name in SPECS if _torchvision_name(name) and name not in NOT_TORCHVISION_FORWARD)


def test_every_torchvision_network_of_the_zoo_is_checked_or_excused():
    referenced = {name for name in SPECS if _torchvision_name(name)}
    assert referenced == set(NETWORKS) | NOT_TORCHVISION_FORWARD
    assert {"densenet121", "mobilenet_v2", "googlenet", "vit_b_16", "inception_v3"} | SEGMENTATION <= set(NETWORKS)


@functools.lru_cache(maxsize=1)  # the tests of one network run one after another: one model in memory
def _torchvision_model(torchvision: ModuleType, name: str, size: int) -> torch.nn.Module:
    torch.manual_seed(0)
    options = {BUILD_FOR_INPUT[name]: size} if name in BUILD_FOR_INPUT else {}
    options.update(BUILD_OPTIONS.get(name, {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # googlenet's notice about its default initialisation
        if name in SEGMENTATION:
            return getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None).eval()
        return getattr(torchvision.models, name)(**options).eval()


@pytest.mark.parametrize("tool", list(PEER_TOOLS))
@pytest.mark.parametrize("name", NETWORKS)  # the slower-varying parameter: each model is built once
def test_convention_equals_the_tool_on_torchvisions_model(name, tool, torchvision):
    require(tool)
    shape = INPUT.get(name, SMALL)
    result = analyze_file(SPECS[name], InputOverrides(shape=shape, batch=1))
    expected = count_as(result, PEER_TOOLS[tool].convention)
    model = _torchvision_model(torchvision, _torchvision_name(name), shape[-1])
    assert run_peer(tool, model, result.input_shape) == expected.headline
