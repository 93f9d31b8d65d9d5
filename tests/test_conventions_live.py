"""Each convention against the tool itself: the module cnncalc's bridge builds is fed to torchinfo, fvcore,
ptflops, thop, FlopCounterMode, DeepSpeed's flops profiler and calflops, and the number each prints must
equal `cnncalc analyze --convention NAME` exactly.

Networks: small ones that exercise every layer kind and its variants (tests/convention_cases.py), and zoo
networks, some at a reduced input to keep the suite quick. The tools come with the `bench` extra
(`pip install -e ".[bench]"`); without it these tests skip, each saying which tool is missing.
"""

from __future__ import annotations

import pytest
from convention_cases import CASES

pytest.importorskip("torch", reason="the live comparisons build modules in PyTorch (the torch extra)")

from cnncalc.bridge.module import build_module
from cnncalc.conventions import count_as
from cnncalc.engine.analysis import InputOverrides, analyze_file, analyze_text
from cnncalc.language.zoo import resolve_spec
from cnncalc.peers import PEER_TOOLS, run_peer

# The package each tool is imported from (FlopCounterMode ships with torch itself).
IMPORTS = {
    "torchinfo": "torchinfo",
    "fvcore": "fvcore.nn",
    "ptflops": "ptflops",
    "thop": "thop",
    "FlopCounterMode": "torch.utils.flop_counter",
    "deepspeed": "deepspeed.profiling.flops_profiler",
    "calflops": "calflops",
}

# Zoo networks with the input they are checked at (None: the spec's own). Smaller inputs keep the suite
# quick; the tools' rules do not depend on the size.
ZOO = {
    "lenet5": None,
    "resnet18": (3, 224, 224),
    "mobilenet_v3_large": (3, 96, 96),
    "vit_b_16": (3, 64, 64),
    "unet": (3, 64, 64),
}


@pytest.fixture(autouse=True, scope="module")
def _tools_see_torchvision(torchvision):
    """ptflops and calflops import torchvision: imported first with tests/model_libraries.py's workaround, so that
    the CUDA build of torchvision beside the CPU build of torch does not fail their import."""


def require(tool: str) -> None:
    pytest.importorskip(
        IMPORTS[tool], reason=f"{tool} is not installed: install the bench extra, pip install -e '.[bench]'"
    )


def check(tool: str, result) -> None:
    require(tool)
    expected = count_as(result, PEER_TOOLS[tool].convention)
    module = build_module(result, "cpu", for_counting=True)
    if expected.failure:
        with pytest.raises(Exception):  # noqa: B017  (the convention predicts that the tool itself fails)
            run_peer(tool, module, result.input_shape)
        return
    assert run_peer(tool, module, result.input_shape) == expected.headline


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("tool", list(PEER_TOOLS))
def test_small_network(tool, case):
    check(tool, analyze_text(CASES[case], f"<{case}>"))


@pytest.mark.parametrize("name", sorted(ZOO))
@pytest.mark.parametrize("tool", list(PEER_TOOLS))
def test_zoo_network(tool, name):
    shape = ZOO[name]
    check(tool, analyze_file(resolve_spec(name), InputOverrides(shape=shape)))


@pytest.mark.parametrize("tool", ["ptflops", "torchinfo", "FlopCounterMode"])
def test_batch_of_eight(tool):
    # ptflops divides its module hooks by the batch but not its patched functions; the others count it all.
    check(tool, analyze_file(resolve_spec("resnet18"), InputOverrides(shape=(3, 64, 64), batch=8)))
