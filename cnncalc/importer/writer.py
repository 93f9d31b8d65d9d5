"""Write converted layers as a spec a person can read: nested groups that follow the model's modules, one
`blocks:` definition per kind of repeated submodule (with `args:` for what differs), `repeat:` for a container
of identical blocks, and `from:` only where the input is not the previous entry's output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import torch.fx

from cnncalc.importer.layers import Layer, SpatialOf
from cnncalc.importer.yaml_text import scalar


@dataclass
class Group:
    """The layers of one module scope, in the order they run; `block` is set when it is written as a block use."""

    path: str
    entries: list[Group | Layer] = field(default_factory=list)
    block: str | None = None
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return last_component(self.path)


def last_component(path: str) -> str:
    return path.rpartition(".")[2]


def scope_of(path: str) -> str:
    return path.rpartition(".")[0]


class NotContiguous(Exception):
    """A module's layers do not run one after another, so they cannot be written as one group."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class Shadowed(Exception):
    """A layer inside `scope` reads `node`, whose name is hidden there by a nearer name."""

    def __init__(self, scope: str, node: torch.fx.Node, target: str, base: str) -> None:
        super().__init__(target)
        self.base = base  # the block instance being written ("" outside blocks)
        self.scope = scope
        self.node = node
        self.target = target


def build_tree(layers: list[Layer]) -> Group:
    root = Group("")
    open_groups: list[Group] = [root]
    closed: set[str] = set()
    for layer in layers:
        scope = scope_of(layer.path)
        parts = scope.split(".") if scope else []
        while len(open_groups) > 1 and not _inside(scope, open_groups[-1].path):
            closed.add(open_groups.pop().path)
        for depth in range(len(open_groups) - 1, len(parts)):
            path = ".".join(parts[: depth + 1])
            if path in closed:
                raise NotContiguous(path)
            group = Group(path)
            open_groups[-1].entries.append(group)
            open_groups.append(group)
        open_groups[-1].entries.append(layer)
    _collapse(root)
    return root


def _collapse(group: Group) -> None:
    """A module that is one operation (torchvision's Permute, StochasticDepth) is written as that layer."""
    for position, entry in enumerate(group.entries):
        if isinstance(entry, Group):
            _collapse(entry)
            if len(entry.entries) == 1 and isinstance(entry.entries[0], Layer):
                entry.entries[0].path = entry.path
                group.entries[position] = entry.entries[0]


def flatten_module(layers: list[Layer], path: str) -> None:
    """Name the layers of a module whose layers do not run together in its parent's scope: res2net's
    `layer1.0.convs.0` becomes `layer1.0.convs-0`, beside `layer1.0.bns-0`."""
    for layer in layers:
        if layer.path.startswith(path + "."):
            layer.path = path + "-" + layer.path[len(path) + 1 :].replace(".", "-")


def _inside(scope: str, group_path: str) -> bool:
    return scope == group_path or scope.startswith(group_path + ".")


def output_of(entry: Group | Layer) -> torch.fx.Node:
    while isinstance(entry, Group):
        entry = entry.entries[-1]
    return entry.node


def snake_case(name: str) -> str:
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    text = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", text)
    text = re.sub(r"[^A-Za-z0-9_]", "_", text).lower().strip("_")
    return text if text and not text[0].isdigit() else f"block_{text}"


@dataclass
class BlockDef:
    name: str
    body: Group  # the first instance: its field values, with `parameters` naming the ones that vary
    parameters: dict[tuple[str, str], str]  # (entry path relative to the body, field) -> argument name
    arg_names: list[str]
    switches: dict[str, str] = field(default_factory=dict)  # optional top-level entry -> its `when:` argument


