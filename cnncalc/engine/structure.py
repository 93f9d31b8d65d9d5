"""Structural checks of a spec's entries, before anything is evaluated or expanded.

Kinds, field names, block uses, names and expressions that YAML cut at a comma are checked here for every
entry, including those in blocks nobody uses and behind a `when` that turns out false, so that `validate`
reports them all. An entry found broken is remembered: expansion skips it (its error is already reported).
"""

from __future__ import annotations

import re
from typing import Any

from cnncalc.base.errors import Location
from cnncalc.engine.issues import IssueLog
from cnncalc.kinds import COMPOSITES, REGISTRY, all_kind_names
from cnncalc.language.document import LAYER_NAME_PATTERN, SpecDocument
from cnncalc.language.pydantic_errors import did_you_mean
from cnncalc.language.yaml_source import PathKey, SourceMap

LAYER_NAME = re.compile(LAYER_NAME_PATTERN)
# `copy_names`: how a repeat names its copies (default 0, 1, ...), e.g. "block2-{index}" as torchvision's RegNet.
ENTRY_FIELDS = {"name", "from", "when", "repeat", "copy_names", "frozen", "checkpoint"}
LAYER_FIELDS = ENTRY_FIELDS | {"functional"}  # `functional` marks one layer, never a block use or a group
BLOCK_USE_FIELDS = ENTRY_FIELDS | {"block", "args"}
GROUP_FIELDS = ENTRY_FIELDS | {"layers"}
RESERVED_NAMES = {"input", "index", "in_channels", "in_features"}
# What each field of an entry means, in a sentence: the JSON Schema's hover text (cnncalc.engine.spec_schema).
ENTRY_FIELD_DESCRIPTIONS = {
    "name": "The entry's name (letters, digits, `_` and `-`); unnamed entries are numbered by position.",
    "from": "The input(s): a name or a list of names (default: the previous entry). `input` is the block's "
    "(or the network's) input, `group.input` the group's; dotted names reach inside groups and blocks.",
    "when": "An expression: when false the entry is skipped and its name stands for its first input.",
    "repeat": "N copies chained one after another, named 0 ... N-1; inside, `index` is 0 ... N-1.",
    "copy_names": 'With `repeat`: how the copies are named, `{index}` filled in ("block2-{index}").',
    "frozen": "true makes the entry's parameters non-trainable (everything inside a block or group).",
    "checkpoint": "true recomputes this entry's forward in a training step's backward (activation checkpointing).",
    "functional": "true on a layer: the source model calls it as a function in forward (F.relu), not as "
    "a registered module.",
    "block": "The block (defined under the top-level `blocks:`) this entry uses.",
    "args": "The block's arguments: numbers, expressions or lists.",
    "layers": "A group: an inline list of entries, like nn.Sequential.",
}


