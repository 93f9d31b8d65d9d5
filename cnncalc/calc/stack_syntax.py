"""The inline stack syntax of `cnncalc calc stack`: a short network written on one line.

    conv3, conv3, pool2/2, conv3 d2          three 3x3 convs and a 2x2/2 max-pool, the last conv dilated

Layers are separated by commas (or semicolons, newlines, '->' or '→'). Each layer is a name, optionally
followed directly by its kernel and stride (`conv7/2`, `conv1x7`, `pool3/2`), then options in any order:

    s2  stride 2       p1  padding 1 (also `same`, `valid`)      d2  dilation 2 (`dilated 2` works too)
    c64 64 output channels (default: keep the channels)          g32 32 groups
    op1 output_padding 1 (transposed conv)                        ceil  ceil_mode (pooling)
    nobias             x4  repeat the layer 4 times

Long forms are accepted too: `stride 2`, `stride=2`, `padding 1`, `dilation 2`, `out 64`, `groups 32`.
Defaults follow PyTorch: stride 1 (pooling: stride = kernel), padding 0, dilation 1, bias on.
A value no layer can take (a stride of 0, `fc0`, a size above 2,147,483,647) is a StackSyntaxError, like a
misspelt name: the command line reports both as usage errors (exit 2), before the engine runs.

Names: conv, dw (depthwise), pw (pointwise 1x1), sep (separable), tconv (transposed conv), pool or
maxpool, avgpool, gap (global average pool), flatten, fc/linear (`fc1000`: 1000 outputs), bn, and any
activation (relu, gelu, silu, ...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cnncalc.base.limits import MAX_DIMENSION, MAX_SPATIAL_AXES
from cnncalc.kinds import COMPOSITES, REGISTRY, LayerSchema

# The syntax's reference, shown by `cnncalc calc stack --help` (and restated in the README): (example, meaning).
HELP_ROWS = (
    ("conv3", "3x3 convolution, stride 1, padding 0 (PyTorch's defaults)"),
    ("conv7/2 p3 c64", "7x7, stride 2, padding 3, 64 output channels"),
    ("conv3 d2", "3x3 dilated by 2 (also: conv3 dilated 2, conv3 dilation=2)"),
    ("conv1x7 p0x3", "per-axis kernel and padding (H x W)"),
    ("pool2/2", "2x2 max-pool, stride 2"),
    ("pool3/2 p1 ceil", "3x3 max-pool, stride 2, padding 1, ceil_mode"),
    ("avgpool2", "2x2 average pool (stride = kernel by default)"),
    ("dw3 s2, pw64", "depthwise 3x3 stride 2; pointwise 1x1 to 64 channels"),
    ("sep3 c128", "depthwise-separable 3x3 to 128 channels"),
    ("tconv4/2 p1 op1", "transposed conv 4x4, stride 2, padding 1, output_padding 1"),
    ("bn, relu, gap", "batchnorm, any activation, global average pool"),
    ("flatten, fc10", "flatten, linear layer with 10 outputs"),
    ("conv3 x4", "the same layer 4 times"),
)
OPTIONS_HELP = (
    "Options: sN stride, pN padding (or same, valid), dN dilation, cN channels, gN groups, "
    "opN output_padding, ceil (ceil_mode), nobias, xN repeat."
)


def help_table(indent: str = "") -> str:
    """HELP_ROWS as aligned lines, one per row."""
    width = max(len(example) for example, _ in HELP_ROWS) + 2
    return "\n".join(f"{indent}{example:<{width}}{meaning}" for example, meaning in HELP_ROWS)


_SEPARATORS = re.compile(r",|;|\n|->|→")
_HEAD = re.compile(r"^(?P<name>[a-z_]+?)(?P<kernel>\d+(?:x\d+)*)?(?:/(?P<stride>\d+(?:x\d+)*))?$")
_COMPACT = re.compile(r"^(?P<key>op|s|p|d|c|g|k|m)(?P<value>\d+(?:x\d+)*)$")
_REPEAT = re.compile(r"^[x×*](?P<count>\d+)$")
_NUMBER = re.compile(r"^\d+(?:x\d+)*$")

# Option letters and the field each sets, where the kind has that field (its schema says).
_LETTER_FIELDS = {
    "k": "kernel",
    "s": "stride",
    "p": "padding",
    "d": "dilation",
    "c": "out",
    "g": "groups",
    "op": "output_padding",
    "m": "multiplier",
}
_LONG_OPTIONS = {
    "stride": "s",
    "padding": "p",
    "pad": "p",
    "dilation": "d",
    "dilated": "d",
    "dil": "d",
    "out": "c",
    "channels": "c",
    "groups": "g",
    "kernel": "k",
    "output_padding": "op",
    "multiplier": "m",
}


def _names() -> dict[str, str]:
    """Every name the syntax reads, and the kind it stands for: each kind's own name and its aliases (from the
    kinds' records, so a new kind can be written by its name at once)."""
    names: dict[str, str] = {}
    for name, kind in [*REGISTRY.items(), *COMPOSITES.items()]:
        names[name] = name
        for alias in kind.aliases:
            names.setdefault(alias, name)
    return names


