"""Expand a spec into a flat DAG of layer nodes, running each node's rule as the node is created.

Expansion and shape inference happen in one pass because blocks may depend on shapes: a block sees
`in_channels` (e.g. `project: "stride != 1 or in_channels != out"`), and `when:` can drop a layer. So there is
no separate graph stage: the graph is built by running it (cnncalc.engine.runner runs each layer).

- Within a scope (cnncalc.engine.scope), entries run in dependency order (cnncalc.engine.ordering); a layer
  reads the previous entry unless it has `from:`.
- An entry whose `when:` is false is skipped, and its name then stands for its (first) input.
- An input that failed upstream has no shape: the entry's fields are still checked (they do not depend on
  shapes), its shapes are not, and the layers left so are counted for the report. The same holds for a field
  that reads the shape of such a layer (`size: spatial(layer1)`).
- Expressions read earlier layers' shapes through `ScopeShapes` of the scope they are written in: a block
  use's `args` in the caller's scope, a block's argument defaults and `vars` in the block's own.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Any

from cnncalc.base import limits
from cnncalc.base.errors import Location
from cnncalc.base.tensor import Tensor
from cnncalc.engine.estimate import LayerCountEstimate
from cnncalc.engine.issues import IssueLog
from cnncalc.engine.ordering import dependency_order, entry_kind, entry_label, shape_reads
from cnncalc.engine.runner import EntryAt, LayerRunner, Node, reads_missing_shape, shorten
from cnncalc.engine.scope import GROUP_INPUT, NETWORK_INPUT, Ref, Scope, ScopeShapes, resolve
from cnncalc.engine.structure import RESERVED_NAMES, StructureChecker, copy_name
from cnncalc.kinds import COMPOSITES, REGISTRY
from cnncalc.language.document import BlockDef, SpecDocument
from cnncalc.language.expressions import ExpressionError, LayerShapes, ShapeUnknown, Value, evaluate
from cnncalc.language.yaml_source import PathKey, SourceMap

__all__ = ["NETWORK_INPUT", "Expansion", "Node", "build_graph"]


class Expansion:
    """The expanded network: its nodes, the issues found, the network output, and what each group is."""

    def __init__(self, document: SpecDocument, source: SourceMap, input_tensor: Tensor | None) -> None:
        self.document = document
        self.source = source
        self.input_tensor = input_tensor
        self.issues = IssueLog()
        self.runner = LayerRunner(source, self.issues, input_tensor)
        self.broken_entries: set[PathKey] = set()  # entries with structural errors, already reported
        self._block_stack: list[str] = []
        self.document_variables: dict[str, Any] = {}
        self.output_ref: Ref = None  # the network output
        self.group_kinds: dict[str, str] = {}  # path of each block use, group, composite or repeat -> what it is
        self.group_outputs: dict[str, Ref] = {}  # the same paths -> the node that is their output
        self.checkpointed: list[str] = []  # paths of the entries marked `checkpoint: true` (each copy's)
        self.estimate = LayerCountEstimate(document, {})  # sizes of entries that are skipped unexpanded

    @property
    def nodes(self) -> list[Node]:
        return self.runner.nodes

    def error(self, location: Location, message: str, hint: str = "") -> None:
        self.issues.error(location, message, hint)

    def locate(self, path: PathKey, key: bool = False) -> Location:
        return self.source.locate(path, key=key)

    def tensor(self, ref: Ref) -> Tensor | None:
        return self.runner.tensor(ref)

    def not_shape_checked(self, entry: dict[str, Any], unshaped: bool) -> None:
        """Count the layers of an entry skipped without input shapes (quietly: none of its errors is known)."""
        if unshaped:
            repeat = self.estimate.repeat(entry) if "repeat" in entry else 1
            self.issues.unchecked += repeat * self.estimate.body(entry)

    def shapes(self, scope: Scope) -> ScopeShapes:
        """shape(NAME) and spatial(NAME) in the expressions written in `scope`."""
        return ScopeShapes(scope, self.tensor)

    def evaluate_variables(
        self,
        raw: Mapping[str, Any],
        path: PathKey,
        base: dict[str, Any],
        unshaped: bool = False,
        shapes: LayerShapes | None = None,
    ) -> dict[str, Any] | None:
        variables = dict(base)
        ok = True
        for name, value in raw.items():
            if name in RESERVED_NAMES:
                self.error(self.locate((*path, name), key=True), f"{name!r} is a reserved name", "rename the variable")
                ok = False
                continue
            result = self.evaluate_expression(value, variables, (*path, name), unshaped, shapes)
            if result is None:
                ok = False
                continue
            variables[name] = result
        return variables if ok else None

    def evaluate_expression(
        self,
        value: Any,
        variables: Mapping[str, Any],
        path: PathKey,
        unshaped: bool = False,
        shapes: LayerShapes | None = None,
    ) -> Value:
        """The value of a number, a list or an expression; None after reporting why there is none, or, without
        input shapes (`unshaped`) or with a shape() of a layer whose shape is unknown, quietly."""
        if isinstance(value, bool | int | float):
            return value
        if isinstance(value, list):  # a list argument: `kernel: [1, 7]`, each item a number or an expression
            items = [
                self.evaluate_expression(item, variables, (*path, i), unshaped, shapes) for i, item in enumerate(value)
            ]
            return None if any(item is None for item in items) else tuple(items)
        if not isinstance(value, str):
            got = "null" if value is None else type(value).__name__
            self.error(self.locate(path), f"expected a number, a list or an expression, got {got}")
            return None
        if unshaped and reads_missing_shape(value, variables):
            return None
        try:
            result = evaluate(value, variables, shapes)
        except ShapeUnknown:
            return None
        except ExpressionError as error:
            self.error(self.locate(path), f"cannot evaluate {shorten(value)}: {error}", error.hint)
            return None
        if result is None:
            self.error(
                self.locate(path),
                f"{shorten(value)} gives none here",
                "none stands for an optional block argument that was not given; it is no value of its own",
            )
        return result

    def evaluate_optional(
        self, value: Any, variables: Mapping[str, Any], path: PathKey, unshaped: bool, shapes: LayerShapes
    ) -> tuple[Value, bool]:
        """An optional block argument: (its value, whether it has one). YAML null, `none` and an expression
        that gives none (an optional argument of the caller, passed on) all mean "not given"."""
        if value is None or value == "none":
            return None, True
        if isinstance(value, str):
            try:
                if evaluate(value, variables, shapes) is None:
                    return None, True
            except ExpressionError:
                pass  # reported, with its location, just below
        result = self.evaluate_expression(value, variables, path, unshaped, shapes)
        return result, result is not None

    def expand_entries(
        self,
        entries: list[Any],
        path: PathKey | None,
        scope: Scope,
        default_input: Ref,
        fallback: Location | None = None,
    ) -> Ref:
        """Expand one list of entries into `scope`; return the output of the last entry."""
        order, blocked = self.run_order(entries, path, fallback)
        scope.pending.update(
            entry["name"] for entry in entries if isinstance(entry, dict) and isinstance(entry.get("name"), str)
        )
        outputs: dict[int, Ref] = {}
        skipped: list[int] = []  # sorted positions whose `when` was false: they take no number
        for position in order:
            entry = entries[position]
            entry_path = (*path, position) if path is not None else None
            if position in blocked or (entry_path is not None and entry_path in self.broken_entries):
                output: Ref = None
            else:
                previous = outputs.get(position - 1, default_input) if position > 0 else default_input
                output = self.expand_entry(entry, position, entry_path, scope, previous, fallback, skipped)
            outputs[position] = output
        return outputs.get(len(entries) - 1) if entries else default_input

    def run_order(
        self, entries: list[Any], path: PathKey | None, fallback: Location | None
    ) -> tuple[list[int], set[int]]:
        """Entries in an order where each comes after what it reads; entries on a cycle are reported."""
        ordered = dependency_order(entries)
        if ordered.cycle:
            cycle = ordered.cycle
            names = " -> ".join(entry_label(entries[p], p) for p in [*cycle, cycle[0]])
            location = self.locate((*path, cycle[0])) if path is not None else (fallback or self.locate(()))
            self.error(
                location,
                f"these entries read each other in a cycle: {names}",
                "an entry without `from:` reads the entry before it, and one with shape(NAME) or spatial(NAME) "
                "reads NAME; break the cycle by changing a `from:` or a shape()"
                if any(shape_reads(entries[p]) for p in cycle)
                else "an entry without `from:` reads the entry before it; break the cycle by changing a `from:`",
            )
        return ordered.order, ordered.blocked

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
        note = ""
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
                ref, _ = resolve(reference, scope, ref_location, self.issues)  # not found: reported, its shape unknown
                inputs.append(ref)
                note = note or self.input_in_group_note(reference, ref, scope)
        name = entry.get("name")
        # Unnamed entries are numbered like torch.nn.Sequential numbers its modules: skipped ones take no number.
        number = position - bisect.bisect_left(skipped, position)
        component = name if isinstance(name, str) else str(number)
        # An input that failed upstream has no shape: the entry's fields are still checked (they do not depend
        # on shapes), but not its shapes; expressions that read `in_channels` or `in_features` are not checked.
        unshaped = any(self.tensor(ref) is None for ref in inputs)
        first = self.tensor(inputs[0])
        variables = self.local_variables(scope.variables, first)
        shapes = self.shapes(scope)

        # when:
        when = entry.get("when", True)
        if not isinstance(when, bool):
            when = self.evaluate_expression(when, variables, (*path, "when") if path else (), unshaped, shapes)
            if when is None:
                scope.register(component, None)
                self.not_shape_checked(entry, unshaped)
                return None
        if not when:
            bisect.insort(skipped, position)
            scope.register(component, inputs[0])
            return inputs[0]

        # repeat:
        repeated = "repeat" in entry
        count = 1
        if repeated:
            count = self.evaluate_expression(
                entry["repeat"], variables, (*path, "repeat") if path else (), unshaped, shapes
            )
            if count is None:
                scope.register(component, None)
                self.not_shape_checked(entry, unshaped)
                return None
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= limits.MAX_REPEAT:
                self.error(
                    where("repeat"), f"repeat must be a whole number from 1 to {limits.MAX_REPEAT:,}, got {count!r}"
                )
                scope.register(component, None)
                return None
        frozen = entry.get("frozen", False)
        if not isinstance(frozen, bool):
            self.error(where("frozen"), "`frozen` must be true or false")
            frozen = False
        frozen = frozen or scope.frozen
        checkpointed = entry.get("checkpoint", False)
        if not isinstance(checkpointed, bool):
            self.error(
                where("checkpoint"),
                "`checkpoint` must be true or false",
                "checkpoint: true recomputes this entry's forward in a training step's backward",
            )
            checkpointed = False
        functional = entry.get("functional", False)
        if not isinstance(functional, bool):
            self.error(where("functional"), "`functional` must be true or false")
            functional = False

        at = EntryAt(entry, path, location)
        if checkpointed:  # each copy of a repeated entry is checkpointed on its own, as `frozen` freezes each
            own_path = scope.child_path(component)
            copies = [f"{own_path}.{copy_name(entry.get('copy_names'), index)}" for index in range(count)]
            self.checkpointed.extend(copies if repeated else [own_path])
        if not repeated:
            return self.expand_instance(at, scope, component, inputs, 0, frozen, functional, note)
        # The copies see the names around the entry (a repeated group's layers read them with `from:`).
        holder = Scope(prefix=scope.child_path(component), variables=scope.variables, frozen=scope.frozen, parent=scope)
        self.group_kinds[holder.prefix] = f"{entry_kind(entry)} x{count}"
        scope.register(component, holder)
        current_inputs = inputs
        output: Ref = None
        pattern = entry.get("copy_names")
        for index in range(count):
            component = copy_name(pattern, index)
            output = self.expand_instance(at, holder, component, current_inputs, index, frozen, functional, note)
            if output is None:
                # The fields of the later copies were checked in this one; their shapes cannot be.
                self.issues.unchecked += (count - index - 1) * self.estimate.body(entry)
                break
            current_inputs = [output]
        holder.output = output
        self.group_outputs[holder.prefix] = output
        return output

    @staticmethod
    def input_in_group_note(reference: Any, ref: Ref, scope: Scope) -> str:
        """Where `from: input` inside a group reads something else than the group's input, what it reads:
        said with the error of a layer that then fails (often a shortcut `add` whose shapes differ)."""
        group = scope.enclosing_group()
        if reference != "input" or group is None or ref == group.group_input:
            return ""
        return (
            f"inside group {group.prefix}, `input` is {scope.input_meaning()}, not the group's: "
            f"the group's input is `{GROUP_INPUT}`"
        )

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
        at: EntryAt,
        scope: Scope,
        component: str,
        inputs: list[Ref],
        index: int,
        frozen: bool,
        functional: bool = False,
        note: str = "",
    ) -> Ref:
        """Create one instance of an entry (a layer, composite, block use or group) as `component` of `scope`."""
        entry, location = at.entry, at.location
        full_path = scope.child_path(component)
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
            ref = self.runner.run(at, full_path, inputs, variables, frozen, functional, self.shapes(scope), note)
            scope.register(component, ref)
            return ref
        child = Scope(prefix=full_path, variables=variables, frozen=frozen)
        self.group_kinds[full_path] = entry_kind(entry)
        scope.register(component, child)
        if "type" in entry:
            ref = self.expand_composite(at, child, inputs, variables, self.shapes(scope))
        elif "block" in entry:
            ref = self.expand_block(at, child, inputs, variables, self.shapes(scope))
        else:
            child.parent = scope
            ref = self.expand_group(at, child, inputs)
        child.output = ref
        self.group_outputs[full_path] = ref
        scope.output = ref
        return ref

    def expand_group(self, at: EntryAt, child: Scope, inputs: list[Ref]) -> Ref:
        entry, path, location = at.entry, at.path, at.location
        if len(inputs) != 1:
            self.error(
                location,
                f"a group reads one input, not {len(inputs)}",
                "name the inputs inside the group with `from:` instead",
            )
            return None
        child.is_group, child.group_input = True, inputs[0]
        return self.expand_entries(
            entry["layers"], (*path, "layers") if path is not None else None, child, inputs[0], fallback=location
        )

    def expand_composite(
        self, at: EntryAt, child: Scope, inputs: list[Ref], variables: dict[str, Any], shapes: LayerShapes
    ) -> Ref:
        entry, location = at.entry, at.location
        composite = COMPOSITES[entry["type"]]
        unshaped = any(self.tensor(ref) is None for ref in inputs)
        spec = self.runner.validate_fields(composite.schema, at, variables, child.prefix, unshaped, shapes)
        if spec is None:
            self.not_shape_checked(entry, unshaped)
            return None
        expanded = composite.expand(spec)
        if len(inputs) != 1:
            self.error(location, f"{entry['type']} reads one input, not {len(inputs)}")
            return None
        return self.expand_entries(expanded, None, child, inputs[0], fallback=location)

    def expand_block(
        self,
        at: EntryAt,
        child: Scope,
        inputs: list[Ref],
        caller_variables: dict[str, Any],
        caller_shapes: LayerShapes,
    ) -> Ref:
        entry, path, location = at.entry, at.path, at.location
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
        # The block's inputs are named first: its argument defaults and `vars` may read their shapes (and
        # not its layers', which have not run yet: said so if they try).
        for input_name, ref in zip(block.inputs, inputs, strict=True):
            child.names[input_name] = ref
        child.pending.update(e["name"] for e in block.layers if isinstance(e, dict) and isinstance(e.get("name"), str))
        block_shapes = self.shapes(child)
        for arg, default in block.args.items():
            if arg in args:
                value = self.evaluate_expression(
                    args[arg], caller_variables, (*path, "args", arg) if path else (), unshaped, caller_shapes
                )
            else:
                value = self.evaluate_expression(default, variables, (*block_path, "args", arg), unshaped, block_shapes)
            if value is None:
                self.not_shape_checked(entry, unshaped)
                return None
            variables[arg] = value
        for arg in block.optional:  # not given (or given none): none, which leaves a layer's field unset
            where = (*path, "args", arg) if path else ()
            given, ok = self.evaluate_optional(args.get(arg), caller_variables, where, unshaped, caller_shapes)
            if not ok:
                self.not_shape_checked(entry, unshaped)
                return None
            variables[arg] = given
        variables = self.local_variables(variables, self.tensor(inputs[0]), caller_variables.get("index"))
        derived = self.evaluate_variables(block.vars, (*block_path, "vars"), variables, unshaped, block_shapes)
        if derived is None:
            self.not_shape_checked(entry, unshaped)
            return None
        child.variables = derived
        self._block_stack.append(name)
        try:
            last = self.expand_entries(block.layers, (*block_path, "layers"), child, inputs[0], fallback=location)
        finally:
            self._block_stack.pop()
        if block.output is not None:
            ref, found = resolve(block.output, child, self.locate((*block_path, "output")), self.issues)
            return ref if found else None
        return last


class _TooLarge(Exception):
    """Raised to stop expansion once the node limit is reached (already reported)."""


def build_graph(document: SpecDocument, source: SourceMap, input_tensor: Tensor | None) -> Expansion:
    """Expand and compute the network; without an input tensor (the input is invalid) only fields are checked."""
    builder = Expansion(document, source, input_tensor)
    scope = Scope(prefix="", variables={})
    scope.names["input"] = NETWORK_INPUT
    try:
        variables = builder.evaluate_variables(document.vars, ("vars",), {}, shapes=builder.shapes(scope))
        builder.document_variables = variables or {}
        builder.estimate = LayerCountEstimate(document, variables or {})
        builder.broken_entries = StructureChecker(document, source, builder.issues).check_document()
        too_large = builder.estimate.first_entry_over_limit(document.layers)
        if too_large is not None:
            builder.error(
                builder.locate(("layers", too_large)),
                f"the network expands to more than {limits.MAX_NODES:,} layers",
                "check the repeat counts and nested block uses; no real network is this large",
            )
        elif variables is not None:
            scope.variables = variables
            builder.output_ref = builder.expand_entries(document.layers, ("layers",), scope, NETWORK_INPUT)
    except _TooLarge:
        pass
    builder.issues.finish(source.locate(("input",)) if input_tensor is None else None, source.locate(("layers",)))
    return builder
