"""Safe arithmetic expressions for spec values: `mid * 4`, `make_divisible(32 * width, 8)`, `2 if index == 0 else 1`.

The text is parsed with Python's `ast` module and then walked by this evaluator, which knows only numbers,
variable names, arithmetic, comparisons, `and`/`or`/`not`, `x if c else y`, lists (`[1, 7]`, indexed and
sliced: `kernel[0]`, `shape(layer1)[2:]`), `none` (an optional block argument that was not given), a few
whitelisted functions, and `shape(NAME)` / `spatial(NAME)`: the output shape of an earlier layer, read through
a lookup the caller gives (the engine resolves NAME as `from:` does). Nothing is ever passed to `eval`;
attribute access, lambdas and every other construct are refused.
Length, syntax-tree size, list length and integer magnitude are bounded (see `cnncalc.base.limits`).
"""

from __future__ import annotations

import ast
import difflib
import functools
import math
import operator
import re
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from cnncalc.base import limits

Number = int | float | bool
# What an expression gives: a number, a list of values (kept as a tuple: values are never modified) or none.
Value = Any

SHAPE_FUNCTIONS = ("shape", "spatial")  # read an earlier layer's output: shape(layer1), spatial(input)
NONE_NAME = "none"  # an optional block argument that was not given


class ExpressionError(ValueError):
    """An expression that cannot be evaluated; the message says why, the hint (if any) how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class ShapeUnknown(ExpressionError):
    """`shape(NAME)` of a layer that exists but has no known shape (no valid input, or it failed upstream):
    the value is unknown, not wrong, and the caller skips it quietly as it skips `in_channels` then."""


class LayerShapes(Protocol):
    """Where `shape(NAME)` and `spatial(NAME)` find a layer's output (the engine's scope of the expression).

    Each method raises ExpressionError for a name that is not there (with a hint), ShapeUnknown for one
    whose shape is not known."""

    def shape(self, reference: str) -> tuple[int, ...]: ...

    def spatial(self, reference: str) -> tuple[int, ...]: ...


def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """Round `value` to the nearest multiple of `divisor`, never going down by more than 10%.

    The rounding MobileNet and EfficientNet use for channel counts (torchvision's `_make_divisible`).
    """
    if divisor <= 0:
        raise ExpressionError("make_divisible: divisor must be positive")
    floor_value = divisor if min_value is None else min_value
    rounded = max(floor_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def _checked_int(value: float) -> int:
    if not math.isfinite(value):
        raise ExpressionError("the result is not a finite number")
    return int(value)


_MAX_ROUND_DIGITS = 64


def _round(value: Number, digits: Number | None = None) -> Number:
    if digits is None:
        return round(value)
    # round(5, -10**18) would compute 10**(10**18): bound the digits (no spec needs more than a few).
    if not isinstance(digits, int) or isinstance(digits, bool) or abs(digits) > _MAX_ROUND_DIGITS:
        limit = _MAX_ROUND_DIGITS
        raise ExpressionError(f"round(): digits must be a whole number from -{limit} to {limit}")
    return round(value, digits)


FUNCTIONS: dict[str, Callable[..., Number]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "int": _checked_int,
    "float": float,
    "round": _round,
    "floor": lambda value: math.floor(value),
    "ceil": lambda value: math.ceil(value),
    "sqrt": lambda value: math.sqrt(value),
    "make_divisible": make_divisible,
    "len": len,
}

_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Number, Number], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_OPERATOR_SYMBOLS: dict[type[ast.AST], str] = {
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.MatMult: "@",
    ast.Invert: "~",
}
_ALLOWED_NODES = (
    ast.Expression,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.List,
    ast.Tuple,
    ast.Subscript,
    ast.Slice,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
)


def evaluate(text: str, variables: Mapping[str, Value], shapes: LayerShapes | None = None) -> Value:
    """Evaluate `text` with `variables` in scope, and `shapes` to read layers' shapes (where there are layers);
    raise ExpressionError with a readable reason on failure."""
    tree = checked_tree(text)
    try:
        return _Evaluator(variables, shapes).visit(tree.body)
    except ExpressionError as error:
        if not error.hint:
            error.hint = _yaml_hint(text)
        raise


@functools.lru_cache(maxsize=4096)
def checked_tree(text: str) -> ast.Expression:
    """The syntax tree of an expression, checked once against the allowed constructs.

    Cached by text: a block repeated thousands of times evaluates the same few expressions with new
    variables, and parsing is most of the cost of an evaluation. A refused text raises the same error each
    time (errors are not cached, but they end the analysis anyway). The trees are never modified.
    """
    if len(text) > limits.MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression is longer than {limits.MAX_EXPRESSION_CHARS} characters")
    try:
        tree = _parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExpressionError(f"{text!r} is not a valid expression", _yaml_hint(text)) from None
    nodes = list(ast.walk(tree))
    if len(nodes) > limits.MAX_EXPRESSION_NODES:
        raise ExpressionError(f"expression has more than {limits.MAX_EXPRESSION_NODES} parts")
    for node in nodes:
        if type(node) in _OPERATOR_SYMBOLS:
            raise ExpressionError(
                f"operator {_OPERATOR_SYMBOLS[type(node)]} is not allowed in expressions",
            )
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(f"{type(node).__name__.lower()} is not allowed in expressions")
    return tree


def _reference_arguments(tree: ast.AST) -> list[ast.expr]:
    """The NAME arguments of the shape(NAME) and spatial(NAME) calls in a tree."""
    return [
        argument
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SHAPE_FUNCTIONS
        for argument in node.args
    ]


def reference_text(node: ast.AST) -> str | None:
    """The layer name a shape() argument spells (`_parse` quotes a bare one); None when it spells none."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
        return node.value
    return None


# shape(NAME) with NAME as `from:` writes it (`layer1.0.conv1`, `block1-0`, `group.input`): not Python, so the
# name is quoted before parsing, and reaches the evaluator as text.
_BARE_REFERENCE = re.compile(r"\b(shape|spatial)(\s*\(\s*)([A-Za-z0-9_][A-Za-z0-9_.\-]*)(\s*\))")


def _parse(text: str) -> ast.Expression:
    # Python warns on stderr about oddities such as `0else` ("invalid decimal literal"): not for spec authors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(_BARE_REFERENCE.sub(r"\1\2'\3'\4", text.strip()), mode="eval")


_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+")
_YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}


