"""The README's Python API reference, written from the public names' signatures and docstrings.

    python -m cnncalc.api.reference      # prints it

`tests/test_api.py` checks that the README holds exactly this text between its two markers, and rewrites it
there with `CNNCALC_UPDATE_GOLDEN=1`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import cnncalc

START = "<!-- api-reference: start (written by `python -m cnncalc.api.reference`; do not edit) -->"
END = "<!-- api-reference: end -->"

FUNCTIONS = ("analyze", "summary", "to_spec", "fit", "diff", "sweep")
CLASSES = ("Analysis", "Totals", "Layer", "FieldAxis", "FitResult", "Diff")
ERRORS = ("CnncalcError", "SpecError", "SpecPathError", "UsageError", "ModelImportError", "SpecIssue")
PUBLIC = (*FUNCTIONS, *CLASSES, *ERRORS)

_WIDTH = 100  # a signature longer than this is written one parameter per line


def reference() -> str:
    """The reference as Markdown, between START and END."""
    parts = [START, ""]
    for name in FUNCTIONS:
        parts += _entry(name, _signature(name, getattr(cnncalc, name)))
    for name in CLASSES:
        parts += _entry(name, f"class {name}")
        parts += _methods(getattr(cnncalc, name))
    for name in ERRORS:
        bases = ", ".join(base.__name__ for base in getattr(cnncalc, name).__bases__ if base is not object)
        parts += _entry(name, f"class {name}({bases})" if bases else f"class {name}")
    parts.append(END)
    return "\n".join(parts) + "\n"


def _entry(name: str, signature: str) -> list[str]:
    doc = inspect.getdoc(getattr(cnncalc, name)) or ""
    return [f"### `cnncalc.{name}`", "", "```python", signature, "```", "", doc, ""]


def _methods(cls: type) -> list[str]:
    lines: list[str] = []
    for name, member in vars(cls).items():
        if name.startswith("_") or not callable(member):
            continue
        lines += [f"`{cls.__name__}.{_signature(name, member)}`", "", inspect.getdoc(member) or "", ""]
    return lines


def _signature(name: str, function: Callable[..., Any]) -> str:
    """`name(parameters) -> return`, with the annotations as written (not evaluated)."""
    signature = inspect.signature(function)
    parameters: list[str] = []
    keyword_only = False
    for parameter in signature.parameters.values():
        if parameter.name == "self":
            continue
        if parameter.kind is parameter.KEYWORD_ONLY and not keyword_only:
            parameters.append("*")
            keyword_only = True
        text = parameter.name
        if parameter.annotation is not parameter.empty:
            text += f": {parameter.annotation}"
        if parameter.default is not parameter.empty:
            text += f" = {parameter.default!r}"
        parameters.append(text)
    result = "" if signature.return_annotation is signature.empty else f" -> {signature.return_annotation}"
    one_line = f"{name}({', '.join(parameters)}){result}"
    if len(one_line) <= _WIDTH:
        return one_line
    return f"{name}(\n" + "".join(f"    {text},\n" for text in parameters) + f"){result}"


if __name__ == "__main__":
    print(reference(), end="")