class SpecWriter:
    def __init__(self, root: Group, network_input: torch.fx.Node, class_names: dict[str, str]) -> None:
        self.root = root
        self.network_input = network_input
        self.class_names = class_names  # module path -> class name, for block names
        self.path_of: dict[torch.fx.Node, str] = {}
        self.children: dict[str, set[str]] = {}
        self.group_input: dict[str, torch.fx.Node] = {}
        self.groups: dict[str, Group] = {}
        self.blocks: dict[str, BlockDef] = {}
        self.parts: dict[str, list[Any]] = {}
        self.position: dict[str, int] = {}  # groups in the order they are written
        self._index(root, network_input)

    # --- what is where --------------------------------------------------------------------------------------

    def _index(self, group: Group, list_input: torch.fx.Node) -> None:
        self.group_input[group.path] = list_input
        self.groups[group.path] = group
        self.position[group.path] = len(self.position)
        names = self.children.setdefault(group.path, set())
        for entry in group.entries:
            names.add(last_component(entry.path))
            if isinstance(entry, Group):
                # a group reads what its first layer reads first (`from:` on the group when that is not the
                # previous entry): a skipped group's name then stands for it, as for a projection shortcut
                self._index(entry, _layers(entry)[0].inputs[0])
            else:
                self.path_of[entry.node] = entry.path

    def reference(self, node: torch.fx.Node, scope: str, base: str, base_input: torch.fx.Node) -> str:
        """The `from:` name of a node's value, read by an entry of `scope`; inside a block whose instance is at
        `base`, names stop there and the block's input is `input`."""
        if node is base_input:
            return "input"
        target = self.path_of[node]
        # a group's output is read by the group's name (`downsample`, not `downsample.1`), as a person writes it
        # and as `when:` needs (a skipped group's name stands for its input; its layers' names do not)
        while True:
            group = scope_of(target)
            if not group or group not in self.groups or _inside(scope, group) or not group.startswith(base):
                break
            if output_of(self.groups[group]) is not node:
                break
            target = group
        ancestor = scope
        while ancestor != base and not target.startswith(ancestor + "."):
            ancestor = scope_of(ancestor)
        # Names are looked up from the reader's scope outwards: climb until no nearer scope has the first name.
        while True:
            relative = target[len(ancestor) + 1 :] if ancestor else target
            if not self._shadowed(relative.split(".")[0], scope, ancestor):
                return relative
            if ancestor == base:
                raise Shadowed(scope, node, target, base)
            ancestor = scope_of(ancestor)

    def group_reading_its_input(self, scope: str, node: torch.fx.Node) -> str | None:
        """The innermost group around `scope` whose input is `node` and that can be a block, or None."""
        path = scope
        while path:
            group = self.groups.get(path)
            if group is not None and self.group_input.get(path) is node and self._self_contained(group):
                return path
            path = scope_of(path)
        return None

    def _shadowed(self, head: str, scope: str, ancestor: str) -> bool:
        between = scope
        while between != ancestor:
            if head in self.children.get(between, set()):
                return True
            between = scope_of(between)
        return False

    # --- blocks ---------------------------------------------------------------------------------------------

    def find_blocks(self, single: frozenset[str] = frozenset(), refused: frozenset[str] = frozenset()) -> None:
        """Groups of the same structure (two or more) become uses of one block; a container of consecutive
        uses of one block (`0`, `1`, ...) becomes one `repeat:` entry."""
        instances: dict[Any, list[Group]] = {}
        self._signatures(self.root, instances)
        taken: set[str] = set()
        for groups, optional, first in self._merge_variants(list(instances.values()), refused):
            if (len(groups) < 2 and groups[0].path not in single) or any(group.path in refused for group in groups):
                continue
            base_name = snake_case(self.class_names.get(first.path, first.name))
            name, number = base_name, 2
            while name in taken:
                name, number = f"{base_name}_{number}", number + 1
            taken.add(name)
            if all(self._repeat(group) is not None for group in groups) and not optional:
                continue  # containers of one block, `0` .. `N-1`: each is written as a repeat instead
            values = [self._values(group, group.path) for group in groups]
            keys = list(self._values(first, first.path))  # the fullest structure has every number
            for instance in values:  # numbers of an entry an instance skips do not matter: any value will do
                for key in keys:
                    instance.setdefault(key, _ANY)
            parameters: dict[tuple[str, str], str] = {}
            columns: dict[str, list[Any]] = {}  # argument -> its value per instance (_ANY where it does not matter)
            arg_names: list[str] = []
            for key in keys:
                column = [instance[key] for instance in values]
                known = [value for value in column if value is not _ANY]
                if all(value == known[0] for value in known):
                    continue  # the same in every instance that has it: written as a number
                argument = next((name for name, other in columns.items() if _agree(column, other)), None)
                if argument is None:
                    argument = _argument_name(key[1], last_component(key[0]), arg_names)
                    arg_names.append(argument)
                    columns[argument] = column
                else:
                    columns[argument] = [b if a is _ANY else a for a, b in zip(column, columns[argument], strict=True)]
                parameters[key] = argument
            # one true/false argument per pattern of presence: `when:` skips the entries it is false for
            switches: dict[str, str] = {}
            presence_arguments: dict[tuple[bool, ...], str] = {}
            for entry_name, present in optional.items():
                argument = presence_arguments.get(present)
                if argument is None:
                    argument = _argument_name(entry_name if entry_name.isidentifier() else "has", "", arg_names)
                    presence_arguments[present] = argument
                    arg_names.append(argument)
                switches[entry_name] = argument
            self.blocks[name] = BlockDef(name, first, parameters, arg_names, switches)
            for position, group in enumerate(groups):
                group.block = name
                group.args = {argument: _settled(column, position) for argument, column in columns.items()}
                for present, argument in presence_arguments.items():
                    group.args[argument] = present[position]

    def _merge_variants(
        self, classes: list[list[Group]], refused: frozenset[str]
    ) -> list[tuple[list[Group], dict[str, tuple[bool, ...]], Group]]:
        """Classes of one module class whose structures differ only by entries some leave out (a projection
        shortcut, a residual add) become one class: the fullest structure, with each optional entry's presence
        per instance. Returns (instances, {optional entry: presence per instance})."""
        merged: list[tuple[list[Group], dict[str, tuple[bool, ...]], Group]] = []
        # Classes come innermost first (a block's body uses blocks defined before it); merging keeps that
        # order, trying the fullest structure of each module class first.
        order = {id(groups): position for position, groups in enumerate(classes)}
        remaining = [groups for groups in classes if not any(group.path in refused for group in groups)]
        remaining.sort(key=lambda groups: -len(groups[0].entries))
        used: set[int] = set()
        for position, fullest in enumerate(remaining):
            if position in used:
                continue
            members = list(fullest)
            skipped_by_member: list[set[str]] = [set()] * len(fullest)
            for other_position in range(position + 1, len(remaining)):
                if other_position in used:
                    continue
                other = remaining[other_position]
                skipped = self._variant_of(fullest[0], other[0])
                if skipped is None:
                    continue
                used.add(other_position)
                members += other
                skipped_by_member += [skipped] * len(other)
            optional_names = sorted(set().union(*skipped_by_member), key=[e.name for e in fullest[0].entries].index)
            in_order = sorted(range(len(members)), key=lambda index: self.position[members[index].path])
            members = [members[index] for index in in_order]
            skipped_by_member = [skipped_by_member[index] for index in in_order]
            optional = {name: tuple(name not in skipped for skipped in skipped_by_member) for name in optional_names}
            merged.append((members, optional, fullest[0]))
        for groups in classes:
            if any(group.path in refused for group in groups):
                merged.append((groups, {}, groups[0]))
        merged.sort(key=lambda item: min(order[id(groups)] for groups in classes if groups[0] in item[0]))
        return merged

    def _variant_of(self, full: Group, other: Group) -> set[str] | None:
        """The entries of `full` that `other` leaves out, when `other` is `full` with those entries skipped
        (as `when: false` skips them: a skipped entry's name stands for its input); else None."""
        if self.class_names.get(full.path) != self.class_names.get(other.path) or full.path == other.path:
            return None
        full_names = [entry.name for entry in full.entries]
        other_names = [entry.name for entry in other.entries]
        if len(other_names) >= len(full_names) or not _subsequence(other_names, full_names):
            return None
        full_parts = {_part_name(part): _without_wiring(part) for part in self.parts[full.path]}
        for part in self.parts[other.path]:
            if full_parts.get(_part_name(part)) != _without_wiring(part):
                return None
        skipped = set(full_names) - set(other_names)
        if any(name.isdigit() for name in skipped):
            return None  # a container's children by position: a shorter Sequential is not an optional part
        full_reads, other_reads = self._reads(full), self._reads(other)

        def standing_for(name: str) -> str | None:
            seen = 0
            while name in skipped and seen < len(full_names):
                name = (full_reads[name] or ("input",))[0]
                seen += 1
            return None if name.split(".")[0] in skipped else name

        for name in other_names:
            if tuple(standing_for(read) for read in full_reads[name]) != other_reads[name]:
                return None
        if standing_for(full_names[-1]) != other_names[-1]:
            return None
        return skipped

    def _signatures(self, group: Group, instances: dict[Any, list[Group]]) -> Any:
        """The structure of a group (names, kinds, field names, wiring, and values that cannot be arguments),
        recording every group that could be a block under its structure."""
        parts: list[Any] = []
        for entry in group.entries:
            if isinstance(entry, Group):
                outside = tuple(
                    self._wire(node, group.path)
                    for layer in _layers(entry)
                    for node in layer.reads
                    if self._wire(node, entry.path) == "outside"
                )
                parts.append(("group", entry.name, self._signatures(entry, instances), outside))
            else:
                inputs = tuple(self._wire(node, group.path) for node in entry.inputs)
                fixed = tuple(
                    sorted(
                        (key, self._structural(value, group.path))
                        for key, value in entry.fields.items()
                        if not _arguable(value)
                    )
                )
                parts.append(("layer", last_component(entry.path), entry.kind, fixed, inputs, entry.functional))
        signature = (self.class_names.get(group.path), tuple(parts))
        self.parts[group.path] = parts
        if group.path and self._self_contained(group):
            instances.setdefault(signature, []).append(group)
        return signature

    def _structural(self, value: Any, scope: str) -> str:
        """A field's value as a block's structure sees it: a size read from another tensor by where that tensor
        is (relative to the group), other values as written."""
        return f"spatial({self._wire(value.node, scope)})" if isinstance(value, SpatialOf) else repr(value)

    def _wire(self, node: torch.fx.Node, scope: str) -> str:
        """A node read inside `scope`, named relative to it: `input` (the scope's own input), a path inside, or
        `outside` (elsewhere: which node is recorded by the enclosing group's signature)."""
        if node is self.group_input.get(scope):
            return "input"
        path = self.path_of.get(node)
        return path[len(scope) + 1 :] if path and path.startswith(scope + ".") else "outside"

    def _name_in(self, node: torch.fx.Node, group: Group) -> str:
        """A node as an entry of `group` reads it: `input`, a top-level entry's name when it is that entry's
        output (a subgroup by its name), or the path inside the group."""
        if node is self.group_input[group.path]:
            return "input"
        path = self.path_of.get(node, "?")
        if not path.startswith(group.path + "."):
            return "outside:" + path
        relative = path[len(group.path) + 1 :]
        head = relative.split(".")[0]
        entry = next((item for item in group.entries if item.name == head), None)
        return head if entry is not None and output_of(entry) is node else relative

    def _reads(self, group: Group) -> dict[str, tuple[str, ...]]:
        """What each top-level entry of a group reads from outside itself, named as in `_name_in`: a layer its
        inputs in order; a subgroup its own input first, then the other outside values its layers read."""
        reads: dict[str, tuple[str, ...]] = {}
        for entry in group.entries:
            if isinstance(entry, Layer):
                reads[entry.name] = tuple(self._name_in(node, group) for node in entry.inputs)
                continue
            outside: list[str] = [self._name_in(self.group_input[entry.path], group)]
            for layer in _layers(entry):
                for node in layer.reads:
                    path = self.path_of.get(node, "")
                    if node is not self.group_input[entry.path] and not path.startswith(entry.path + "."):
                        name = self._name_in(node, group)
                        if name not in outside:
                            outside.append(name)
            reads[entry.name] = tuple(outside)
        return reads

    def _self_contained(self, group: Group) -> bool:
        """Whether every layer inside reads only layers inside or the group's own input (a block's rule)."""
        group_input = self.group_input[group.path]
        for layer in _layers(group):
            for node in layer.reads:
                path = self.path_of.get(node)
                if node is not group_input and not (path and path.startswith(group.path + ".")):
                    return False
        return True

    def _values(self, group: Group, base: str) -> dict[tuple[str, str], Any]:
        """The numbers of a group's layers, with the usual defaults filled in (so that stride 1 and stride 2
        are one argument, not two structures)."""
        values: dict[tuple[str, str], Any] = {}
        for layer in _layers(group):
            relative = layer.path[len(base) + 1 :]
            for key, value in layer.fields.items():
                if _arguable(value):
                    values[(relative, key)] = value
            for key, default in NUMERIC_DEFAULTS.items():
                if key in _schema_fields(layer.kind) and (relative, key) not in values:
                    values[(relative, key)] = default
        return values

    # --- text ------------------------------------------------------------------------------------------------

    def block_lines(self) -> list[str]:
        lines: list[str] = []
        for block in self.blocks.values():
            lines.append(f"  {block.name}:")
            if block.arg_names:
                lines.append("    args: {" + ", ".join(f"{name}: null" for name in block.arg_names) + "}")
            lines.append("    layers:")
            base_input = self.group_input[block.body.path]
            self._entries(block.body, base_input, 6, lines, block.body.path, base_input, block)
        return lines

    def lines(self) -> list[str]:
        out: list[str] = []
        self._entries(self.root, self.network_input, 0, out, "", self.network_input, None)
        return out

    def _entries(
        self,
        group: Group,
        list_input: torch.fx.Node,
        indent: int,
        out: list[str],
        base: str,
        base_input: torch.fx.Node,
        block: BlockDef | None,
    ) -> None:
        previous = list_input
        pad = " " * indent
        switches = block.switches if block is not None and group is block.body else {}
        for entry in group.entries:
            when = {"when": switches[entry.name]} if entry.name in switches else {}
            source: dict[str, Any] = {}
            if isinstance(entry, Group) and self.group_input[entry.path] is not previous:
                source = {"from": self.reference(self.group_input[entry.path], group.path, base, base_input)}
            if isinstance(entry, Group) and entry.block and (block is None or entry is not block.body):
                fields: dict[str, Any] = {"name": entry.name, **source, **when, "block": entry.block}
                args = {name: self._argument(entry, name, value, block, base) for name, value in entry.args.items()}
                if args:
                    fields["args"] = args
                out.append(f"{pad}- {scalar(fields)}")
            elif isinstance(entry, Group):
                repeat = self._repeat(entry)
                if repeat is not None and block is None:
                    out.append(f"{pad}- {scalar({'name': entry.name, **source, **repeat})}")
                else:
                    out.append(f"{pad}- name: {scalar(entry.name)}")
                    for key, value in {**source, **when}.items():
                        out.append(f"{pad}  {key}: {scalar(value)}")
                    out.append(f"{pad}  layers:")
                    self._entries(entry, self.group_input[entry.path], indent + 4, out, base, base_input, block)
            else:
                fields = self.layer_fields(entry, previous, group.path, base, base_input, block)
                if when:
                    fields = {"name": fields.pop("name"), **when, **fields}
                out.append(f"{pad}- {scalar(fields)}")
            previous = output_of(entry)

    def _argument(self, use: Group, name: str, value: Any, block: BlockDef | None, base: str) -> Any:
        """An argument of a block used inside another block's body: the outer block's argument where the
        value varies between the outer block's instances, else the value."""
        if block is None:
            return value
        inner = self.blocks[use.block or ""]
        prefix = use.path[len(base) + 1 :]
        for (entry, field_name), argument in inner.parameters.items():
            if argument == name:
                outer = block.parameters.get((f"{prefix}.{entry}", field_name))
                if outer is not None:
                    return outer
        return value

    def _repeat(self, group: Group) -> dict[str, Any] | None:
        """`{block: B, repeat: N, args: ...}` for a container of uses `0` .. `N-1` of one block, else None."""
        entries = group.entries
        if (
            len(entries) < 2
            or not isinstance(entries[0], Group)
            or not entries[0].block
            or not all(
                isinstance(entry, Group) and entry.block == entries[0].block and entry.name == str(position)
                for position, entry in enumerate(entries)
            )
        ):
            return None
        args: dict[str, Any] = {}
        for name in entries[0].args:  # type: ignore[union-attr]
            column = [entry.args[name] for entry in entries]  # type: ignore[union-attr]
            expression = _by_index(column)
            if expression is None:
                return None
            args[name] = expression
        fields: dict[str, Any] = {"block": entries[0].block, "repeat": len(entries)}  # type: ignore[union-attr]
        if args:
            fields["args"] = args
        return fields

    def layer_fields(
        self,
        layer: Layer,
        default_input: torch.fx.Node,
        scope: str,
        base: str,
        base_input: torch.fx.Node,
        block: BlockDef | None,
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {"name": last_component(layer.path), "type": layer.kind}
        if layer.inputs != [default_input]:
            references = [self.reference(node, scope, base, base_input) for node in layer.inputs]
            fields["from"] = references[0] if len(references) == 1 else references
        for key, value in layer.fields.items():
            if isinstance(value, SpatialOf):  # `size: spatial(layer3)`: the name as `from:` would write it
                fields[key] = f"spatial({self.reference(value.node, scope, base, base_input)})"
                continue
            argument = block.parameters.get((layer.path[len(base) + 1 :], key)) if block else None
            fields[key] = argument if argument is not None else value
        if block is not None:  # a default in this instance that other instances change
            for (entry, key), argument in block.parameters.items():
                if entry == layer.path[len(base) + 1 :] and key not in fields:
                    fields[key] = argument
        if layer.functional and not layer.parameters and _module_kind(layer.kind):
            fields["functional"] = True  # `F.relu(x)`, `torch.flatten(x, 1)`: hooks on modules do not see it
        return fields


_ANY = object()  # a block argument's value where it does not matter (the entry it sets is skipped)


def _agree(column: list[Any], other: list[Any]) -> bool:
    return all(a is _ANY or b is _ANY or a == b for a, b in zip(column, other, strict=True))


def _settled(column: list[Any], position: int) -> Any:
    """The argument's value for one instance; where it does not matter, the value the most instances have
    (so that a repeat's expression stays short)."""
    value = column[position]
    if value is not _ANY:
        return value
    # the next instance's value (else the previous one's): runs of one value make short `index` expressions
    for neighbour in (*column[position + 1 :], *reversed(column[:position])):
        if neighbour is not _ANY:
            return neighbour
    raise ValueError("an argument with no value in any instance")


def _subsequence(short: list[str], long: list[str]) -> bool:
    iterator = iter(long)
    return all(any(item == candidate for candidate in iterator) for item in short)


def _part_name(part: tuple[Any, ...]) -> str:
    return str(part[1])


def _without_wiring(part: tuple[Any, ...]) -> tuple[Any, ...]:
    """A part's structure without what it reads from its parent (compared apart, through skipped entries)."""
    if part[0] == "layer":
        return part[:4] + part[5:]
    return part[:3]


def _argument_name(field_name: str, entry_name: str, taken: list[str]) -> str:
    """`out`, then `conv3_out` (the layer's name when it is an identifier), then `out_2`, `out_3`, ..."""
    candidates = [field_name]
    if entry_name.isidentifier():
        candidates.append(f"{entry_name}_{field_name}")
    candidates += [f"{field_name}_{number}" for number in range(2, 1000)]
    return next(name for name in candidates if name not in taken and name not in _RESERVED)


_RESERVED = {"input", "index", "in_channels", "in_features"}


# Fields whose default a block argument can take over when another instance sets them.
# (Swin's shifted-window blocks alternate shift 0, the default, and window // 2.)
NUMERIC_DEFAULTS: dict[str, Any] = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "shift": 0}


