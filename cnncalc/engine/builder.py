"""Expand a spec into a flat DAG of layer nodes and run each node's engine rule as it is created.

Expansion and shape inference happen in one pass because blocks may depend on shapes: a block sees
`in_channels` (e.g. `project: "stride != 1 or in_channels != out"`), and `when:` can drop a layer.

Scoping:
- Each block use gets its own scope: global `vars`, the block's `args` and `vars`, `index` (position in a
  repeat), `in_channels` and `in_features` of its first input. Names inside are local; the block's inputs
  are named by its `inputs:` (default `input`).
- An inline group (`layers:` without a block) sees the names and variables of the scope around it.
- Within a scope, entries run in dependency order; a layer reads the previous entry unless it has `from:`.
  Dotted references reach inside groups and blocks (`layer1.2.conv3`); a repeated entry's name refers to
  its last instance.
- An entry whose `when:` is false is skipped, and its name then stands for its (first) input.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from cnncalc.base import limits
from cnncalc.base.errors import NOT_SHAPE_CHECKED, IssueCollector, Location, SpecIssue
from cnncalc.base.tensor import Tensor
from cnncalc.kinds import COMPOSITES, REGISTRY, LayerError, LayerResult, LayerSchema, RuleContext, all_kind_names
from cnncalc.language.document import IDENTIFIER_PATTERN, BlockDef, SpecDocument
from cnncalc.language.expressions import ExpressionError, evaluate, names_in
from cnncalc.language.pydantic_errors import did_you_mean, issues_from_validation_error
from cnncalc.language.values import admits_bool, evaluate_value, holds_bool, string_keywords
from cnncalc.language.yaml_source import PathKey, SourceMap

NETWORK_INPUT = -1  # node reference of the network input
IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
ENTRY_FIELDS = {"name", "from", "when", "repeat", "frozen"}
BLOCK_USE_FIELDS = ENTRY_FIELDS | {"block", "args"}
GROUP_FIELDS = ENTRY_FIELDS | {"layers"}
RESERVED_NAMES = {"input", "index", "in_channels", "in_features"}
COLLAPSED_NAMES = 3  # layer names shown in a warning that many layers share (all are in its `layers`)

Ref = int | None  # a node index, NETWORK_INPUT, or None: failed upstream, its shape unknown (fields still checked)


@dataclass
class Node:
    index: int
    path: str
    kind: str
    spec: LayerSchema
    inputs: tuple[int, ...]
    location: Location
    frozen: bool
    result: LayerResult


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


class Builder:
    def __init__(self, document: SpecDocument, source: SourceMap, input_tensor: Tensor | None) -> None:
        self.document = document
        self.source = source
        self.input_tensor = input_tensor
        self.nodes: list[Node] = []
        self.issues = IssueCollector()
        self._seen: set[tuple[Location, str]] = set()
        self._broken_entries: set[PathKey] = set()  # entries with structural errors, already reported
        self._block_stack: list[str] = []
        self.document_variables: dict[str, Any] = {}
        self.output_ref: Ref = None  # the network output
        self.group_kinds: dict[str, str] = {}  # path of each block use, group, composite or repeat -> what it is
        self.group_outputs: dict[str, Ref] = {}  # the same paths -> the node that is their output
        self.unchecked = 0  # layers whose fields were checked but not their shapes (an input failed upstream)
        self.first_failure: tuple[str, Location] | None = None  # the first layer whose output failed
        self.estimate = LayerCountEstimate(document, {})  # sizes of entries that are skipped unexpanded
        # warnings of layer rules, grouped by (kind, message, hint): where the group's issue is, and its layers
        self._layer_warnings: dict[tuple[str, str, str], tuple[int, list[str]]] = {}

    # ------------------------------------------------------------------------------------------- issues
    def error(self, location: Location, message: str, hint: str = "") -> None:
        if (location, message) not in self._seen:
            self._seen.add((location, message))
            self.issues.error(location, message, hint)

    def warning(self, location: Location, message: str, hint: str = "") -> None:
        if (location, message) not in self._seen:
            self._seen.add((location, message))
            self.issues.warning(location, message, hint)

    def layer_warning(self, location: Location, full_path: str, kind: str, message: str, hint: str) -> None:
        """A rule's warning; the same warning of many layers becomes one issue (see `finish`)."""
        group = (kind, message, hint)
        if group in self._layer_warnings:
            self._layer_warnings[group][1].append(full_path)
            return
        self._layer_warnings[group] = (len(self.issues.issues), [full_path])
        self.issues.warning(location, f"{full_path} ({kind}): {message}", hint)

    def failed(self, full_path: str, kind: str, location: Location) -> None:
        """Remember the first layer that has no output: what the layers not shape-checked come after."""
        if self.first_failure is None:
            self.first_failure = (f"{full_path} ({kind})", location)

    def not_shape_checked(self, entry: dict[str, Any], full_path: str, unshaped: bool) -> None:
        """Count the layers of an entry skipped without input shapes (quietly: none of its errors is known)."""
        if unshaped:
            repeat = self.estimate.repeat(entry) if "repeat" in entry else 1
            self.unchecked += repeat * self.estimate.body(entry)

    def finish(self) -> None:
        """Collapse warnings that many layers share, and say how many layers were not shape-checked."""
        for (kind, message, hint), (position, paths) in self._layer_warnings.items():
            if len(paths) > 1:
                first = self.issues.issues[position]
                shown = ", ".join(paths[:COLLAPSED_NAMES]) + (", ..." if len(paths) > COLLAPSED_NAMES else "")
                self.issues.issues[position] = SpecIssue(
                    f"{kind} in {len(paths)} layers ({shown}): {message}",
                    first.location,
                    hint,
                    "warning",
                    count=len(paths),
                    layers=tuple(paths),
                )
        if self.unchecked:
            layers = f"{self.unchecked} layer{'s' * (self.unchecked != 1)}"
            were = "were" if self.unchecked != 1 else "was"
            if self.input_tensor is None:
                where, message = self.locate(("input",)), f"{layers} {were} not shape-checked: the input is invalid"
            elif self.first_failure is not None:
                path, where = self.first_failure
                message = f"{layers} after {path} {were} not shape-checked: their input shape is unknown"
            else:
                where, message = (
                    self.locate(("layers",)),
                    f"{layers} {were} not shape-checked: their input shape is unknown",
                )
            self.issues.issues.append(
                SpecIssue(message, where, "fix the errors above, then check again", "warning", code=NOT_SHAPE_CHECKED)
            )

    def locate(self, path: PathKey, key: bool = False) -> Location:
        return self.source.locate(path, key=key)

    # ---------------------------------------------------------------------------------------- tensors
    def tensor(self, ref: Ref) -> Tensor | None:
        if ref is None:
            return None
        if ref == NETWORK_INPUT:
            return self.input_tensor
        return self.nodes[ref].result.output

    # ------------------------------------------------------------------------------------------- build
    def evaluate_variables(
        self, raw: Mapping[str, Any], path: PathKey, base: dict[str, Any], unshaped: bool = False
    ) -> dict[str, Any] | None:
        variables = dict(base)
        ok = True
        for name, value in raw.items():
            if name in RESERVED_NAMES:
                self.error(self.locate((*path, name), key=True), f"{name!r} is a reserved name", "rename the variable")
                ok = False
                continue
            result = self.evaluate_expression(value, variables, (*path, name), unshaped)
            if result is None:
                ok = False
                continue
            variables[name] = result
        return variables if ok else None

    def evaluate_expression(
        self, value: Any, variables: Mapping[str, Any], path: PathKey, unshaped: bool = False
    ) -> Any:
        """The value of a number or expression; None after reporting why there is none, or, without input
        shapes (`unshaped`), quietly for an expression that reads one."""
        if isinstance(value, bool | int | float):
            return value
        if not isinstance(value, str):
            self.error(self.locate(path), f"expected a number or an expression, got {type(value).__name__}")
            return None
        if unshaped and reads_missing_shape(value, variables):
            return None
        try:
            return evaluate(value, variables)
        except ExpressionError as error:
            self.error(self.locate(path), f"cannot evaluate {shorten(value)}: {error}", error.hint)
            return None

    # ---------------------------------------------------------------------------- structural checking
    def check_structure(self, entries: list[Any], path: PathKey) -> None:
        """Check kinds, field names and block uses without evaluating anything, so that every entry is
        checked, including those in unused blocks or behind a false `when`."""
        names: dict[str, PathKey] = {}
        for position, entry in enumerate(entries):
            entry_path = (*path, position)
            if not self.check_entry(entry, entry_path):
                self._broken_entries.add(entry_path)
                continue
            name = entry.get("name")
            if isinstance(name, str):
                if name in names:
                    self.error(
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
            self.error(location, "a layer entry must be a mapping such as `{type: conv2d, out: 64, kernel: 3}`")
            return False
        ok = True
        name = entry.get("name")
        if name is not None and not (isinstance(name, str) and IDENTIFIER.match(name)):
            self.error(
                self.locate((*path, "name")),
                f"name {name!r} is not a valid name",
                "use up to 64 ASCII letters, digits and underscores, not starting with a digit "
                "(dots are added for nesting)",
            )
            ok = False
        elif name in RESERVED_NAMES:
            self.error(self.locate((*path, "name")), f"{name!r} is a reserved name", "choose another name")
            ok = False
        markers = [key for key in ("type", "block", "layers") if key in entry]
        if len(markers) != 1:
            if markers:
                message = f"an entry has exactly one of `type`, `block` and `layers`; this one has {', '.join(markers)}"
            else:
                message = "this entry has no `type` (a layer), `block` (a block use) or `layers` (a group)"
            self.error(location, message, "e.g. `- {type: relu}` or `- {block: bottleneck, args: {...}}`")
            return False
        marker = markers[0]
        if marker == "type":
            kind = entry["type"]
            if not isinstance(kind, str) or (kind not in REGISTRY and kind not in COMPOSITES):
                self.error(
                    self.locate((*path, "type")),
                    f"unknown layer type {kind!r}",
                    did_you_mean(str(kind), all_kind_names()) or "run `cnncalc kinds` to list layer types",
                )
                return False
            schema = REGISTRY[kind].schema if kind in REGISTRY else COMPOSITES[kind].schema
            allowed = ENTRY_FIELDS | {"type"} | set(schema.model_fields)
            ok &= self.check_keys(entry, path, allowed, f"layer type {kind!r}")
        elif marker == "block":
            ok &= self.check_keys(entry, path, BLOCK_USE_FIELDS, "a block use")
            ok &= self.check_block_use(entry, path)
        else:
            ok &= self.check_keys(entry, path, GROUP_FIELDS, "a group")
            if not isinstance(entry["layers"], list) or not entry["layers"]:
                self.error(self.locate((*path, "layers")), "`layers` must be a non-empty list of entries")
                ok = False
        return ok

    def check_keys(self, entry: dict[str, Any], path: PathKey, allowed: set[str], what: str) -> bool:
        strays = self.check_cut_expressions(entry, path)
        ok = not strays
        for key in entry:
            if key in strays:
                continue
            if key not in allowed:
                self.error(
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
                self.error(
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
            self.error(self.locate((*path, "block")), f"unknown block {name!r}", hint)
            return False
        args = entry.get("args", {})
        if not isinstance(args, dict):
            self.error(self.locate((*path, "args")), "`args` must be a mapping of argument names to values")
            return False
        strays = self.check_cut_expressions(args, (*path, "args"))
        ok = not strays
        declared = blocks[name].args
        for arg in args:
            if arg not in declared and arg not in strays:
                self.error(
                    self.locate((*path, "args", arg), key=True),
                    f"block {name!r} has no argument {arg!r}",
                    did_you_mean(str(arg), declared) or "declare it under the block's `args:`",
                )
                ok = False
        for arg, default in declared.items():
            if default is None and arg not in args:
                self.error(self.locate((*path, "args")), f"block {name!r} needs argument {arg!r}")
                ok = False
        return ok

    # -------------------------------------------------------------------------------------- expansion
    def expand_entries(
        self,
        entries: list[Any],
        path: PathKey | None,
        scope: Scope,
        default_input: Ref,
        fallback: Location | None = None,
    ) -> Ref:
        """Expand one list of entries into `scope`; return the output of the last entry."""
        order, blocked = self.dependency_order(entries, path, fallback)
        outputs: dict[int, Ref] = {}
        skipped: list[int] = []  # sorted positions whose `when` was false: they take no number
        for position in order:
            entry = entries[position]
            entry_path = (*path, position) if path is not None else None
            if position in blocked or (entry_path is not None and entry_path in self._broken_entries):
                output: Ref = None
            else:
                previous = outputs.get(position - 1, default_input) if position > 0 else default_input
                output = self.expand_entry(entry, position, entry_path, scope, previous, fallback, skipped)
            outputs[position] = output
        return outputs.get(len(entries) - 1) if entries else default_input

    def dependency_order(
        self, entries: list[Any], path: PathKey | None, fallback: Location | None
    ) -> tuple[list[int], set[int]]:
        """Entries in an order where each comes after what it reads; entries on a cycle are reported."""
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
        if blocked:
            cycle = self.find_cycle(depends, blocked)
            names = " -> ".join(self.entry_label(entries[p], p) for p in [*cycle, cycle[0]])
            location = self.locate((*path, cycle[0])) if path is not None else (fallback or self.locate(()))
            self.error(
                location,
                f"these entries read each other in a cycle: {names}",
                "an entry without `from:` reads the entry before it; break the cycle by changing a `from:`",
            )
        return order + sorted(blocked), blocked

    @staticmethod
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

    @staticmethod
    def entry_kind(entry: dict[str, Any]) -> str:
        """What an entry is, for collapsed rows: its type, its block's name, or "group"."""
        if "type" in entry:
            return str(entry["type"])
        if "block" in entry:
            return str(entry["block"])
        return "group"

    @staticmethod
    def entry_label(entry: Any, position: int) -> str:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            return entry["name"]
        return f"#{position}"

    def resolve(self, reference: Any, scope: Scope, location: Location) -> tuple[Ref, bool]:
        """Find what a `from:` name refers to; returns (ref, found)."""
        if not isinstance(reference, str) or not reference:
            self.error(location, f"`from` must name an earlier layer, got {reference!r}")
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
            visible = self.visible_names(scope)
            self.error(
                location,
                f"unknown reference {reference!r}",
                did_you_mean(head, visible) or f"names visible here: {', '.join(sorted(visible)) or 'none'}",
            )
            return None, False
        for part in rest:
            if not isinstance(target, Scope) or part not in target.names:
                inner = sorted(target.names) if isinstance(target, Scope) else []
                self.error(
                    location,
                    f"unknown reference {reference!r}: no {part!r} inside",
                    did_you_mean(part, inner) if inner else "only groups and blocks have names inside",
                )
                return None, False
            target = target.names[part]
        if isinstance(target, Scope):
            return target.output, True
        return target, True

    @staticmethod
    def visible_names(scope: Scope) -> set[str]:
        names: set[str] = set()
        current: Scope | None = scope
        while current is not None:
            names.update(current.names)
            current = current.parent
        return names

    def expand_entry(
        self,
        entry: dict[str, Any],
        position: int,
        path: PathKey | None,
        scope: Scope,
        previous: Ref,
        fallback: Location | None,
        skipped: list[int],
    ) -> Ref:
        location = self.locate(path) if path is not None else (fallback or self.locate(()))

        def where(*keys: str | int) -> Location:
            return self.locate((*path, *keys)) if path is not None else location

        # Inputs
        sources = entry.get("from")
        if sources is None:
            inputs: list[Ref] = [previous]
        else:
            listed = sources if isinstance(sources, list) else [sources]
            if not listed:
                self.error(where("from"), "`from` lists no inputs")
                return None
            inputs = []
            for index, reference in enumerate(listed):
                ref_location = where("from", index) if isinstance(sources, list) else where("from")
                ref, _ = self.resolve(reference, scope, ref_location)  # not found: reported, its shape unknown
                inputs.append(ref)
        name = entry.get("name")
        # Unnamed entries are numbered like torch.nn.Sequential numbers its modules: skipped ones take no number.
        number = position - bisect.bisect_left(skipped, position)
        component = name if isinstance(name, str) else str(number)
        # An input that failed upstream has no shape: the entry's fields are still checked (they do not depend
        # on shapes), but not its shapes; expressions that read `in_channels` or `in_features` are not checked.
        unshaped = any(self.tensor(ref) is None for ref in inputs)
        first = self.tensor(inputs[0])
        variables = self.local_variables(scope.variables, first)

        # when:
        when = entry.get("when", True)
        if not isinstance(when, bool):
            when = self.evaluate_expression(when, variables, (*path, "when") if path else (), unshaped)
            if when is None:
                self.register(scope, component, None)
                self.not_shape_checked(entry, scope.child_path(component), unshaped)
                return None
        if not when:
            bisect.insort(skipped, position)
            self.register(scope, component, inputs[0])
            return inputs[0]

        # repeat:
        repeated = "repeat" in entry
        count = 1
        if repeated:
            count = self.evaluate_expression(entry["repeat"], variables, (*path, "repeat") if path else (), unshaped)
            if count is None:
                self.register(scope, component, None)
                self.not_shape_checked(entry, scope.child_path(component), unshaped)
                return None
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= limits.MAX_REPEAT:
                self.error(
                    where("repeat"), f"repeat must be a whole number from 1 to {limits.MAX_REPEAT:,}, got {count!r}"
                )
                self.register(scope, component, None)
                return None
        frozen = entry.get("frozen", False)
        if not isinstance(frozen, bool):
            self.error(where("frozen"), "`frozen` must be true or false")
            frozen = False
        frozen = frozen or scope.frozen

        if not repeated:
            output = self.expand_instance(
                entry, path, scope, component, scope.child_path(component), inputs, 0, location, frozen
            )
            return output
        holder = Scope(prefix=scope.child_path(component), variables=scope.variables, frozen=scope.frozen)
        self.group_kinds[holder.prefix] = f"{self.entry_kind(entry)} x{count}"
        self.register(scope, component, holder)
        current_inputs = inputs
        output: Ref = None
        for index in range(count):
            output = self.expand_instance(
                entry, path, holder, str(index), holder.child_path(str(index)), current_inputs, index, location, frozen
            )
            if output is None:
                # The fields of the later copies were checked in this one; their shapes cannot be.
                self.unchecked += (count - index - 1) * self.estimate.body(entry)
                break
            current_inputs = [output]
        holder.output = output
        self.group_outputs[holder.prefix] = output
        return output

    def register(self, scope: Scope, component: str, value: Ref | Scope) -> None:
        scope.names[component] = value
        scope.output = value.output if isinstance(value, Scope) else value

    def local_variables(
        self, variables: Mapping[str, Any], first: Tensor | None, index: int | None = None
    ) -> dict[str, Any]:
        local = dict(variables)
        if first is not None:
            if first.channels is not None:
                local["in_channels"] = first.channels
            local["in_features"] = first.shape[-1]
        if index is not None:
            local["index"] = index
        return local

    def expand_instance(
        self,
        entry: dict[str, Any],
        path: PathKey | None,
        scope: Scope,
        component: str,
        full_path: str,
        inputs: list[Ref],
        index: int,
        location: Location,
        frozen: bool,
    ) -> Ref:
        """Create one instance of an entry (a layer, composite, block use or group)."""
        if full_path.count(".") >= limits.MAX_NESTING:
            self.error(
                location,
                f"blocks and groups are nested more than {limits.MAX_NESTING} levels deep here ({full_path[:80]}...)",
                "flatten the structure; real networks nest a few levels",
            )
            raise _TooLarge
        if len(self.nodes) >= limits.MAX_NODES:
            self.error(
                location,
                f"the network expands to more than {limits.MAX_NODES:,} layers",
                "lower the repeat counts; no real network is this large",
            )
            raise _TooLarge
        variables = self.local_variables(scope.variables, self.tensor(inputs[0]), index)
        if "type" in entry and entry["type"] in REGISTRY:
            ref = self.add_layer(entry, path, full_path, inputs, variables, location, frozen)
            self.register(scope, component, ref)
            return ref
        child = Scope(prefix=full_path, variables=variables, frozen=frozen)
        self.group_kinds[full_path] = self.entry_kind(entry)
        self.register(scope, component, child)
        if "type" in entry:
            ref = self.expand_composite(entry, path, child, inputs, variables, location)
        elif "block" in entry:
            ref = self.expand_block(entry, path, child, inputs, variables, location)
        else:
            child.parent = scope
            ref = self.expand_group(entry, path, child, inputs, location)
        child.output = ref
        self.group_outputs[full_path] = ref
        scope.output = ref
        return ref

    def expand_group(
        self, entry: dict[str, Any], path: PathKey | None, child: Scope, inputs: list[Ref], location: Location
    ) -> Ref:
        if len(inputs) != 1:
            self.error(
                location,
                f"a group reads one input, not {len(inputs)}",
                "name the inputs inside the group with `from:` instead",
            )
            return None
        return self.expand_entries(
            entry["layers"], (*path, "layers") if path is not None else None, child, inputs[0], fallback=location
        )

    def expand_composite(
        self,
        entry: dict[str, Any],
        path: PathKey | None,
        child: Scope,
        inputs: list[Ref],
        variables: dict[str, Any],
        location: Location,
    ) -> Ref:
        composite = COMPOSITES[entry["type"]]
        unshaped = any(self.tensor(ref) is None for ref in inputs)
        spec = self.validate_fields(composite.schema, entry, path, variables, location, child.prefix, unshaped)
        if spec is None:
            self.not_shape_checked(entry, child.prefix, unshaped)
            return None
        expanded = composite.expand(spec)
        if len(inputs) != 1:
            self.error(location, f"{entry['type']} reads one input, not {len(inputs)}")
            return None
        return self.expand_entries(expanded, None, child, inputs[0], fallback=location)

    def expand_block(
        self,
        entry: dict[str, Any],
        path: PathKey | None,
        child: Scope,
        inputs: list[Ref],
        caller_variables: dict[str, Any],
        location: Location,
    ) -> Ref:
        name = entry["block"]
        block: BlockDef = self.document.blocks[name]
        if name in self._block_stack:
            chain = " -> ".join([*self._block_stack, name])
            self.error(location, f"block {name!r} uses itself ({chain})", "blocks cannot be recursive")
            return None
        if len(self._block_stack) >= limits.MAX_BLOCK_DEPTH:
            self.error(location, f"blocks are nested more than {limits.MAX_BLOCK_DEPTH} deep")
            return None
        if len(inputs) != len(block.inputs):
            self.error(
                self.locate((*path, "from")) if path is not None else location,
                f"block {name!r} takes {len(block.inputs)} input(s) ({', '.join(block.inputs)}), given {len(inputs)}",
                "list one `from:` reference per block input",
            )
            return None
        block_path: PathKey = ("blocks", name)
        variables = {key: value for key, value in self.document_variables.items()}
        args = entry.get("args") or {}
        unshaped = any(self.tensor(ref) is None for ref in inputs)
        for arg, default in block.args.items():
            if arg in args:
                value = self.evaluate_expression(
                    args[arg], caller_variables, (*path, "args", arg) if path else (), unshaped
                )
            else:
                value = self.evaluate_expression(default, variables, (*block_path, "args", arg), unshaped)
            if value is None:
                self.not_shape_checked(entry, child.prefix, unshaped)
                return None
            variables[arg] = value
        variables = self.local_variables(variables, self.tensor(inputs[0]), caller_variables.get("index"))
        derived = self.evaluate_variables(block.vars, (*block_path, "vars"), variables, unshaped)
        if derived is None:
            self.not_shape_checked(entry, child.prefix, unshaped)
            return None
        child.variables = derived
        for input_name, ref in zip(block.inputs, inputs, strict=True):
            child.names[input_name] = ref
        self._block_stack.append(name)
        try:
            last = self.expand_entries(block.layers, (*block_path, "layers"), child, inputs[0], fallback=location)
        finally:
            self._block_stack.pop()
        if block.output is not None:
            ref, found = self.resolve(block.output, child, self.locate((*block_path, "output")))
            return ref if found else None
        return last

    def validate_fields(
        self,
        schema: type[LayerSchema],
        entry: dict[str, Any],
        path: PathKey | None,
        variables: Mapping[str, Any],
        location: Location,
        full_path: str,
        unshaped: bool = False,
    ) -> LayerSchema | None:
        """Evaluate an entry's expressions and validate its fields; errors name the instance (`layer2.0.conv1`),
        since the same block definition may be used in several places with different arguments.

        Without input shapes (`unshaped`), a field whose expression reads `in_channels` or `in_features` is
        left out, and so are the schema's complaints about it; None is returned then, as there is no spec.
        """
        prefix = f"{full_path} ({entry.get('type')}): "
        values: dict[str, Any] = {}
        left_out: set[str] = set()
        ok = True
        for key, raw in entry.items():
            if key in ENTRY_FIELDS or key == "type":
                continue
            if unshaped and reads_missing_shape(raw, variables):
                left_out.add(key)
                continue
            try:
                values[key] = evaluate_value(raw, string_keywords(schema, key), variables)
            except ExpressionError as error:
                message = f"{prefix}{key}: cannot evaluate {shorten(raw)}: {error}"
                self.error(self.locate((*path, key)) if path else location, message, error.hint)
                ok = False
                continue
            if not admits_bool(schema, key) and holds_bool(values[key]):
                self.error(self.locate((*path, key)) if path else location, *bool_for_number(prefix, key, raw))
                ok = False
        if not ok:
            return None
        try:
            spec = schema.model_validate(values)
        except ValidationError as error:
            base: PathKey = path if path is not None else ()
            for issue in issues_from_validation_error(
                error, base, self.source, values, lambda _: list(schema.model_fields), left_out
            ):
                self.error(issue.location if path is not None else location, prefix + issue.message, issue.hint)
            return None
        return None if left_out else spec

    def add_layer(
        self,
        entry: dict[str, Any],
        path: PathKey | None,
        full_path: str,
        inputs: list[Ref],
        variables: Mapping[str, Any],
        location: Location,
        frozen: bool,
    ) -> Ref:
        kind = REGISTRY[entry["type"]]
        tensors = [self.tensor(ref) for ref in inputs]
        unshaped = any(tensor is None for tensor in tensors)
        spec = self.validate_fields(kind.schema, entry, path, variables, location, full_path, unshaped)
        count = len(inputs)
        if count < kind.min_inputs or (kind.max_inputs is not None and count > kind.max_inputs):
            wanted = str(kind.min_inputs) if kind.min_inputs == kind.max_inputs else f"at least {kind.min_inputs}"
            self.error(
                location,
                f"{kind.name} takes {wanted} input(s), given {count}",
                "list the inputs with `from: [a, b]`" if kind.min_inputs > 1 else "",
            )
            spec = None
        if unshaped:
            self.unchecked += 1
            return None
        if spec is None:
            self.failed(full_path, kind.name, location)
            return None
        context = RuleContext()
        try:
            result = kind.rule(spec, tensors, context)  # type: ignore[arg-type]
        except LayerError as error:
            self.error(location, f"{full_path} ({kind.name}): {error.message}", error.hint)
            self.failed(full_path, kind.name, location)
            return None
        for message, hint in context.errors:
            self.error(location, f"{full_path} ({kind.name}): {message}", hint)
        for message, hint in context.warnings:
            self.layer_warning(location, full_path, kind.name, message, hint)
        output = result.output
        if any(size > limits.MAX_DIMENSION for size in output.shape) or output.numel > limits.MAX_NUMEL:
            self.error(
                location,
                f"{full_path} ({kind.name}): output shape {output.shape} is too large for any tensor",
                f"axes are limited to {limits.MAX_DIMENSION:,} and tensors to 2^63 - 1 elements",
            )
            self.failed(full_path, kind.name, location)
            return None
        node = Node(len(self.nodes), full_path, kind.name, spec, tuple(inputs), location, frozen, result)  # type: ignore[arg-type]
        self.nodes.append(node)
        return node.index


SHAPE_VARIABLES = ("in_channels", "in_features")


def reads_missing_shape(value: Any, variables: Mapping[str, Any]) -> bool:
    """Whether an expression (or a list holding one) reads `in_channels` or `in_features` that are not set:
    without input shapes its value is unknown, not wrong."""
    if isinstance(value, list):
        return any(reads_missing_shape(item, variables) for item in value)
    if not isinstance(value, str):
        return False
    return any(name in names_in(value) for name in SHAPE_VARIABLES if name not in variables)


def _unclosed(text: str) -> int:
    """How many more `(` than `)` a text holds."""
    return text.count("(") - text.count(")")


def bool_for_number(prefix: str, key: str, raw: Any) -> tuple[str, str]:
    """Message and hint for a boolean given to a field that takes numbers: pydantic would read true as 1."""
    if isinstance(raw, str):
        return (
            f"{prefix}{key}: {shorten(raw)} gives true or false, not a number",
            "a comparison gives true or false; choose a number with `a if condition else b`",
        )
    return (
        f"{prefix}{key}: expected a number, got {str(raw).lower() if isinstance(raw, bool) else shorten(raw)}",
        "true and false are not numbers here (YAML 1.1 tools read them as 1 and 0); write the number",
    )


def shorten(value: Any, limit: int = 60) -> str:
    """repr() of a value for a message, cut short so a hostile 100 KB expression is not echoed whole."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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

    def entries(self, entries: list[Any]) -> int:
        total = 0
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            total += self.repeat(entry) * self.body(entry)
            if total > limits.MAX_NODES:
                break
        return total

    def first_entry_over_limit(self, entries: list[Any]) -> int | None:
        """Position of the top-level entry at which the running total passes the limit, if it does."""
        total = 0
        for position, entry in enumerate(entries):
            if isinstance(entry, dict):
                total += self.repeat(entry) * self.body(entry)
            if total > limits.MAX_NODES:
                return position
        return None

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


class _TooLarge(Exception):
    """Raised to stop expansion once the node limit is reached (already reported)."""


def build_graph(document: SpecDocument, source: SourceMap, input_tensor: Tensor | None) -> Builder:
    """Expand and compute the network; without an input tensor (the input is invalid) only fields are checked."""
    builder = Builder(document, source, input_tensor)
    try:
        variables = builder.evaluate_variables(document.vars, ("vars",), {})
        builder.document_variables = variables or {}
        builder.estimate = LayerCountEstimate(document, variables or {})
        builder.check_structure(document.layers, ("layers",))
        for name, block in document.blocks.items():
            builder.check_structure(block.layers, ("blocks", name, "layers"))
        too_large = LayerCountEstimate(document, variables or {}).first_entry_over_limit(document.layers)
        if too_large is not None:
            builder.error(
                builder.locate(("layers", too_large)),
                f"the network expands to more than {limits.MAX_NODES:,} layers",
                "check the repeat counts and nested block uses; no real network is this large",
            )
        elif variables is not None:
            scope = Scope(prefix="", variables=variables)
            scope.names["input"] = NETWORK_INPUT
            builder.output_ref = builder.expand_entries(document.layers, ("layers",), scope, NETWORK_INPUT)
    except _TooLarge:
        pass
    builder.finish()
    return builder
