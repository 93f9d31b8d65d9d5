"""Which string values of a layer's fields are expressions, and evaluating them.

A field whose type admits free text (a name) keeps its strings. A field whose type admits only numbers,
booleans or a few keywords (`padding: same`) treats any other string as an expression: `out: mid * 4`.
The decision is read from the schema's type annotations once per field and cached.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel

from cnncalc.spec.expressions import Number, evaluate

FREE_TEXT = None  # marker: the field keeps every string as text


@cache
def string_keywords(schema: type[BaseModel], field: str) -> frozenset[str] | None:
    """The keywords a field accepts as text, or FREE_TEXT when it accepts any string."""
    info = schema.model_fields.get(field)
    if info is None:
        return frozenset()
    keywords: set[str] = set()
    free = _collect(info.annotation, keywords)
    return FREE_TEXT if free else frozenset(keywords)


def _collect(annotation: Any, keywords: set[str]) -> bool:
    if annotation is str:
        return True
    origin = typing.get_origin(annotation)
    if origin is Literal:
        keywords.update(arg for arg in typing.get_args(annotation) if isinstance(arg, str))
        return False
    if origin is typing.Annotated:
        return _collect(typing.get_args(annotation)[0], keywords)
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        return any(_collect(arg, keywords) for arg in typing.get_args(annotation))
    return False


def evaluate_value(value: Any, keywords: frozenset[str] | None, variables: Mapping[str, Number]) -> Any:
    """Evaluate the expression strings inside `value` (recursing into lists); keywords stay as they are."""
    if isinstance(value, str):
        if keywords is FREE_TEXT or value in keywords:
            return value
        return evaluate(value, variables)
    if isinstance(value, list):
        return [evaluate_value(item, keywords, variables) for item in value]
    return value