class StructureChecker:
    def __init__(self, document: SpecDocument, source: SourceMap, log: IssueLog) -> None:
        self.document = document
        self.source = source
        self.log = log
        self.broken_entries: set[PathKey] = set()  # entries with structural errors, already reported

    def locate(self, path: PathKey, key: bool = False) -> Location:
        return self.source.locate(path, key=key)

    def check_document(self) -> set[PathKey]:
        """Check the layers and every block's layers; return the entries found broken."""
        self.check_structure(self.document.layers, ("layers",))
        for name, block in self.document.blocks.items():
            self.check_structure(block.layers, ("blocks", name, "layers"))
            self.check_optional_args(name)
        return self.broken_entries

    def check_optional_args(self, block_name: str) -> None:
        """An optional argument is declared once, and has no default (it is none when not given)."""
        block = self.document.blocks[block_name]
        seen: set[str] = set()
        for position, arg in enumerate(block.optional):
            where = self.locate(("blocks", block_name, "optional", position))
            if arg in block.args:
                self.log.error(
                    where,
                    f"block {block_name!r}: argument {arg!r} is in both `args` and `optional`",
                    "an argument listed in `optional` is none when not given; one with a default belongs in "
                    "`args` only",
                )
            elif arg in seen:
                self.log.error(where, f"block {block_name!r}: argument {arg!r} is listed twice in `optional`")
            elif arg in RESERVED_NAMES or arg == "none":
                self.log.error(where, f"{arg!r} is a reserved name", "rename the argument")
            seen.add(arg)

    def check_structure(self, entries: list[Any], path: PathKey) -> None:
        """Check kinds, field names and block uses without evaluating anything, so that every entry is
        checked, including those in unused blocks or behind a false `when`."""
        names: dict[str, PathKey] = {}
        for position, entry in enumerate(entries):
            entry_path = (*path, position)
            if not self.check_entry(entry, entry_path):
                self.broken_entries.add(entry_path)
                continue
            name = entry.get("name")
            if isinstance(name, str):
                if name in names:
                    self.log.error(
                        self.locate((*entry_path, "name")),
                        f"name {name!r} is already used in this scope",
                        "names must be unique among the entries of one list",
                    )
                names[name] = entry_path
            if "layers" in entry and isinstance(entry["layers"], list):
                self.check_structure(entry["layers"], (*entry_path, "layers"))

    def check_entry(self, entry: Any, path: PathKey) -> bool:
        location = self.locate(path)
        if not isinstance(entry, dict):
            self.log.error(location, "a layer entry must be a mapping such as `{type: conv2d, out: 64, kernel: 3}`")
            return False
        ok = True
        name = entry.get("name")
        if name is not None and not (isinstance(name, str) and LAYER_NAME.match(name)):
            self.log.error(
                self.locate((*path, "name")),
                f"name {name!r} is not a valid name",
                "use up to 64 ASCII letters, digits, underscores and hyphens, not starting with a hyphen "
                "(dots are added for nesting)",
            )
            ok = False
        elif name in RESERVED_NAMES:
            self.log.error(self.locate((*path, "name")), f"{name!r} is a reserved name", "choose another name")
            ok = False
        if "copy_names" in entry:
            ok &= self.check_copy_names(entry, path)
        markers = [key for key in ("type", "block", "layers") if key in entry]
        if len(markers) != 1:
            if markers:
                message = f"an entry has exactly one of `type`, `block` and `layers`; this one has {', '.join(markers)}"
            else:
                message = "this entry has no `type` (a layer), `block` (a block use) or `layers` (a group)"
            self.log.error(location, message, "e.g. `- {type: relu}` or `- {block: bottleneck, args: {...}}`")
            return False
        marker = markers[0]
        if marker == "type":
            kind = entry["type"]
            if not isinstance(kind, str) or (kind not in REGISTRY and kind not in COMPOSITES):
                self.log.error(
                    self.locate((*path, "type")),
                    f"unknown layer type {kind!r}",
                    did_you_mean(str(kind), all_kind_names()) or "run `cnncalc kinds` to list layer types",
                )
                return False
            schema = REGISTRY[kind].schema if kind in REGISTRY else COMPOSITES[kind].schema
            entry_fields = LAYER_FIELDS if kind in REGISTRY else ENTRY_FIELDS
            allowed = entry_fields | {"type"} | set(schema.model_fields)
            label = f"layer type {kind!r}"
            ok &= self.check_keys(entry, path, allowed, label, f"{label}, which expands to several layers")
        elif marker == "block":
            ok &= self.check_keys(entry, path, BLOCK_USE_FIELDS, "a block use")
            ok &= self.check_block_use(entry, path)
        else:
            ok &= self.check_keys(entry, path, GROUP_FIELDS, "a group")
            if not isinstance(entry["layers"], list) or not entry["layers"]:
                self.log.error(self.locate((*path, "layers")), "`layers` must be a non-empty list of entries")
                ok = False
        return ok

    def check_copy_names(self, entry: dict[str, Any], path: PathKey) -> bool:
        """`copy_names` must come with `repeat` and give every copy its own valid name."""
        pattern = entry["copy_names"]
        where = self.locate((*path, "copy_names"))
        if "repeat" not in entry:
            self.log.error(where, "`copy_names` names the copies of a `repeat`; this entry has none", "add `repeat:`")
            return False
        example = 'e.g. `copy_names: "block2-{index}"` names the copies block2-0, block2-1, ...'
        if not isinstance(pattern, str) or "{index}" not in pattern:
            message = "`copy_names` must be text holding `{index}`, so that each copy has its own name"
            self.log.error(where, message, example)
            return False
        name = copy_name(pattern, 0)
        if not LAYER_NAME.match(name) or name in RESERVED_NAMES:
            self.log.error(where, f"`copy_names` gives {name!r}, which is not a valid name", example)
            return False
        return True

    def check_keys(
        self, entry: dict[str, Any], path: PathKey, allowed: set[str], what: str, several: str | None = None
    ) -> bool:
        """Refuse keys not in `allowed`; `several` names what the entry stands for when it is not one layer."""
        strays = self.check_cut_expressions(entry, path)
        ok = not strays
        for key in entry:
            if key in strays:
                continue
            if key == "functional" and key not in allowed:
                self.log.error(
                    self.locate((*path, key), key=True),
                    f"`functional` marks a single layer, not {several or what}",
                    "put `functional: true` on the layers inside that PyTorch calls as functions",
                )
                ok = False
            elif key not in allowed:
                self.log.error(
                    self.locate((*path, key), key=True),
                    f"unknown field {key!r} for {what}",
                    did_you_mean(str(key), allowed),
                )
                ok = False
        return ok

    def check_cut_expressions(self, mapping: dict[Any, Any], path: PathKey) -> set[Any]:
        """Report expressions that a flow mapping cut at their commas; return the stray keys they left.

        In `{out: make_divisible(30, 8), kernel: 3}` the comma ends the value: YAML reads `out:
        "make_divisible(30"` and a field `8)` without a value. A value with an unclosed `(` followed by
        such keys, which together close it, is one expression that needs quotes.
        """
        strays: set[Any] = set()
        keys = list(mapping)
        for position, key in enumerate(keys):
            value = mapping[key]
            if not isinstance(value, str) or key in strays or _unclosed(value) <= 0:
                continue
            text, tail = value, []
            for stray in keys[position + 1 :]:
                if mapping[stray] is not None or _unclosed(text) <= 0:
                    break
                text += f", {stray}"
                tail.append(stray)
            if tail and _unclosed(text) == 0:
                strays.update(tail)
                cut = ", ".join(repr(str(stray)) for stray in tail)
                self.log.error(
                    self.locate((*path, key)),
                    f"the expression of {key!r} is cut at a comma: YAML reads {cut} as "
                    + ("a field of its own" if len(tail) == 1 else "fields of their own"),
                    f'quote the expression: {key}: "{text}"',
                )
        return strays

    def check_block_use(self, entry: dict[str, Any], path: PathKey) -> bool:
        name = entry["block"]
        blocks = self.document.blocks
        if not isinstance(name, str) or name not in blocks:
            hint = did_you_mean(str(name), blocks) if blocks else "define it under `blocks:` at the top level"
            self.log.error(self.locate((*path, "block")), f"unknown block {name!r}", hint)
            return False
        args = entry.get("args", {})
        if not isinstance(args, dict):
            self.log.error(self.locate((*path, "args")), "`args` must be a mapping of argument names to values")
            return False
        strays = self.check_cut_expressions(args, (*path, "args"))
        ok = not strays
        declared = {**blocks[name].args, **dict.fromkeys(blocks[name].optional, "none")}
        for arg in args:
            if arg not in declared and arg not in strays:
                self.log.error(
                    self.locate((*path, "args", arg), key=True),
                    f"block {name!r} has no argument {arg!r}",
                    did_you_mean(str(arg), declared) or "declare it under the block's `args:` (or `optional:`)",
                )
                ok = False
        for arg, default in declared.items():
            if default is None and arg not in args:
                self.log.error(
                    self.locate((*path, "args")),
                    f"block {name!r} needs argument {arg!r}",
                    "`null` in a block's `args:` means required; list an argument that may be left out under "
                    "the block's `optional:`",
                )
                ok = False
            elif default is None and args[arg] is None:
                self.log.error(
                    self.locate((*path, "args", arg)),
                    f"block {name!r} needs a value for argument {arg!r}, got null",
                    "only an argument listed under the block's `optional:` may be null (not given)",
                )
                ok = False
        return ok


def _unclosed(text: str) -> int:
    """How many more `(` than `)` a text holds."""
    return text.count("(") - text.count(")")


def copy_name(pattern: str | None, index: int) -> str:
    """The name of copy `index` of a repeat: its number, or `copy_names` with `{index}` filled in."""
    return str(index) if pattern is None else pattern.replace("{index}", str(index))
