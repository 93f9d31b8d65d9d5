"""Reading calculator options: a size per axis ('3' or '1x7') and padding ('1', '0x3', 'same', 'valid')."""

from __future__ import annotations


class OptionValueError(ValueError):
    """A calculator option whose value cannot be read; the message says which and how to write it."""


def parse_axes(text: str, what: str, minimum: int = 1) -> int | list[int]:
    """'3' -> 3 (every axis), '1x7' -> [1, 7] (one per axis, H then W)."""
    parts = text.strip().lower().replace("×", "x").replace(",", "x").split("x")
    try:
        values = [int(part) for part in parts]
    except ValueError:
        raise OptionValueError(f"{what} {text!r} is not a number or per-axis numbers such as 3 or 1x7") from None
    if any(value < minimum for value in values):
        raise OptionValueError(f"{what} {text!r} must be at least {minimum}")
    return values[0] if len(values) == 1 else values


def parse_padding(text: str) -> int | str | list[int]:
    """'1', '0x3', 'same' or 'valid'."""
    word = text.strip().lower()
    if word in ("same", "valid"):
        return word
    return parse_axes(word, "padding", minimum=0)
