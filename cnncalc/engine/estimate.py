"""An upper bound on the layers a spec expands to, computed before expanding anything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cnncalc.base import limits
from cnncalc.kinds import COMPOSITES
from cnncalc.language.document import SpecDocument
from cnncalc.language.expressions import ExpressionError, evaluate


class LayerCountEstimate:
    """An upper bound on the layers a spec expands to, computed before expanding anything.

    Repeats are multiplied out (when their count can be evaluated from the global variables) and `when`
    is ignored, so a spec that multiplies blocks into billions of layers is refused at once instead of
    after expanding the first 100,000.
    """

    def __init__(self, document: SpecDocument, variables: Mapping[str, Any]) -> None:
        self.blocks = document.blocks
        self.variables = variables
        self.block_sizes: dict[str, int] = {}
        self.open_blocks: list[str] = []

    def scan(self, entries: list[Any]) -> tuple[int, int | None]:
        """(layers the entries expand to at most, position of the entry at which the running total passes the
        layer limit or None); the scan stops there, as nothing more is needed. One plain loop: blocks nest this
        scan hundreds of levels deep."""
        total = 0
        for position, entry in enumerate(entries):
            if isinstance(entry, dict):
                total += self.repeat(entry) * self.body(entry)
            if total > limits.MAX_NODES:
                return total, position
        return total, None

    def entries(self, entries: list[Any]) -> int:
        return self.scan(entries)[0]

    def first_entry_over_limit(self, entries: list[Any]) -> int | None:
        return self.scan(entries)[1]

    def repeat(self, entry: dict[str, Any]) -> int:
        count = entry.get("repeat", 1)
        if isinstance(count, str):
            try:
                count = evaluate(count, self.variables)
            except ExpressionError:
                return 1  # depends on block arguments: the limit during expansion still applies
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= limits.MAX_REPEAT:
            return 1  # an invalid count: reported, with its location, during expansion
        return count

    def body(self, entry: dict[str, Any]) -> int:
        if "type" in entry:
            return 2 if isinstance(entry["type"], str) and entry["type"] in COMPOSITES else 1
        if "layers" in entry:
            return self.entries(entry["layers"]) if isinstance(entry["layers"], list) else 0
        name = entry.get("block")
        if not isinstance(name, str) or name not in self.blocks or name in self.open_blocks:
            return 0  # unknown or recursive: reported elsewhere
        if len(self.open_blocks) >= limits.MAX_BLOCK_DEPTH:
            return 0
        if name not in self.block_sizes:
            self.open_blocks.append(name)
            self.block_sizes[name] = self.entries(self.blocks[name].layers)
            self.open_blocks.pop()
        return self.block_sizes[name]
