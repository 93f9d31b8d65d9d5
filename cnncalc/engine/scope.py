"""Names in an expanded spec: scopes, what a reference such as `from: layer1.2.conv3` points at.

Each block use gets its own scope (global `vars`, the block's `args` and `vars`, `index`, `in_channels` and
`in_features` of its first input; its inputs named by its `inputs:`). An inline group sees the names of the
scope around it. Dotted references reach inside groups and blocks; a repeated entry's name refers to its last
instance.

`input` is the input of the block around a reference (the network's input outside every block), also inside
an inline group; `group.input` is the input of the innermost inline group around it. The same lookup serves
`shape(NAME)` and `spatial(NAME)` in expressions (`ScopeShapes`), which may read only layers that have run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnncalc.base.errors import Location
from cnncalc.base.tensor import Tensor
from cnncalc.engine.issues import IssueLog
from cnncalc.language.expressions import ExpressionError, ShapeUnknown
from cnncalc.language.pydantic_errors import did_you_mean

NETWORK_INPUT = -1  # node reference of the network input

Ref = int | None  # a node index, NETWORK_INPUT, or None: failed upstream, its shape unknown (fields still checked)

GROUP_INPUT = "group.input"  # inside an inline group: the group's own input (`input` is the block's)


@dataclass
class Scope:
    """Names visible to a group of entries and where their outputs are."""

    prefix: str
    variables: dict[str, Any]
    parent: Scope | None = None  # set for inline groups: lookups fall through to the enclosing scope
    names: dict[str, Ref | Scope] = field(default_factory=dict)
    output: Ref = None
    frozen: bool = False  # a frozen block or group freezes every layer inside it
    is_group: bool = False  # an inline group (`layers:`): `group.input` is its input
    group_input: Ref = None
    # names of the entries of this scope's list that have not run yet: a shape() that reads one is told so
    pending: set[str] = field(default_factory=set)

    def child_path(self, component: str) -> str:
        return f"{self.prefix}.{component}" if self.prefix else component

    def register(self, component: str, value: Ref | Scope) -> None:
        self.names[component] = value
        self.pending.discard(component)
        self.output = value.output if isinstance(value, Scope) else value

    def enclosing_group(self) -> Scope | None:
        """The innermost inline group this scope is, or is inside of (within its block)."""
        current: Scope | None = self
        while current is not None:
            if current.is_group:
                return current
            current = current.parent
        return None

    def input_meaning(self) -> str:
        """What `input` is here, in words."""
        current: Scope | None = self
        while current.parent is not None:
            current = current.parent
        return "the network's input" if current.prefix == "" else f"the input of block use {current.prefix}"

    def visible_names(self) -> set[str]:
        names: set[str] = set()
        current: Scope | None = self
        while current is not None:
            names.update(current.names)
            current = current.parent
        return names


class ReferenceProblem(Exception):
    """A name that refers to nothing: the message says why, the hint what is there."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def resolve(reference: Any, scope: Scope, location: Location, log: IssueLog) -> tuple[Ref, bool]:
    """Find what a `from:` name refers to; returns (ref, found), reporting a name that is not there."""
    if not isinstance(reference, str) or not reference:
        log.error(location, f"`from` must name an earlier layer, got {reference!r}")
        return None, False
    try:
        return find(reference, scope), True
    except ReferenceProblem as problem:
        log.error(location, problem.message, problem.hint)
        return None, False


def find(reference: str, scope: Scope, shape_reading: bool = False) -> Ref:
    """What a name refers to (a node, the network input, or None when it failed upstream); ReferenceProblem
    when it refers to nothing. `shape_reading`: for shape(NAME), which also names entries not run yet."""
    if reference == GROUP_INPUT:
        group = scope.enclosing_group()
        if group is not None:
            return group.group_input
        if "group" not in scope.visible_names():  # else an entry named `group`, looked up as usual
            raise ReferenceProblem(
                "`group.input` names the input of the group around it, and there is no group here",
                f"`input` is {scope.input_meaning()} here",
            )
    head, *rest = reference.split(".")
    current: Scope | None = scope
    target: Ref | Scope | None = None
    found = False
    while current is not None:
        if head in current.names:
            target, found = current.names[head], True
            break
        if shape_reading and head in current.pending:
            raise ReferenceProblem(
                f"{head!r} has not run yet here",
                "a shape can be read only from a layer that has run: entries run after what they read with "
                "`from:` and shape(), and a block's argument defaults and `vars` before its layers",
            )
        current = current.parent
    if not found:
        visible = scope.visible_names()
        raise ReferenceProblem(
            f"unknown reference {reference!r}",
            did_you_mean(head, visible) or f"names visible here: {', '.join(sorted(visible)) or 'none'}",
        )
    for part in rest:
        if not isinstance(target, Scope) or part not in target.names:
            inner = sorted(target.names) if isinstance(target, Scope) else []
            raise ReferenceProblem(
                f"unknown reference {reference!r}: no {part!r} inside",
                did_you_mean(part, inner) if inner else "only groups and blocks have names inside",
            )
        target = target.names[part]
    if isinstance(target, Scope):
        return target.output
    return target


class ScopeShapes:
    """`shape(NAME)` and `spatial(NAME)` in the expressions of one scope: NAME found as `from:` finds it."""

    def __init__(self, scope: Scope, tensor_of: Callable[[Ref], Tensor | None]) -> None:
        self.scope = scope
        self.tensor_of = tensor_of

    def tensor(self, reference: str) -> Tensor:
        try:
            ref = find(reference, self.scope, shape_reading=True)
        except ReferenceProblem as problem:
            raise ExpressionError(problem.message, problem.hint) from None
        tensor = self.tensor_of(ref)
        if tensor is None:
            raise ShapeUnknown(f"the shape of {reference!r} is not known")
        return tensor

    def shape(self, reference: str) -> tuple[int, ...]:
        return self.tensor(reference).shape

    def spatial(self, reference: str) -> tuple[int, ...]:
        return tuple(self.tensor(reference).spatial)
