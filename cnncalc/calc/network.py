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
    """Analyze `layers` on (batch, *input_shape); raises cnncalc.base.errors.SpecError if they cannot apply."""
    return analyze_text(layers_spec_text(input_shape, layers, batch, dtype), CALC_FILE)


def built_prefix(
    input_shape: Sequence[int], layers: Sequence[dict[str, Any]], batch: int = 1, dtype: str = "float32"
) -> int:
    """How many of `layers`, from the first, the engine built (at least in part).

    The engine follows the chain only while each layer has an output: after a layer that has none, the rest are
    not computed at all and report no issue. Raises cnncalc.base.errors.SpecError if the spec itself cannot be read.
    """
    from cnncalc.base.tensor import image_tensor
    from cnncalc.engine.builder import build_graph
    from cnncalc.language.document import parse_document
    from cnncalc.language.yaml_source import load_yaml

    loaded = load_yaml(layers_spec_text(input_shape, layers, batch, dtype), CALC_FILE)
    builder = build_graph(
        parse_document(loaded), loaded.source, image_tensor(batch, input_shape[0], tuple(input_shape[1:]))
    )
    # A node's path starts with its layer's index ("2", or "1.depthwise" for a part of a composite layer).
    built = {int(node.path.split(".")[0]) for node in builder.nodes}
    count = 0
    while count in built:
        count += 1
    return count
