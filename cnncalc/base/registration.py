"""Tables filled by decorators: each layer kind (or convention rule) has one entry, set once at import.

Registering a name twice is a bug in cnncalc, not a user error: it raises at import, naming what clashed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

Entry = TypeVar("Entry")


def register_once(table: dict[str, Entry], names: Iterable[str], clash: str) -> Callable[[Entry], Entry]:
    """A decorator that puts its function in `table` under each of `names`; a name already there raises
    RuntimeError(`clash` with `{name}` filled in)."""
    chosen = tuple(names)

    def register(entry: Entry) -> Entry:
        for name in chosen:
            if name in table:
                raise RuntimeError(clash.format(name=repr(name)))
            table[name] = entry
        return entry

    return register
