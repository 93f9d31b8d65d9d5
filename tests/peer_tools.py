"""The peer counting tools in tests: the package each one is imported from, and a skip when it is missing.

The tools come with the `test` extra. ptflops imports torchvision.ops whenever torchvision is installed,
which fails on machines where torchvision's compiled operators do not load; importing torchvision first with
the workaround of tests/model_libraries.py makes it importable (`torchvision_importable`).
"""

from __future__ import annotations

import contextlib

import pytest
from model_libraries import import_model_library

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


def torchvision_importable() -> None:
    with contextlib.suppress(ImportError):
        import_model_library("torchvision")


def require(tool: str) -> None:
    """Skip the test, naming the tool, when it is not installed."""
    pytest.importorskip(
        IMPORTS[tool], reason=f"{tool} is not installed: install the test extra, pip install -e '.[test]'"
    )