def _schema_fields(kind: str) -> set[str]:
    from cnncalc.kinds import REGISTRY

    return set(REGISTRY[kind].schema.model_fields) if kind in REGISTRY else set()


def _arguable(value: Any) -> bool:
    """Numbers can be block arguments; lists, text and booleans stay part of a block's structure."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _by_index(column: list[Any]) -> Any:
    """The values of one argument over a repeat's copies as one value, or an expression of `index`."""
    if all(value == column[0] for value in column):
        return column[0]
    if all(isinstance(value, bool) for value in column):
        true = [position for position, value in enumerate(column) if value]
        if true == list(range(true[0], len(column))):
            return f"index >= {true[0]}"
        return " or ".join(f"index == {position}" for position in true)
    runs: list[tuple[int, Any]] = []  # (last index of the run, its value)
    for position, value in enumerate(column):
        if runs and runs[-1][1] == value:
            runs[-1] = (position, value)
        else:
            runs.append((position, value))
    if len(runs) > 8:
        return None
    expression = str(runs[-1][1])
    for last, value in reversed(runs[:-1]):
        test = "index == 0" if last == 0 else f"index <= {last}"
        expression = f"{value} if {test} else {expression if expression == str(runs[-1][1]) else f'({expression})'}"
    return expression


def _layers(group: Group) -> list[Layer]:
    found: list[Layer] = []
    for entry in group.entries:
        found.extend(_layers(entry) if isinstance(entry, Group) else [entry])
    return found


def _module_kind(kind: str) -> bool:
    """Whether PyTorch code can write the kind as a module (so that writing it as a call is worth saying)."""
    from cnncalc.kinds import REGISTRY

    return kind in REGISTRY and REGISTRY[kind].pytorch_module
