"""Turn pydantic's validation errors into located, readable spec issues."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from cnncalc.base.errors import SpecIssue
from cnncalc.language.yaml_source import PathKey, SourceMap

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


def _data_path(loc: tuple[Any, ...], data: Any, missing: bool = False) -> tuple[PathKey, bool, int | None]:
    """The parts of pydantic's `loc` that exist in the data (union-member tags such as 'int' dropped),
    whether the last part names a key that is absent (only for a `missing` error), and the index in `loc`
    of the first part that is not in the data (a union-member tag), or None."""
    path: list[str | int] = []
    current = data
    first_tag: int | None = None
    for position, part in enumerate(loc):
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            path.append(part)
            current = current[part]
        elif missing and isinstance(current, dict) and isinstance(part, str) and position == len(loc) - 1:
            path.append(part)
            return tuple(path), True, first_tag
        elif first_tag is None:
            first_tag = position
    return tuple(path), False, first_tag


def _outmatched(
    loc: tuple[Any, ...], path: PathKey, tag: int | None, others: list[tuple[tuple[Any, ...], PathKey, int | None]]
) -> bool:
    """Whether this error is one alternative of a union and another alternative got further into the value:
    `kernel: [3, [3]]` fails both as an int (at `kernel`) and as a list (at `kernel.1`); only the latter helps."""
    if tag is None:
        return False
    for other_loc, other_path, other_tag in others:
        if (
            other_tag == tag
            and other_loc[:tag] == loc[:tag]
            and other_loc[tag] != loc[tag]
            and len(other_path) > len(path)
        ):
            return True
    return False


def _on_key(error: dict[str, Any]) -> bool:
    """Whether pydantic blames a mapping key rather than its value (`loc` ends with '[key]')."""
    return bool(error["loc"]) and error["loc"][-1] == "[key]"


def _short(value: Any, limit: int = 60) -> str:
    """repr() of a value, shortened so that a huge input does not flood the message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-2:]} ({len(text):,} characters)"


# A number outside its range: "must be at least 1" says what to write, pydantic's wording does not.
_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "less_than_equal": ("at most", "le"),
    "greater_than": ("greater than", "gt"),
    "less_than": ("less than", "lt"),
}
# Errors about a value of the right type: they say more than the other alternatives of a union at the same
# place (`stride: 0` is an integer out of range, not "a valid integer or a valid list").
_SPECIFIC = {*_BOUNDS, "bool_for_number"}


def _describe(error: dict[str, Any], fields: Iterable[str]) -> tuple[str, str]:
    kind = error["type"]
    field = str(error["loc"][-1]) if error["loc"] else ""
    if kind == "extra_forbidden":
        return f"unknown field {field!r}", did_you_mean(field, fields)
    if kind == "missing":
        return f"missing required field {field!r}", ""
    if kind == "invalid_key" or field == "[key]":
        return "a key must be a name (text), not a number", "quote the key or rename it"
    bound = _BOUNDS.get(kind)
    if bound is not None:
        word, key = bound
        return f"must be {word} {error.get('ctx', {}).get(key)}", ""
    message = error["msg"]
    if message.startswith("Input should"):
        message = "should" + message[len("Input should") :]
    return message, ""


def _given(error: dict[str, Any]) -> str:
    """' (got VALUE)' for a scalar input, shortened; '' otherwise."""
    given = error.get("input")
    if _on_key(error) or error["type"] in ("extra_forbidden", "missing", "invalid_key"):
        return ""
    if isinstance(given, (str, int, float, bool)):
        return f" (got {_short(given)})"
    return ""


def issues_from_validation_error(
    error: ValidationError,
    base: PathKey,
    source: SourceMap,
    data: Any,
    fields_at: FieldsAt,
    left_out: Iterable[str] = (),
) -> list[SpecIssue]:
    """One issue per located problem; the alternatives of a union at the same place become one line.
    Problems of the top-level fields named in `left_out` (not given on purpose) are not reported."""
    skipped = set(left_out)
    grouped: dict[PathKey, list[dict[str, Any]]] = {}
    absent: dict[PathKey, bool] = {}
    located: list[tuple[dict[str, Any], tuple[Any, ...], PathKey, bool, int | None]] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        if loc and loc[0] in skipped:
            continue
        located.append((item, loc, *_data_path(loc, data, missing=item["type"] == "missing")))
    alternatives = [(loc, path, tag) for _, loc, path, _, tag in located]
    for item, loc, path, is_absent, tag in located:
        if _outmatched(loc, path, tag, alternatives):
            continue
        grouped.setdefault(path, []).append(item)
        absent[path] = is_absent
    issues: list[SpecIssue] = []
    for path, items in grouped.items():
        specific = [item for item in items if item["type"] in _SPECIFIC]
        items = specific or items
        full_path = (*base, *path)
        on_key = items[0]["type"] in ("extra_forbidden", "invalid_key") or absent[path] or _on_key(items[0])
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
        where = ".".join(str(part) for part in (path[:-1] if on_key else path))
        text = " or ".join(messages) + next((_given(item) for item in items if _given(item)), "")
        if where and not on_key:
            text = f"{where}: {text}"
        elif where:
            text = f"{text} in {where}"
        issues.append(SpecIssue(text, location, " ".join(hints)))
    return issues