def _schema(kind: str) -> type[LayerSchema]:
    return REGISTRY[kind].schema if kind in REGISTRY else COMPOSITES[kind].schema


def _fields(kind: str) -> dict[str, str]:
    """Option letter -> field, for the fields `kind` has. A kind with an output size but no kernel reads the
    number after its name as that size (`fc1000`, `pw64`)."""
    fields = _schema(kind).model_fields
    letters = {letter: field for letter, field in _LETTER_FIELDS.items() if field in fields}
    if "kernel" not in fields and "out" in fields:
        letters["k"] = "out"
    return letters


def _required(kind: str, field: str) -> bool:
    info = _schema(kind).model_fields.get(field)
    return info is not None and info.is_required()


_LETTER_NAMES = {
    "k": "kernel",
    "s": "stride",
    "p": "padding",
    "d": "dilation",
    "c": "channels",
    "g": "groups",
    "op": "output_padding",
    "m": "multiplier",
}
MAX_LAYERS = 1000
# The smallest value of each field (PyTorch refuses less); every value is at most MAX_DIMENSION.
_MINIMUM = {
    "kernel": 1,
    "stride": 1,
    "padding": 0,
    "dilation": 1,
    "out": 1,
    "groups": 1,
    "output_padding": 0,
    "multiplier": 1,
}
_SCALAR_FIELDS = frozenset({"out", "groups", "multiplier"})  # one number, never one per axis
_MAX_DIGITS = len(str(MAX_DIMENSION))
_SHOWN_CHARS = 40


