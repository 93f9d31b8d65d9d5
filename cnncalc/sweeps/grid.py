"""What a sweep varies, read from its options: the values of each parameter, and the points they make.

Value lists (`--batch`, `--set NAME=...`, and each braced axis of `--input`):

- `1,8,32`: these values; `{1,8,32}` the same (braces are needed inside `--input`, optional elsewhere);
- `128..1024..64`: from 128 to 1024 inclusive (when a step lands on it) in steps of 64; `1..8`: step 1;
- both mixed: `{1,2,4,8..64..8}`. Values keep the order written, repeats included.

`--input 3x{128..1024..64}` gives the channels and one size: for a network of 2 or 3 spatial axes the size is
used for each of them (a square or cubic input, as `--input 3x224` never means otherwise). Each braced axis is a
parameter of its own: `3x{128,256}x{128,256}` is four inputs in a product, two (square) zipped.

A parameter is a list of two or more values; a list of one is a fixed value. Points are the product of the
parameters (the last varies fastest: input axes, then batch, then each --set in the order given), or with
`zip` their values taken together, which needs every parameter to have the same number of values.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from cnncalc.base import limits

Number = int | float

MAX_POINTS = 100_000  # a sweep beyond is a mistake (a step of 1 where 64 was meant), not a question

SPATIAL_AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
SQUARE = "size"  # the parameter of `3x{...}` for a network of 2 or 3 spatial axes


class GridError(ValueError):
    """A sweep option that cannot be read: the message names the option, the hint shows the syntax."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Parameter:
    """One thing a sweep varies: its name (`size`, `H`, `batch`, a spec variable), what a chart calls it,
    and its values."""

    name: str
    label: str
    values: tuple[Number, ...]


@dataclass(frozen=True)
class Point:
    """One configuration: the input shape (one sample, channels first; None: the spec's), the batch (None: the
    spec's), the spec variables set, and the value of each parameter there."""

    shape: tuple[int, ...] | None
    batch: int | None
    variables: tuple[tuple[str, Number], ...]
    values: dict[str, Number] = field(compare=False, hash=False)


@dataclass(frozen=True)
class Grid:
    parameters: tuple[Parameter, ...]
    points: tuple[Point, ...]
    zipped: bool


_RANGE = re.compile(r"^\s*([^.]+(?:\.\d+)?)\s*\.\.\s*([^.]+(?:\.\d+)?)\s*(?:\.\.\s*([^.]+(?:\.\d+)?)\s*)?$")


