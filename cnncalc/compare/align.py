"""Two layer lists merged into one order, layers matched by name (their block path).

A layer whose name is in both lists is compared with itself; a name in one list only is a layer added or
removed. The merged order is the order of both networks at once: the names both share, in the longest run
that keeps their order in both lists, are the anchors; between two anchors come the layers removed (in the
first network's order), then those added (in the second's), so an inserted layer appears where it was inserted.
A shared name outside that run (a layer moved elsewhere) is still compared, at its place in the second list.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

Pair = tuple[int | None, int | None]  # (index in the first list, index in the second); None: not there


def unique_keys(names: Sequence[str]) -> list[tuple[str, int]]:
    """Each name with its occurrence count, so that a name repeated in one list matches the same repeat in
    the other (block paths are unique; rows collapsed with --depth are too, but nothing here relies on it)."""
    seen: dict[str, int] = {}
    keys = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        keys.append((name, count))
    return keys


def _longest_increasing(values: Sequence[int]) -> list[int]:
    """Positions in `values` of one longest strictly increasing subsequence (patience sorting, n log n)."""
    tails: list[int] = []  # tails[k]: the smallest last value of an increasing run of length k + 1
    tail_positions: list[int] = []
    previous: list[int] = [-1] * len(values)
    for position, value in enumerate(values):
        length = bisect_left(tails, value)
        if length == len(tails):
            tails.append(value)
            tail_positions.append(position)
        else:
            tails[length] = value
            tail_positions[length] = position
        previous[position] = tail_positions[length - 1] if length else -1
    run = []
    position = tail_positions[-1] if tail_positions else -1
    while position != -1:
        run.append(position)
        position = previous[position]
    return run[::-1]


def merge_order(first: Sequence[str], second: Sequence[str]) -> list[Pair]:
    """Every layer of both lists once, as (index in `first`, index in `second`), in the merged order."""
    first_keys, second_keys = unique_keys(first), unique_keys(second)
    in_first = {key: index for index, key in enumerate(first_keys)}
    in_second = {key: index for index, key in enumerate(second_keys)}
    shared = [(index, in_second[key]) for index, key in enumerate(first_keys) if key in in_second]
    anchors = [shared[position] for position in _longest_increasing([j for _, j in shared])]
    pairs: list[Pair] = []
    i = j = 0
    for anchor_i, anchor_j in [*anchors, (len(first_keys), len(second_keys))]:
        pairs.extend((index, None) for index in range(i, anchor_i) if first_keys[index] not in in_second)
        pairs.extend((in_first.get(second_keys[index]), index) for index in range(j, anchor_j))
        if anchor_i < len(first_keys):
            pairs.append((anchor_i, anchor_j))
        i, j = anchor_i + 1, anchor_j + 1
    return pairs
