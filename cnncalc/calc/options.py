"""Reading calculator options: a size per axis ('3' or '1x7') and padding ('1', '0x3', 'same', 'valid').

A value that cannot be read or that no layer can take (below the minimum, above MAX_DIMENSION, more than
MAX_SPATIAL_AXES axes) raises OptionValueError: a usage error (exit 2), found before the engine runs.
"""

from __future__ import annotations

import re

from cnncalc.base.limits import MAX_DIMENSION, MAX_SPATIAL_AXES

_INTEGER = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = len(str(MAX_DIMENSION))
_SHOWN_CHARS = 40


class OptionValueError(ValueError):
    """A calculator option whose value cannot be read; the message says which and how to write it."""


def parse_axes(text: str, what: str, minimum: int = 1) -> int | list[int]:
    """'3' -> 3 (every axis), '1x7' -> [1, 7] (one per axis, H then W)."""
    parts = [part.strip() for part in text.strip().lower().replace("×", "x").replace(",", "x").split("x")]
    shown = shorten(text)
    if not all(_INTEGER.fullmatch(part) for part in parts):
        raise OptionValueError(f"{what} {shown!r} is not a number or per-axis numbers such as 3 or 1x7")
    if len(parts) > MAX_SPATIAL_AXES:
        raise OptionValueError(f"{what} {shown!r} has more than {MAX_SPATIAL_AXES} axes")
    if any(part.startswith("-") for part in parts) and minimum >= 0:
        raise OptionValueError(f"{what} {shown!r} must be at least {minimum}")
    if any(len(part.lstrip("+").lstrip("0")) > _MAX_DIGITS for part in parts):  # before int(): no 5,000-digit int
        raise OptionValueError(f"{what} {shown!r} is too large (at most {MAX_DIMENSION:,})")
    values = [int(part) for part in parts]
    if any(value < minimum for value in values):
        raise OptionValueError(f"{what} {shown!r} must be at least {minimum}")
    if any(value > MAX_DIMENSION for value in values):
        raise OptionValueError(f"{what} {shown!r} is too large (at most {MAX_DIMENSION:,})")
    return values[0] if len(values) == 1 else values


def parse_padding(text: str) -> int | str | list[int]:
    """'1', '0x3', 'same' or 'valid'."""
    word = text.strip().lower()
    if word in ("same", "valid"):
        return word
    return parse_axes(word, "padding", minimum=0)


def shorten(text: str) -> str:
    """A typed value cut short for a message: a 5,000-digit option is not echoed whole."""
    text = text.strip()
    return text if len(text) <= _SHOWN_CHARS else f"{text[: _SHOWN_CHARS - 10]}…{text[-9:]} ({len(text):,} chars)"
