"""The pure-arithmetic engine: spec in, per-layer rows and totals out. Never imports torch.

    from cnncalc.engine import analyze_file
    result = analyze_file("specs/resnet50.yaml")
    result.totals.params        # 25557032

The public names are loaded on first use, so that the layer rules (which import the arithmetic
modules of this package) and the analysis (which imports the layer rules) do not import each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cnncalc.engine.analysis import InputOverrides, analyze_file, analyze_text, check_text
    from cnncalc.engine.result import AnalysisResult, LayerRow, Totals

_EXPORTS = {
    "InputOverrides": "cnncalc.engine.analysis",
    "analyze_file": "cnncalc.engine.analysis",
    "analyze_text": "cnncalc.engine.analysis",
    "check_text": "cnncalc.engine.analysis",
    "AnalysisResult": "cnncalc.engine.result",
    "LayerRow": "cnncalc.engine.result",
    "Totals": "cnncalc.engine.result",
}

__all__ = [
    "AnalysisResult",
    "InputOverrides",
    "LayerRow",
    "Totals",
    "analyze_file",
    "analyze_text",
    "check_text",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'cnncalc.engine' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
