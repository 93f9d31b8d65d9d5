"""A worked solution: lines of text whose numbers are checked against the engine as they are written.

The explanations restate a formula, substitute the numbers and carry out the arithmetic the way a
candidate would say it aloud. The engine has already computed every result; `Worked.check` compares
each result the text shows with the engine's, so an explanation can never teach a number the engine
disagrees with (a mismatch is a bug in cnncalc and raises).
"""

from __future__ import annotations

from fractions import Fraction

Number = int | Fraction


class ExplanationMismatch(RuntimeError):
    """An explanation computed a different number than the engine: a bug in cnncalc, never a user error."""


def num(value: Number) -> str:
    """25557032 -> '25,557,032'; Fraction(3, 2) -> '3/2'."""
    if isinstance(value, Fraction):
        return f"{value.numerator:,}" if value.denominator == 1 else f"{value.numerator:,}/{value.denominator:,}"
    return f"{value:,}"


def product_text(*factors: Number) -> str:
    """'64 × 3 × 7 × 7'."""
    return " × ".join(num(factor) for factor in factors)


def shape_text(shape: tuple[int, ...] | list[int]) -> str:
    return "x".join(str(size) for size in shape)


class Worked:
    """Lines of a worked solution, built step by step."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, text: str = "", indent: int = 0) -> None:
        self.lines.append("  " * indent + text if text else "")

    def check(self, what: str, shown: object, engine: object) -> None:
        """Refuse to show `shown` as the value of `what` unless the engine computed the same."""
        if shown != engine:
            raise ExplanationMismatch(f"explanation of {what} gives {shown!r}, the engine {engine!r}")

    def extend(self, other: Worked, indent: int = 0) -> None:
        self.lines.extend(("  " * indent + line) if line else "" for line in other.lines)

    def text(self) -> str:
        return "\n".join(self.lines)


def group_axes(names: tuple[str, ...], items: list[object]) -> list[tuple[str, int]]:
    """Axes that behave identically are explained once: [('H, W', 0)] or [('H', 0), ('W', 1)].

    Returns (label, index of the first axis of the group) pairs, in axis order.
    """
    groups: list[tuple[list[str], int]] = []
    for index, (name, item) in enumerate(zip(names, items, strict=True)):
        for members, first in groups:
            if items[first] == item:
                members.append(name)
                break
        else:
            groups.append(([name], index))
    return [(", ".join(members), first) for members, first in groups]
