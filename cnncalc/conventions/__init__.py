"""Other tools' counting conventions, computed from the engine's rows without running any model.

Each convention reproduces the headline number one tool prints for the network built by cnncalc's torch
bridge, the same input and batch: its bias, normalization, activation and pooling counts, where it counts
a transposed convolution, whether it reports one image or the batch, and the modules it does not see.
The rules come from each tool's source, one small function per (convention, layer kind); the live tests
and benchmarks/peers check them against the tools themselves.

Pure arithmetic like the engine: importing this package never imports torch. It is imported only by
`cnncalc analyze --convention` and `cnncalc conventions`.
"""

from __future__ import annotations

from cnncalc.conventions.count import count, layer_views
from cnncalc.conventions.deepspeed import CALFLOPS, DEEPSPEED
from cnncalc.conventions.engine_macs import CNNCALC, TORCH, TORCHVISION
from cnncalc.conventions.fvcore import FVCORE
from cnncalc.conventions.model import LayerCount, LayerView, NetworkCount, Part, Term
from cnncalc.conventions.ptflops import PTFLOPS
from cnncalc.conventions.registry import Convention
from cnncalc.conventions.thop import THOP
from cnncalc.conventions.torchinfo import TORCHINFO
from cnncalc.engine.result import AnalysisResult

DEFAULT = "cnncalc"

CONVENTIONS: dict[str, Convention] = {
    convention.name: convention
    for convention in (CNNCALC, TORCHVISION, TORCH, TORCHINFO, FVCORE, PTFLOPS, THOP, DEEPSPEED, CALFLOPS)
}


def convention_names() -> list[str]:
    return list(CONVENTIONS)


def count_as(result: AnalysisResult, name: str) -> NetworkCount:
    """The headline tool `name` reports for this network (KeyError for an unknown name)."""
    return count(result, CONVENTIONS[name])


def count_all(result: AnalysisResult) -> list[NetworkCount]:
    return [count(result, convention) for convention in CONVENTIONS.values()]


__all__ = [
    "CONVENTIONS",
    "DEFAULT",
    "Convention",
    "LayerCount",
    "LayerView",
    "NetworkCount",
    "Part",
    "Term",
    "convention_names",
    "count",
    "count_all",
    "count_as",
    "layer_views",
]