def _yaml_hint(text: str) -> str:
    """How to fix an expression that is really a YAML value read differently than its author expected."""
    stripped = text.strip()
    if _SEXAGESIMAL.fullmatch(stripped):
        return (
            f"YAML 1.1 reads {stripped} as a base-60 number; cnncalc reads YAML 1.2, where it is text: "
            "write the number itself"
        )
    if _LEADING_ZERO.fullmatch(stripped):
        return "a leading zero is read as octal by YAML 1.1 and as decimal by YAML 1.2; write it without the zero"
    if stripped.lower() in _YAML11_BOOLEANS:
        return f"{stripped} is true or false in YAML 1.1 but text in YAML 1.2: write true or false"
    if stripped.count("(") > stripped.count(")"):
        return "inside `{...}` and `[...]` an unquoted expression ends at its first comma: quote the expression"
    return ""


def names_in(text: str) -> set[str]:
    """Variable names an expression mentions (not the layer names of shape(NAME)); empty if it is not a valid
    expression."""
    try:
        tree = checked_tree(text)
    except ExpressionError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} - set(FUNCTIONS) - set(SHAPE_FUNCTIONS)


@functools.lru_cache(maxsize=4096)
def shape_references(text: str) -> frozenset[str]:
    """The layer names an expression reads the shape of (`shape(layer1)` -> layer1); empty if it is not a
    valid expression."""
    try:
        tree = checked_tree(text)
    except ExpressionError:
        return frozenset()
    return frozenset(name for argument in _reference_arguments(tree) if (name := reference_text(argument)) is not None)


