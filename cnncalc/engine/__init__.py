"""The pure-arithmetic engine: spec in, per-layer rows and totals out. Never imports torch.

from cnncalc.engine import analyze_file
result = analyze_file("specs/resnet50.yaml")
result.totals.params        # 25557032
"""

from cnncalc.engine.analysis import (
    InputOverrides,
    analyze_data,
    analyze_file,
    analyze_loaded,
    analyze_text,
    check_text,
)
from cnncalc.engine.result import AnalysisResult, LayerRow, Totals

__all__ = [
    "AnalysisResult",
    "InputOverrides",
    "LayerRow",
    "Totals",
    "analyze_data",
    "analyze_file",
    "analyze_loaded",
    "analyze_text",
    "check_text",
]
