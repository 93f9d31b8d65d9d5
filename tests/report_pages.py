"""Helpers of the report tests: reading the data a report embeds, and a 10,000-layer spec."""

from __future__ import annotations

import json
import re
from typing import Any

DATA_ELEMENT = re.compile(r'<script id="cnncalc-data" type="application/json">(.*?)</script>', re.S)

# 20 stages x 100 residual units x 5 layers, then a classifier head: 10,003 layers.
DEEP_SPEC = """\
name: deep_stack
input: {shape: [16, 32, 32]}
blocks:
  unit:
    layers:
      - {name: conv, type: conv2d, out: 16, kernel: 3, padding: 1, bias: false}
      - {name: bn, type: batchnorm}
      - {name: relu, type: relu}
      - {name: conv2, type: conv2d, out: 16, kernel: 3, padding: 1, bias: false}
      - {name: add, type: add, from: [conv2, input]}
layers:
  - name: stage
    repeat: 20
    layers:
      - {name: unit, block: unit, repeat: 100}
  - {type: global_avgpool}
  - {type: flatten}
  - {type: linear, out: 10}
"""
DEEP_LAYERS = 10_003

NAME, TYPE, DEPTH, PARENT, BLOCK, LAYERS, CELLS, SORT = range(8)  # the fields of a table row in the data


def embedded_data(page: str) -> dict[str, Any]:
    """The JSON a report carries for its script (and for these tests)."""
    match = DATA_ELEMENT.search(page)
    assert match is not None, "no embedded data"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def column_index(data: dict[str, Any], key: str) -> int:
    return [column["key"] for column in data["table"]["columns"]].index(key)
