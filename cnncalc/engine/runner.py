"""Running one layer: its fields evaluated and validated against its kind's schema, then its kind's rule.

Errors name the instance (`layer2.0.conv1 (conv2d): ...`), since the same block definition may be used in
several places with different arguments; the issue's subject carries the same facts as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import ValidationError

from cnncalc.base import limits
from cnncalc.base.errors import Location
from cnncalc.base.tensor import Tensor
from cnncalc.engine.issues import IssueLog
from cnncalc.engine.scope import NETWORK_INPUT, Ref
from cnncalc.engine.structure import LAYER_FIELDS
from cnncalc.kinds import REGISTRY, LayerError, LayerResult, LayerSchema, RuleContext
from cnncalc.language.expressions import ExpressionError, LayerShapes, ShapeUnknown, names_in
from cnncalc.language.pydantic_errors import issues_from_validation_error
from cnncalc.language.values import admits_bool, evaluate_value, holds_bool, string_keywords
from cnncalc.language.yaml_source import PathKey, SourceMap


class EntryAt(NamedTuple):
    """An entry of the spec and where it is: its path in the YAML document (None for the parts a composite
    kind expands into, which are written nowhere) and the location its errors point at."""

    entry: dict[str, Any]
    path: PathKey | None
    location: Location

    def locate(self, source: SourceMap, *keys: str | int) -> Location:
        """Where a field of the entry is (the entry's own location when it is written nowhere)."""
        return source.locate((*self.path, *keys)) if self.path is not None else self.location


@dataclass
class Node:
    """One layer of the expanded network, with what its rule computed."""

    index: int
    path: str
    kind: str
    spec: LayerSchema
    inputs: tuple[int, ...]
    location: Location
    frozen: bool
    result: LayerResult
    functional: bool = False  # a function call in the source model's forward, not a registered module


class LayerRunner:
    """Validates and runs layers in the order expansion creates them; holds the nodes made so far."""

    def __init__(self, source: SourceMap, log: IssueLog, input_tensor: Tensor | None) -> None:
        self.source = source
        self.log = log
        self.input_tensor = input_tensor
        self.nodes: list[Node] = []

    def tensor(self, ref: Ref) -> Tensor | None:
        """The output of a node, the network input, or None (failed upstream: its shape is unknown)."""
        if ref is None:
            return None
        if ref == NETWORK_INPUT:
            return self.input_tensor
        return self.nodes[ref].result.output

    def validate_fields(
        self,
        schema: type[LayerSchema],
        at: EntryAt,
        variables: Mapping[str, Any],
        full_path: str,
        unshaped: bool = False,
        shapes: LayerShapes | None = None,
    ) -> LayerSchema | None:
        """Evaluate an entry's expressions and validate its fields; errors name the instance (`layer2.0.conv1`),
        since the same block definition may be used in several places with different arguments.

        Without input shapes (`unshaped`), a field whose expression reads `in_channels` or `in_features` is
        left out, and so are the schema's complaints about it; None is returned then, as there is no spec. So
        is a field that reads the shape of a layer whose shape is not known (`shape(layer1)`).
        A field whose expression gives `none` (an optional block argument not given) is left unset: the kind's
        default applies.
        """
        entry, path, location = at.entry, at.path, at.location
        kind = str(entry.get("type"))
        values: dict[str, Any] = {}
        left_out: set[str] = set()
        ok = True
        for key, raw in entry.items():
            if key in LAYER_FIELDS or key == "type":
                continue
            if unshaped and reads_missing_shape(raw, variables):
                left_out.add(key)
                continue
            try:
                value = evaluate_value(raw, string_keywords(schema, key), variables, shapes)
            except ShapeUnknown:
                left_out.add(key)
                continue
            except ExpressionError as error:
                detail, hint = f"{key}: cannot evaluate {shorten(raw)}: {error}", error.hint
                if reads_missing_shape(raw, variables, ("in_channels",)):
                    # Shapes are known, so only the channel axis can be: cnncalc never guesses which it is.
                    detail = (
                        f"{key}: {shorten(raw)} reads in_channels, but which axis of this layer's input holds the "
                        "channels is not known (a reshape or a merge left it open)"
                    )
                    hint = "name the axes with the reshape's `roles:` (e.g. [other, channels]), or read in_features"
                self.log.layer_error(at.locate(self.source, key), full_path, kind, detail, hint, field=key)
                ok = False
                continue
            if value is None and isinstance(raw, str):
                continue  # `none`: not given
            values[key] = value
            if not admits_bool(schema, key) and holds_bool(values[key]):
                detail, hint = bool_for_number(key, raw)
                self.log.layer_error(at.locate(self.source, key), full_path, kind, detail, hint, field=key)
                ok = False
        if not ok:
            return None
        try:
            spec = schema.model_validate(values)
        except ValidationError as error:
            base: PathKey = path if path is not None else ()
            issues = issues_from_validation_error(
                error, base, self.source, values, lambda _: list(schema.model_fields), left_out
            )
            # in the order the fields are written, whatever the order of the schema's fields
            for issue in sorted(issues, key=lambda issue: (issue.location.line, issue.location.column)):
                where = issue.location if path is not None else location
                self.log.layer_error(where, full_path, kind, issue.message, issue.hint)
            return None
        return None if left_out else spec

    def run(
        self,
        at: EntryAt,
        full_path: str,
        inputs: list[Ref],
        variables: Mapping[str, Any],
        frozen: bool,
        functional: bool = False,
        shapes: LayerShapes | None = None,
        note: str = "",
    ) -> Ref:
        """Validate one layer's fields and run its kind's rule; the node's index, or None when it has no output.
        `note` is added to the hint of the rule's error (what the entry's `from:` means, where it may surprise)."""
        location = at.location
        kind = REGISTRY[at.entry["type"]]
        tensors = [self.tensor(ref) for ref in inputs]
        unshaped = any(tensor is None for tensor in tensors)
        spec = self.validate_fields(kind.schema, at, variables, full_path, unshaped, shapes)
        count = len(inputs)
        if count < kind.min_inputs or (kind.max_inputs is not None and count > kind.max_inputs):
            wanted = str(kind.min_inputs) if kind.min_inputs == kind.max_inputs else f"at least {kind.min_inputs}"
            self.log.layer_error(
                location,
                full_path,
                kind.name,
                f"{kind.name} takes {wanted} input(s), given {count}",
                "list the inputs with `from: [a, b]`" if kind.min_inputs > 1 else "",
            )
            spec = None
        if unshaped:
            self.log.unchecked += 1
            return None
        if spec is None:
            self.log.failed(full_path, kind.name, location)
            return None
        context = RuleContext()
        try:
            result = kind.rule(spec, tensors, context)  # type: ignore[arg-type]
        except LayerError as error:
            hint = f"{error.hint}; {note}" if error.hint and note else error.hint or note
            self.log.layer_error(location, full_path, kind.name, error.message, hint)
            self.log.failed(full_path, kind.name, location)
            return None
        for message, hint in context.errors:  # the rule still gave an output
            self.log.layer_error(location, full_path, kind.name, message, hint, stops=False)
        for message, hint in context.warnings:
            self.log.layer_warning(location, full_path, kind.name, message, hint)
        output = result.output
        if any(size > limits.MAX_DIMENSION for size in output.shape) or output.numel > limits.MAX_NUMEL:
            self.log.layer_error(
                location,
                full_path,
                kind.name,
                f"output shape {output.shape} is too large for any tensor",
                f"axes are limited to {limits.MAX_DIMENSION:,} and tensors to 2^63 - 1 elements",
            )
            self.log.failed(full_path, kind.name, location)
            return None
        if functional and (result.params or result.buffers):
            message, hint = functional_with_state(kind.name, result)
            where = at.locate(self.source, "functional")
            self.log.layer_error(where, full_path, kind.name, message, hint, field="functional", stops=False)
        node = Node(len(self.nodes), full_path, kind.name, spec, tuple(inputs), location, frozen, result, functional)  # type: ignore[arg-type]
        self.nodes.append(node)
        return node.index


def functional_with_state(kind: str, result: LayerResult) -> tuple[str, str]:
    """Message and hint for `functional: true` on a layer that holds parameters or buffers."""
    held = [
        f"{count:,} {what}" for count, what in ((result.params, "parameters"), (result.buffers, "buffers")) if count
    ]
    return (
        f"`functional: true` needs a layer without parameters or buffers; this {kind} has {' and '.join(held)}",
        "drop `functional`: parameters and buffers belong to a module; only stateless layers (activations, "
        "pooling, reshaping, a norm without affine weights or running statistics) are function calls",
    )


SHAPE_VARIABLES = ("in_channels", "in_features")


def reads_missing_shape(value: Any, variables: Mapping[str, Any], names: tuple[str, ...] = SHAPE_VARIABLES) -> bool:
    """Whether an expression (or a list holding one) reads `in_channels` or `in_features` (of `names`) that are
    not set: without input shapes its value is unknown, not wrong."""
    if isinstance(value, list):
        return any(reads_missing_shape(item, variables, names) for item in value)
    if not isinstance(value, str):
        return False
    return any(name in names_in(value) for name in names if name not in variables)


def bool_for_number(key: str, raw: Any) -> tuple[str, str]:
    """Message and hint for a boolean given to a field that takes numbers: pydantic would read true as 1."""
    if isinstance(raw, str):
        return (
            f"{key}: {shorten(raw)} gives true or false, not a number",
            "a comparison gives true or false; choose a number with `a if condition else b`",
        )
    return (
        f"{key}: expected a number, got {str(raw).lower() if isinstance(raw, bool) else shorten(raw)}",
        "true and false are not numbers here (YAML 1.1 tools read them as 1 and 0); write the number",
    )


def shorten(value: Any, limit: int = 60) -> str:
    """repr() of a value for a message, cut short so a hostile 100 KB expression is not echoed whole."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
