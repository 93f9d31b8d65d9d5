"""Turn pydantic's validation errors into located, readable spec issues."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from cnncalc.errors import SpecIssue
from cnncalc.spec.yaml_source import PathKey, SourceMap

FieldsAt = Callable[[PathKey], Iterable[str]]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A hint naming the closest candidate, or listing them all when none is close."""
    options = sorted(set(candidates))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    if len(options) <= 12:
        return "expected one of: " + ", ".join(options)
    return ""


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[PathKey, bool]:
    """The parts of pydantic's `loc` that exist in the data (union-member tags such as 'int' dropped),
    and whether the last part names a key that is absent (a missing field)."""
    path: list[str | int] = []
    current = data
    for position, part in enumerate(loc):
        if (isinstance(current, dict) and part in current) or (isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)):
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and position == len(loc) - 1:
            path.append(part)
            return tuple(path), True
    return tuple(path), False


def _describe(error: dict[str, Any], fields: Iterable[str]) -> tuple[str, str]:
    kind = error["type"]
    field = str(error["loc"][-1]) if error["loc"] else ""
    if kind == "extra_forbidden":
        return f"unknown field {field!r}", did_you_mean(field, fields)
    if kind == "missing":
        return f"missing required field {field!r}", ""
    message = error["msg"]
    if message.startswith("Input should"):
        message = "should" + message[len("Input should") :]
    given = error.get("input")
    if isinstance(given, (str, int, float, bool)):
        message += f" (got {given!r})"
    return message, ""


def issues_from_validation_error(
    error: ValidationError,
    base: PathKey,
    source: SourceMap,
    data: Any,
    fields_at: FieldsAt,
) -> list[SpecIssue]:
    """One issue per located problem; the alternatives of a union at the same place become one line."""
    grouped: dict[PathKey, list[dict[str, Any]]] = {}
    absent: dict[PathKey, bool] = {}
    for item in error.errors(include_url=False):
        path, is_absent = _data_path(tuple(item["loc"]), data)
        grouped.setdefault(path, []).append(item)
        absent[path] = is_absent
    issues: list[SpecIssue] = []
    for path, items in grouped.items():
        full_path = (*base, *path)
        on_key = items[0]["type"] == "extra_forbidden" or absent[path]
        location = source.locate(full_path, key=on_key)
        messages: list[str] = []
        hints: list[str] = []
        fields = list(fields_at(path[:-1] if on_key else path))
        for item in items:
            message, hint = _describe(item, fields)
            if message not in messages:
                messages.append(message)
            if hint and hint not in hints:
                hints.append(hint)
        where = ".".join(str(part) for part in path if not (on_key and part == path[-1]))
        text = " or ".join(messages)
        if where and not on_key:
            text = f"{where}: {text}"
        elif where:
            text = f"{text} in {where}"
        issues.append(SpecIssue(text, location, " ".join(hints)))
    return issues
