"""The bundled RegNetY-400MF against torchvision's own module, at the size it was built for and at an odd one:
output shape, parameters, buffers and FLOPs as FlopCounterMode counts them, `verify`, and layer paths that
are torchvision's module paths."""

from __future__ import annotations

import pytest

pytest.importorskip("torch", reason="the torch extra is not installed: pip install 'cnncalc[torch]'")

from importer_helpers import module_figures, spec_figures

from cnncalc.bridge.verify import verify
from cnncalc.engine.analysis import InputOverrides, analyze_file
from cnncalc.language.zoo import zoo_specs

SPEC = zoo_specs()["regnet_y_400mf"]


@pytest.mark.parametrize("shape", [(3, 224, 224), (3, 199, 231)])
def test_regnet_y_400mf_equals_torchvision(torchvision, shape):
    result = analyze_file(SPEC, InputOverrides(shape=shape, batch=1))
    expected = module_figures(torchvision.models.regnet_y_400mf(), (1, *shape))
    assert spec_figures(result) == expected
    report = verify(result, "cpu")
    assert report.ok, report.mismatches()[:5]


def test_regnet_y_400mf_figures_at_both_sizes():
    # torchvision publishes 4,344,144 params and 0.40 GFLOPS (its MACs) at 224x224
    at_224 = analyze_file(SPEC).totals
    assert (at_224.params, at_224.buffers, at_224.macs) == (4_344_144, 27_152, 401_842_848)
    odd = analyze_file(SPEC, InputOverrides(shape=(3, 199, 231))).totals
    assert (odd.params, odd.macs) == (4_344_144, 406_789_856)


def test_regnet_y_400mf_paths_are_torchvision_module_paths(torchvision):
    """Every torchvision module with parameters or buffers is a layer of the spec, under the same path (a
    stage's blocks are a repeat whose `copy_names` give torchvision's `block2.block2-1`)."""
    result = analyze_file(SPEC)
    paths = {row.path for row in result.layers}
    module = torchvision.models.regnet_y_400mf()
    holders = {
        name
        for name, child in module.named_modules()
        if list(child.parameters(recurse=False)) or list(child.buffers(recurse=False))
    }
    assert len(holders) == 139
    assert holders <= paths, sorted(holders - paths)[:5]
