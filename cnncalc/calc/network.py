"""Run a few layers through the engine: build a tiny spec, analyze it, return the engine's result.

The spec is written as JSON text, which is valid YAML, so it goes through exactly the same loader,
schema checks and rules as a spec file does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cnncalc.engine.analysis import analyze_text
from cnncalc.engine.result import AnalysisResult

CALC_FILE = "<calc>"


def layers_spec_text(
    input_shape: Sequence[int], layers: Sequence[dict[str, Any]], batch: int = 1, dtype: str = "float32"
) -> str:
    """The spec, as YAML (JSON) text, for `layers` applied to an input of (channels, *spatial)."""
    spec = {
        "name": "calc",
        "input": {"shape": list(input_shape), "batch": batch, "dtype": dtype},
        "layers": list(layers),
    }
    return json.dumps(spec)


def analyze_layers(
    input_shape: Sequence[int], layers: Sequence[dict[str, Any]], batch: int = 1, dtype: str = "float32"
) -> AnalysisResult:
    """Analyze `layers` on (batch, *input_shape); raises cnncalc.errors.SpecError if they cannot apply."""
    return analyze_text(layers_spec_text(input_shape, layers, batch, dtype), CALC_FILE)