def describe(value: Value) -> str:
    """A value as a message shows it: `[1, 7]`, `none`, `3`."""
    if value is None:
        return NONE_NAME
    if isinstance(value, tuple | list):
        return "[" + ", ".join(describe(item) for item in value) + "]"
    return repr(value)


def as_field_value(value: Value) -> Any:
    """A value as a layer's field takes it: lists as lists (the schema's type), the rest as it is."""
    if isinstance(value, tuple | list):
        return [as_field_value(item) for item in value]
    return value


class _Evaluator:
    def __init__(self, variables: Mapping[str, Value], shapes: LayerShapes | None = None) -> None:
        self.variables = variables
        self.shapes = shapes

    def visit(self, node: ast.AST) -> Value:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:  # pragma: no cover - _ALLOWED_NODES guards this
            raise ExpressionError(f"{type(node).__name__} is not allowed in expressions")
        return _bounded(method(node))

    def visit_Constant(self, node: ast.Constant) -> Value:
        if node.value is None or isinstance(node.value, bool | int | float):
            return node.value
        if isinstance(node.value, str):
            raise ExpressionError(
                f"{node.value!r} is not a number", "quoted text names a layer only inside shape() and spatial()"
            )
        raise ExpressionError(f"{node.value!r} is not a number")

    def visit_List(self, node: ast.List) -> Value:
        if len(node.elts) > limits.MAX_LIST_LENGTH:
            raise ExpressionError(f"a list holds at most {limits.MAX_LIST_LENGTH} items")
        return tuple(self.visit(item) for item in node.elts)

    def visit_Tuple(self, node: ast.Tuple) -> Value:
        return self.visit_List(node)  # type: ignore[arg-type]  # (1, 7) is the list [1, 7]

    def visit_Subscript(self, node: ast.Subscript) -> Value:
        sequence = self.visit(node.value)
        if not isinstance(sequence, tuple):
            raise ExpressionError(f"only lists can be indexed, not {describe(sequence)}")
        if isinstance(node.slice, ast.Slice):
            bounds = [None if part is None else self._whole(self.visit(part), "a slice bound") for part in
                      (node.slice.lower, node.slice.upper, node.slice.step)]  # fmt: skip
            if bounds[2] == 0:
                raise ExpressionError("a slice step cannot be zero")
            return sequence[slice(*bounds)]
        position = self._whole(self.visit(node.slice), "an index")
        if not -len(sequence) <= position < len(sequence):
            raise ExpressionError(
                f"index {position} is out of range for {describe(sequence)} ({len(sequence)} items)",
                "indexes count from 0; negative ones from the end (-1 is the last item)",
            )
        return sequence[position]

    @staticmethod
    def _whole(value: Value, what: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ExpressionError(f"{what} must be a whole number, not {describe(value)}")
        return value

    def visit_Attribute(self, node: ast.Attribute) -> Value:  # pragma: no cover - checked_tree refuses it
        raise ExpressionError("attribute access is not allowed in expressions")

    def visit_Name(self, node: ast.Name) -> Value:
        if node.id in ("True", "False"):
            return node.id == "True"
        if node.id == NONE_NAME:
            return None
        if node.id not in self.variables:
            close = difflib.get_close_matches(node.id, sorted(self.variables), n=1, cutoff=0.6)
            if close:
                raise ExpressionError(f"unknown variable {node.id!r} (did you mean {close[0]!r}?)")
            known = ", ".join(sorted(self.variables)) or "none"
            raise ExpressionError(f"unknown variable {node.id!r} (known here: {known})")
        return self.variables[node.id]

    def visit_BinOp(self, node: ast.BinOp) -> Value:
        left = self.visit(node.left)
        right = self.visit(node.right)
        for operand in (left, right):
            if operand is None or isinstance(operand, tuple):
                raise ExpressionError(
                    f"cannot apply {type(node.op).__name__.lower()} to {describe(operand)}",
                    "arithmetic takes numbers: pick an item of a list (`kernel[0]`); test for none with "
                    "`x if x != none else default`",
                )
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 2**32):
            raise ExpressionError("power is too large")
        try:
            return _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise ExpressionError("division by zero") from None
        except OverflowError:
            raise ExpressionError("the result is out of range") from None
        except (TypeError, KeyError):
            raise ExpressionError(f"cannot apply {type(node.op).__name__.lower()} to {left!r} and {right!r}") from None

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Value:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        if value is None or isinstance(value, tuple):
            raise ExpressionError(f"cannot negate {describe(value)}")
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return +value
        raise ExpressionError("operator ~ is not allowed in expressions")

    def visit_BoolOp(self, node: ast.BoolOp) -> Number:
        if isinstance(node.op, ast.And):
            result: Number = True
            for value_node in node.values:
                result = self.visit(value_node)
                if not result:
                    return result
            return result
        result = False
        for value_node in node.values:
            result = self.visit(value_node)
            if result:
                return result
        return result

    def visit_Compare(self, node: ast.Compare) -> Number:
        left = self.visit(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if type(op) not in _COMPARE:
                raise ExpressionError("only ==, !=, <, <=, >, >= comparisons are allowed")
            right = self.visit(right_node)
            try:
                holds = _COMPARE[type(op)](left, right)
            except TypeError:
                raise ExpressionError(f"cannot compare {describe(left)} and {describe(right)}") from None
            if not holds:
                return False
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Number:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def visit_Call(self, node: ast.Call) -> Value:
        if not isinstance(node.func, ast.Name) or node.func.id not in (*FUNCTIONS, *SHAPE_FUNCTIONS):
            allowed = ", ".join(sorted((*FUNCTIONS, *SHAPE_FUNCTIONS)))
            raise ExpressionError(f"only these functions can be called: {allowed}")
        if node.keywords:
            raise ExpressionError(f"{node.func.id}() takes positional arguments only")
        if node.func.id in SHAPE_FUNCTIONS:
            return self._layer_shape(node.func.id, node.args)
        arguments = [self.visit(argument) for argument in node.args]
        if node.func.id != "len" and any(argument is None for argument in arguments):
            raise ExpressionError(f"{node.func.id}() takes numbers, not none")
        try:
            return FUNCTIONS[node.func.id](*arguments)
        except ExpressionError:
            raise
        except (TypeError, ValueError, OverflowError) as error:
            raise ExpressionError(f"{node.func.id}(): {error}") from None

    def _layer_shape(self, function: str, arguments: list[ast.expr]) -> tuple[int, ...]:
        example = f"{function}(input) or {function}(layer1.0.conv1)"
        reference = reference_text(arguments[0]) if len(arguments) == 1 else None
        if reference is None:
            raise ExpressionError(f"{function}() takes the name of one earlier layer", f"e.g. {example}")
        if self.shapes is None:
            raise ExpressionError(
                f"{function}({reference}) reads a layer's output, and there are no layers here",
                "use it in a layer's fields, `when`, `repeat`, a block use's `args` or a block's `vars`",
            )
        return self.shapes.shape(reference) if function == "shape" else self.shapes.spatial(reference)


def _bounded(value: Value) -> Value:
    if type(value) is int and -limits.MAX_INTEGER <= value <= limits.MAX_INTEGER:
        return value  # the common case, checked first: this runs for every node of every evaluation
    if value is None:
        return value
    if isinstance(value, tuple):
        if len(value) > limits.MAX_LIST_LENGTH:
            raise ExpressionError(f"a list holds at most {limits.MAX_LIST_LENGTH} items")
        return value  # its items were bounded when they were made
    if not isinstance(value, bool | int | float):  # (-8) ** 0.5 is a complex number
        raise ExpressionError("the result is not a real number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExpressionError("the result is not a finite number")
        if abs(value) > limits.MAX_INTEGER:
            raise ExpressionError("the result is too large for any real network")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > limits.MAX_INTEGER:
        raise ExpressionError("the result is too large for any real network")
    return value