class StackSyntaxError(ValueError):
    """A stack the parser cannot read; the message names the layer and the word at fault.

    problems: every problem found, each a StackSyntaxError naming its layer (just this one when there is one):
    the parser reads on past a bad layer, so that one run shows them all.
    """

    def __init__(self, message: str, hint: str = "", problems: Sequence[StackSyntaxError] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.problems: tuple[StackSyntaxError, ...] = tuple(problems) or (self,)


@dataclass(frozen=True)
class StackLayer:
    """One layer of a parsed stack: the text it came from and the spec entry it stands for.

    text:     its label in tables ('conv3 x2 (1/2)' for a copy of a repeated layer)
    position: where it is in the stack as written (1-based, counting the layers between separators)
    written:  the layer as written ('conv3 x2')
    copy:     which copy of a repeated layer it is (1 to copies)
    """

    text: str
    entry: dict[str, Any] = field(hash=False)
    position: int = 0
    written: str = ""
    copy: int = 1
    copies: int = 1

    @property
    def name(self) -> str:
        """How messages name it: 'layer 2 "fc10"', or 'layer 1 "conv3 x2" (copy 2 of 2)'."""
        copy = f" (copy {self.copy} of {self.copies})" if self.copies > 1 else ""
        return layer_name(self.position, self.written or self.text) + copy


def parse_stack(text: str) -> list[StackLayer]:
    """Parse the inline stack syntax into spec entries (repeats expanded), in order.

    Raises StackSyntaxError listing, in its `problems`, every layer that cannot be read, not just the first.
    """
    layers: list[StackLayer] = []
    problems: list[StackSyntaxError] = []
    items = [item.strip() for item in _SEPARATORS.split(text)]
    if not any(items):
        raise StackSyntaxError("the stack is empty", 'write layers separated by commas, e.g. "conv3, conv3, pool2/2"')
    for position, item in enumerate(items, start=1):
        if not item:
            continue
        try:
            entry, repeat = _parse_item(item.lower(), position, item)
        except StackSyntaxError as problem:
            problems.append(problem)
            continue
        for copy in range(repeat):
            label = item if repeat == 1 else f"{item} ({copy + 1}/{repeat})"
            layers.append(StackLayer(label, dict(entry), position, item, copy + 1, repeat))
        if len(layers) > MAX_LAYERS:
            problems.append(
                StackSyntaxError(f"the stack has more than {MAX_LAYERS} layers", "use a YAML spec for big networks")
            )
            break  # the layers after it would only repeat this problem
    if len(problems) == 1:
        raise problems[0]
    if problems:
        listed = "; ".join(problem.message for problem in problems[:3])
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise StackSyntaxError(f"{len(problems)} problems: {listed}{more}", problems=problems)
    return layers


def layer_name(position: int, text: str) -> str:
    """How messages name a layer: 'layer 2 "fc0"' (1-based position, the text as written, cut short)."""
    text = text.strip()
    if len(text) > _SHOWN_CHARS:
        text = f"{text[: _SHOWN_CHARS - 10]}…{text[-9:]}"
    return f'layer {position} "{text}"'


def _parse_item(item: str, position: int, original: str) -> tuple[dict[str, Any], int]:
    where = layer_name(position, original)
    tokens = item.replace("=", " ").split()
    values: dict[str, str] = {}
    flags: set[str] = set()
    if tokens[0] in _names():  # whole-word names first: relu6 is not relu + 6, conv3d is not conv + 3d
        name = tokens[0]
    else:
        head = _HEAD.match(tokens[0])
        if head is None:
            hint = "start with a name such as conv3, pool2/2, relu"
            raise StackSyntaxError(f"{where}: cannot read {_short(tokens[0])!r}", hint)
        name = head["name"]
        if head["kernel"]:
            values["k"] = head["kernel"]
        if head["stride"]:
            values["s"] = head["stride"]
    kind = _names().get(name)
    if kind is None:
        raise StackSyntaxError(f"{where}: unknown layer name {_short(name)!r}", _name_hint(name))
    repeat = 1
    index = 1
    while index < len(tokens):
        token = tokens[index]
        index += 1
        compact = _COMPACT.match(token)
        repeat_match = _REPEAT.match(token)
        if repeat_match:
            count = repeat_match["count"]
            repeat = int(count) if len(count) <= len(str(MAX_LAYERS)) else MAX_LAYERS + 1
            if not 1 <= repeat <= MAX_LAYERS:
                raise StackSyntaxError(
                    f"{where}: repeat count {_short(count)} is out of range (1 to {MAX_LAYERS})",
                    "use a YAML spec for big networks" if repeat > MAX_LAYERS else "",
                )
        elif compact:
            values[compact["key"]] = compact["value"]
        elif token in _LONG_OPTIONS:
            if index >= len(tokens) or not (_NUMBER.match(tokens[index]) or tokens[index] in ("same", "valid")):
                raise StackSyntaxError(f"{where}: {token!r} needs a number after it", f"e.g. {token} 2")
            values[_LONG_OPTIONS[token]] = tokens[index]
            index += 1
        elif token in ("same", "valid"):
            values["p"] = token
        elif token in ("ceil", "ceil_mode"):
            flags.add("ceil")
        elif token in ("nobias", "no_bias", "no-bias"):
            flags.add("nobias")
        else:
            raise StackSyntaxError(f"{where}: unknown option {_short(token)!r}", _option_hint(kind))
    return _entry(kind, values, flags, where), repeat


def _entry(kind: str, values: dict[str, str], flags: set[str], where: str) -> dict[str, Any]:
    allowed = _fields(kind)
    for key in values:
        if key not in allowed:
            raise StackSyntaxError(
                f"{where}: {kind} takes no {_LETTER_NAMES[key]}", _option_hint(kind) or f"{kind} has no options"
            )
    entry: dict[str, Any] = {"type": kind}
    for key, value in values.items():
        entry[allowed[key]] = _value(value, allowed[key], where)
    fields = _schema(kind).model_fields
    if "ceil" in flags:
        if "ceil_mode" not in fields:
            raise StackSyntaxError(f"{where}: ceil (ceil_mode) applies to pooling only")
        entry["ceil_mode"] = True
    if "nobias" in flags:
        if "bias" not in fields:
            raise StackSyntaxError(f"{where}: {kind} has no bias")
        entry["bias"] = False
    if _required(kind, "kernel") and "kernel" not in entry:
        raise StackSyntaxError(f"{where}: {kind} needs a kernel size", f"e.g. {_example(kind)}")
    if _required(kind, "out") and "out" not in entry:
        if "kernel" not in fields:  # the number after the name is the size: fc1000, pw64
            raise StackSyntaxError(f"{where}: {kind} needs its output size", f"e.g. {_example(kind)}")
        entry["out"] = "in_channels"  # an engine expression: a conv keeps the channel count of its input
    missing = [name for name, info in fields.items() if info.is_required() and name not in entry]
    if missing:
        raise StackSyntaxError(
            f"{where}: {kind} needs {', '.join(missing)}, which the stack syntax cannot give",
            "write this layer in a YAML spec",
        )
    return entry


def _value(text: str, name: str, where: str) -> int | str | list[int]:
    """'3' -> 3, '1x7' -> [1, 7] (one per axis), 'same'/'valid' unchanged; out-of-range values are refused here,
    as usage errors, before any engine sees them: a stride of 0, 'fc0', a number no tensor axis can have."""
    if text in ("same", "valid"):
        if name != "padding":
            raise StackSyntaxError(f"{where}: {name} cannot be {text!r}")
        return text
    parts = text.split("x")
    if len(parts) > 1 and name in _SCALAR_FIELDS:
        raise StackSyntaxError(f"{where}: {name} takes one number, not {_short(text)!r}")
    if len(parts) > MAX_SPATIAL_AXES:
        raise StackSyntaxError(f"{where}: {name} {_short(text)!r} has more than {MAX_SPATIAL_AXES} axes")
    minimum = _MINIMUM.get(name, 0)
    values = []
    for part in parts:
        value = int(part) if len(part) <= _MAX_DIGITS else MAX_DIMENSION + 1  # a 5,000-digit int() is an error
        if value > MAX_DIMENSION:
            raise StackSyntaxError(f"{where}: {name} {_short(part)} is too large (at most {MAX_DIMENSION:,})")
        if value < minimum:
            raise StackSyntaxError(f"{where}: {name} should be ≥ {minimum}")
        values.append(value)
    return values[0] if len(values) == 1 else values


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else f"{text[: _SHOWN_CHARS - 10]}…{text[-9:]} ({len(text):,} characters)"


def _example(kind: str) -> str:
    """The shortest way to write the kind, with a size: conv3, dw3, fc10, pw64."""
    record = REGISTRY.get(kind) or COMPOSITES[kind]
    name = min((kind, *record.aliases), key=len)
    return f"{name}{64 if 'kernel' not in _schema(kind).model_fields else 3}"


def _option_hint(kind: str) -> str:
    letters = _fields(kind)
    if not letters:
        return ""
    options = ", ".join(f"{letter}N ({_LETTER_NAMES[letter]})" for letter in letters if letter != "k")
    return f"{kind} takes {options}; see `cnncalc calc stack --help`"


def _name_hint(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(_names()), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "names: conv, dw, pw, sep, tconv, pool, avgpool, gap, flatten, fc, bn, relu, ..."


def labels_by_row(layers: list[StackLayer], paths: list[str]) -> dict[int, str]:
    """Row index -> the stack text it came from ('sep3 c128 [pointwise]' for the rows of a composite)."""
    labels: dict[int, str] = {}
    for row_index, path in enumerate(paths):
        top, _, inner = path.partition(".")
        text = layers[int(top)].text if top.isdigit() and int(top) < len(layers) else path
        labels[row_index] = f"{text} [{inner}]" if inner else text
    return labels
