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

from cnncalc.language.expressions import LayerShapes, Value, as_field_value, evaluate

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


@cache
def admits_bool(schema: type[BaseModel], field: str) -> bool:
    """Whether a field takes true/false. Pydantic's lax mode would read `out: true` as 1 for an int field:
    a boolean given for a number is refused instead (see the builder)."""
    info = schema.model_fields.get(field)
    return info is None or _mentions(info.annotation, bool)


def holds_bool(value: Any) -> bool:
    """Whether a value, or an item of a list value, is a boolean."""
    if isinstance(value, list):
        return any(holds_bool(item) for item in value)
    return isinstance(value, bool)


def _mentions(annotation: Any, wanted: type) -> bool:
    if annotation is wanted or annotation is Any:
        return True
    return any(_mentions(arg, wanted) for arg in typing.get_args(annotation) if not isinstance(arg, str))


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


def evaluate_value(
    value: Any, keywords: frozenset[str] | None, variables: Mapping[str, Value], shapes: LayerShapes | None = None
) -> Any:
    """Evaluate the expression strings inside `value` (recursing into lists); keywords stay as they are.
    An expression may give a list (`kernel: kernel` with `kernel: [1, 7]`, `size: spatial(input)`)."""
    if isinstance(value, str):
        if keywords is FREE_TEXT or value in keywords:
            return value
        return as_field_value(evaluate(value, variables, shapes))
    if isinstance(value, list):
        return [evaluate_value(item, keywords, variables, shapes) for item in value]
    return value
