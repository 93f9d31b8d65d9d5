"""The order in which the entries of one list run: each after the entries it reads (`from:`, and the layers
whose shapes its expressions read: `size: spatial(layer1)`), else as written, in linear time; entries that
read each other in a cycle cannot run, and one such cycle is named."""

from __future__ import annotations

import heapq
from typing import Any, NamedTuple

from cnncalc.language.expressions import SHAPE_FUNCTIONS, shape_references

NOT_EXPRESSIONS = {"name", "type", "block", "from"}  # keys of an entry whose values are never expressions


class Order(NamedTuple):
    order: list[int]  # positions to run, in order (blocked ones last)
    blocked: set[int]  # positions on or behind a cycle
    cycle: list[int]  # one cycle among them, in data-flow order (empty when there is none)


def dependency_order(entries: list[Any]) -> Order:
    by_name = {
        entry["name"]: position
        for position, entry in enumerate(entries)
        if isinstance(entry, dict) and isinstance(entry.get("name"), str)
    }
    depends: list[set[int]] = []
    for position, entry in enumerate(entries):
        needs: set[int] = set()
        sources = entry.get("from") if isinstance(entry, dict) else None
        if sources is None:
            if position > 0:
                needs.add(position - 1)
        else:
            for reference in sources if isinstance(sources, list) else [sources]:
                head = str(reference).split(".", 1)[0]
                if head in by_name:
                    needs.add(by_name[head])
        needs.update(by_name[head] for head in shape_reads(entry) if head in by_name)
        depends.append(needs)
    # Kahn's algorithm; among entries that are ready, the earliest written goes first.
    waiting = [len(needs) for needs in depends]
    readers: list[list[int]] = [[] for _ in entries]
    for position, needs in enumerate(depends):
        for need in needs:
            readers[need].append(position)
    ready = [position for position, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        position = heapq.heappop(ready)
        order.append(position)
        for reader in readers[position]:
            waiting[reader] -= 1
            if waiting[reader] == 0:
                heapq.heappush(ready, reader)
    blocked = set(range(len(entries))) - set(order)
    return Order(order + sorted(blocked), blocked, find_cycle(depends, blocked) if blocked else [])


def find_cycle(depends: list[set[int]], blocked: set[int]) -> list[int]:
    """One cycle among the blocked entries (the rest are merely downstream of it), in data-flow order."""
    path: list[int] = []
    seen: dict[int, int] = {}
    current = min(blocked)
    while current not in seen:
        seen[current] = len(path)
        path.append(current)
        current = min(need for need in depends[current] if need in blocked)
    cycle = list(reversed(path[seen[current] :]))  # data-flow order: each feeds the next
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]


def entry_label(entry: Any, position: int) -> str:
    """How a message names an entry: its name, or its position (#3)."""
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        return entry["name"]
    return f"#{position}"


def entry_kind(entry: dict[str, Any]) -> str:
    """What an entry is, for collapsed rows: its type, its block's name, or "group"."""
    if "type" in entry:
        return str(entry["type"])
    if "block" in entry:
        return str(entry["block"])
    return "group"


def shape_reads(entry: Any) -> set[str]:
    """The first components of the names whose shapes an entry's expressions read, its nested entries'
    included (less the names those define themselves)."""
    if not isinstance(entry, dict):
        return set()
    found: set[str] = set()
    for key, value in entry.items():
        if key in NOT_EXPRESSIONS:
            continue
        if key == "layers" and isinstance(value, list):
            inner = {item.get("name") for item in value if isinstance(item, dict)}
            found.update(head for item in value for head in shape_reads(item) if head not in inner)
        else:
            found.update(_heads(value))
    return found


def _heads(value: Any) -> set[str]:
    if isinstance(value, str):
        if not any(f"{function}(" in value for function in SHAPE_FUNCTIONS):
            return set()  # the common case, without parsing
        return {reference.split(".", 1)[0] for reference in shape_references(value)}
    if isinstance(value, list):
        return {head for item in value for head in _heads(item)}
    if isinstance(value, dict):
        return {head for item in value.values() for head in _heads(item)}
    return set()
