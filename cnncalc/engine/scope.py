"""Names in an expanded spec: scopes, what a reference such as `from: layer1.2.conv3` points at.

Each block use gets its own scope (global `vars`, the block's `args` and `vars`, `index`, `in_channels` and
`in_features` of its first input; its inputs named by its `inputs:`). An inline group sees the names of the
scope around it. Dotted references reach inside groups and blocks; a repeated entry's name refers to its last
instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnncalc.base.errors import Location
from cnncalc.engine.issues import IssueLog
from cnncalc.language.pydantic_errors import did_you_mean

NETWORK_INPUT = -1  # node reference of the network input

Ref = int | None  # a node index, NETWORK_INPUT, or None: failed upstream, its shape unknown (fields still checked)


@dataclass
class Scope:
    """Names visible to a group of entries and where their outputs are."""

    prefix: str
    variables: dict[str, Any]
    parent: Scope | None = None  # set for inline groups: lookups fall through to the enclosing scope
    names: dict[str, Ref | Scope] = field(default_factory=dict)
    output: Ref = None
    frozen: bool = False  # a frozen block or group freezes every layer inside it

    def child_path(self, component: str) -> str:
        return f"{self.prefix}.{component}" if self.prefix else component

    def register(self, component: str, value: Ref | Scope) -> None:
        self.names[component] = value
        self.output = value.output if isinstance(value, Scope) else value

    def visible_names(self) -> set[str]:
        names: set[str] = set()
        current: Scope | None = self
        while current is not None:
            names.update(current.names)
            current = current.parent
        return names


def resolve(reference: Any, scope: Scope, location: Location, log: IssueLog) -> tuple[Ref, bool]:
    """Find what a `from:` name refers to; returns (ref, found), reporting a name that is not there."""
    if not isinstance(reference, str) or not reference:
        log.error(location, f"`from` must name an earlier layer, got {reference!r}")
        return None, False
    head, *rest = reference.split(".")
    current: Scope | None = scope
    target: Ref | Scope | None = None
    found = False
    while current is not None:
        if head in current.names:
            target, found = current.names[head], True
            break
        current = current.parent
    if not found:
        visible = scope.visible_names()
        log.error(
            location,
            f"unknown reference {reference!r}",
            did_you_mean(head, visible) or f"names visible here: {', '.join(sorted(visible)) or 'none'}",
        )
        return None, False
    for part in rest:
        if not isinstance(target, Scope) or part not in target.names:
            inner = sorted(target.names) if isinstance(target, Scope) else []
            log.error(
                location,
                f"unknown reference {reference!r}: no {part!r} inside",
                did_you_mean(part, inner) if inner else "only groups and blocks have names inside",
            )
            return None, False
        target = target.names[part]
    if isinstance(target, Scope):
        return target.output, True
    return target, True