def parse_values(text: str, option: str, integers: bool) -> list[Number]:
    """The values of a list (`1,8,32`, `{128..1024..64}`, mixed); `integers`: only whole numbers."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    if not body.strip():
        raise GridError(f"{option} {text!r} lists no value", _syntax(option))
    values: list[Number] = []
    for item in body.split(","):
        match = _RANGE.match(item)
        if match:
            values.extend(_range(match.group(1), match.group(2), match.group(3), item.strip(), option, integers))
        else:
            values.append(_number(item, option, integers))
        if len(values) > MAX_POINTS:
            raise GridError(f"{option} {text!r} has more than {MAX_POINTS:,} values", "use a larger step")
    return values


def _syntax(option: str) -> str:
    if option == "--input":
        return "e.g. --input 3x{128..1024..64} (from 128 to 1024 in steps of 64) or --input 3x{224,320}"
    if option == "--batch":
        return "e.g. --batch 1,8,32 or --batch 1..64..8 (from 1 to 64 in steps of 8)"
    return f"e.g. {option}=0.5,0.75,1.0 or {option}=1..4"


def _decimal(text: str, option: str, whole: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise GridError(f"{option}: {whole!r} is not a number or a range", _syntax(option)) from None
    if not value.is_finite():
        raise GridError(f"{option}: {whole!r} is not a finite number", _syntax(option))
    return value


def _plain(value: Decimal, option: str, whole: str, integers: bool) -> Number:
    if value == value.to_integral_value():
        return int(value)
    if integers:
        raise GridError(f"{option}: {whole!r} is not a whole number", _syntax(option))
    return float(value)


def _number(text: str, option: str, integers: bool) -> Number:
    return _plain(_decimal(text, option, text.strip()), option, text.strip(), integers)


def _range(start: str, end: str, step: str | None, whole: str, option: str, integers: bool) -> list[Number]:
    first, last = _decimal(start, option, whole), _decimal(end, option, whole)
    stride = _decimal(step, option, whole) if step is not None else Decimal(1)
    if stride <= 0:
        raise GridError(f"{option}: the step of {whole!r} must be positive", _syntax(option))
    if last < first:
        raise GridError(f"{option}: {whole!r} ends before it starts", "write the smaller value first")
    count = int((last - first) / stride) + 1  # Decimal: 0.5..1.0..0.25 has exactly 3 values
    if count > MAX_POINTS:
        raise GridError(f"{option}: {whole!r} has more than {MAX_POINTS:,} values", "use a larger step")
    # Decimal steps are exact: 0.1 + 0.1 + 0.1 is 0.3, then read as the float 0.3 as a spec would read it.
    return [_plain(first + index * stride, option, whole, integers) for index in range(count)]


def split_axes(text: str) -> list[str]:
    """`3x{128..512..64}x224` -> ['3', '{128..512..64}', '224']: split at x (or X, ×) outside braces."""
    parts: list[str] = []
    depth = 0
    current = ""
    for character in text:
        if character == "{":
            depth += 1
        elif character == "}":
            depth -= 1
            if depth < 0:
                raise GridError(f"--input {text!r} closes a brace it did not open", _syntax("--input"))
        if depth == 0 and character in "xX×":
            parts.append(current)
            current = ""
        else:
            current += character
    if depth:
        raise GridError(f"--input {text!r} leaves a brace open", _syntax("--input"))
    parts.append(current)
    return parts


@dataclass(frozen=True)
class _InputTemplate:
    """`--input` read: per axis of the shape either a fixed size or the name of the parameter that sets it."""

    axes: tuple[int | str, ...]
    parameters: tuple[Parameter, ...]

    def shape(self, values: dict[str, Number]) -> tuple[int, ...]:
        return tuple(int(values[axis]) if isinstance(axis, str) else axis for axis in self.axes)


def _input_template(text: str, spatial_rank: int) -> _InputTemplate:
    """Read `--input` for a network of `spatial_rank` spatial axes."""
    parts = split_axes(text)
    square = len(parts) == 2 and spatial_rank >= 2
    if square:
        names = ("C", SQUARE)
    elif len(parts) - 1 in SPATIAL_AXIS_NAMES:
        names = ("C", *SPATIAL_AXIS_NAMES[len(parts) - 1])
    else:
        raise GridError(
            f"--input {text!r} needs channels and 1 to 3 spatial sizes",
            "e.g. --input 3x{128..1024..64} (a square input) or --input 3x{224,320}x{224,320}",
        )
    axes: list[int | str] = []
    parameters: list[Parameter] = []
    for name, part in zip(names, parts, strict=True):
        values = parse_values(part, "--input", integers=True)
        if any(not 1 <= value <= limits.MAX_DIMENSION for value in values):
            raise GridError(f"--input {text!r}: sizes must be from 1 to {limits.MAX_DIMENSION:,}")
        if len(values) == 1:
            axes.append(int(values[0]))
            continue
        axes.append(name)
        label = {"C": "input channels", SQUARE: "input size"}.get(name, f"input {name}")
        parameters.append(Parameter(name, label, tuple(values)))
    if square:  # the one size, for every spatial axis
        axes = [axes[0], *[axes[1]] * spatial_rank]
    return _InputTemplate(tuple(axes), tuple(parameters))


def build_grid(
    input_text: str | None,
    batch_text: str | None,
    settings: list[tuple[str, str]],
    spatial_rank: int,
    zipped: bool,
) -> Grid:
    """The parameters and points of a sweep: `--input`, `--batch`, `--set NAME=VALUES` as given (`settings`
    in order, names checked by the caller), for a network of `spatial_rank` spatial axes."""
    template = _input_template(input_text, spatial_rank) if input_text is not None else None
    parameters: list[Parameter] = list(template.parameters) if template else []
    fixed: dict[str, Number] = {}
    batch_values = parse_values(batch_text, "--batch", integers=True) if batch_text is not None else None
    if batch_values is not None:
        if any(not 1 <= value <= limits.MAX_DIMENSION for value in batch_values):
            raise GridError(f"--batch {batch_text!r}: a batch is from 1 to {limits.MAX_DIMENSION:,}")
        if len(batch_values) > 1:
            parameters.append(Parameter("batch", "batch", tuple(batch_values)))
        else:
            fixed["batch"] = batch_values[0]
    variable_names: list[str] = []
    for name, text in settings:
        if name in variable_names:
            raise GridError(f"--set {name} is given twice", f"list every value once: --set {name}=1,2,3")
        variable_names.append(name)
        values = parse_values(text, f"--set {name}", integers=False)
        if len(values) > 1:
            parameters.append(Parameter(name, name, tuple(values)))
        else:
            fixed[name] = values[0]
    rows = _combinations(parameters, zipped)
    points = []
    for row in rows:
        values = {parameter.name: value for parameter, value in zip(parameters, row, strict=True)}
        merged = {**fixed, **values}
        points.append(
            Point(
                shape=template.shape(merged) if template else None,
                batch=int(merged["batch"]) if "batch" in merged else None,
                variables=tuple((name, merged[name]) for name in variable_names),
                values=values,
            )
        )
    return Grid(tuple(parameters), tuple(points), zipped)


def _combinations(parameters: list[Parameter], zipped: bool) -> list[tuple[Number, ...]]:
    if not parameters:
        return [()]
    if zipped:
        lengths = {parameter.name: len(parameter.values) for parameter in parameters}
        if len(set(lengths.values())) > 1:
            told = ", ".join(f"{name} {count}" for name, count in lengths.items())
            raise GridError(
                f"--zip needs lists of one length; these have {told} values",
                "give each list as many values, or leave out --zip for every combination",
            )
        return list(zip(*(parameter.values for parameter in parameters), strict=True))
    total = 1
    for parameter in parameters:
        total *= len(parameter.values)
    if total > MAX_POINTS:
        raise GridError(
            f"the sweep has {total:,} points, more than {MAX_POINTS:,}",
            "use larger steps, fewer values, or --zip to take the lists together",
        )
    return list(itertools.product(*(parameter.values for parameter in parameters)))
