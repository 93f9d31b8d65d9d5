"""Run a few layers through the engine: a tiny spec, built as data and analyzed like any spec file (the same
schema checks and rules), with the engine's result returned."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cnncalc.engine.analysis import analyze_data
from cnncalc.engine.result import AnalysisResult

CALC_FILE = "<calc>"


def analyze_layers(
    input_shape: Sequence[int], layers: Sequence[dict[str, Any]], batch: int = 1, dtype: str = "float32"
) -> AnalysisResult:
    """Analyze `layers` on (batch, *input_shape); raises cnncalc.base.errors.SpecError if they cannot apply."""
    spec = {
        "name": "calc",
        "input": {"shape": list(input_shape), "batch": batch, "dtype": dtype},
        "layers": [dict(layer) for layer in layers],
    }
    return analyze_data(spec, CALC_FILE)
