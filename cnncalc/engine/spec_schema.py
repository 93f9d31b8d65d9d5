"""The spec language as a JSON Schema, for editors (yaml-language-server: completion, hover, checks as you type).

Generated from what the validator itself uses, so that the two cannot drift apart: the document models
(cnncalc.language.document), every layer kind's schema and summary (cnncalc.kinds), the fields every entry
takes (cnncalc.engine.structure) and the language's rule for which strings are expressions
(cnncalc.language.values.string_keywords).

The dialect is draft-07, the newest that yaml-language-server states it supports. Layer entries are told
apart by `type` with if/then, so an editor completes and checks the fields of the kind written; unknown fields
are refused wherever the validator refuses them. The schema checks what can be checked without evaluating
anything: a string in a numeric or boolean field is an expression, accepted here and evaluated by `validate`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from pydantic import BaseModel

from cnncalc.base import limits
from cnncalc.engine.structure import (
    BLOCK_USE_FIELDS,
    ENTRY_FIELD_DESCRIPTIONS,
    ENTRY_FIELDS,
    GROUP_FIELDS,
    LAYER_FIELDS,
    RESERVED_NAMES,
)
from cnncalc.kinds import COMPOSITES, REGISTRY
from cnncalc.language.document import IDENTIFIER_PATTERN, LAYER_NAME_PATTERN, SpecDocument
from cnncalc.language.values import FREE_TEXT, string_keywords

DIALECT = "http://json-schema.org/draft-07/schema#"
SCHEMA_FILE_NAME = "cnncalc.schema.json"  # beside the bundled specs, which name it in their modeline
MODELINE = f"# yaml-language-server: $schema={SCHEMA_FILE_NAME}"

_EXPRESSION = {"$ref": "#/definitions/expression"}
_NUMERIC_TYPES = {"integer", "number", "boolean"}


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft-07) of a spec file."""
    document = _clean(SpecDocument.model_json_schema(ref_template="#/definitions/{model}"))
    definitions = document.pop("$defs")
    document["properties"]["layers"] = {**document["properties"]["layers"], "items": {"$ref": "#/definitions/entry"}}
    definitions["BlockDef"]["properties"]["layers"] = {
        **definitions["BlockDef"]["properties"]["layers"],
        "items": {"$ref": "#/definitions/entry"},
    }
    definitions.update(
        {
            "expression": {
                "type": "string",
                "minLength": 1,
                "description": "An expression, evaluated when the spec is checked: numbers, variables, "
                "+ - * / // % **, comparisons, and/or/not, `x if c else y`, lists, none, and the functions "
                "min max abs int float round floor ceil sqrt len make_divisible shape spatial.",
            },
            "entry": _entry_schema(),
            **_entry_field_definitions(),
        }
    )
    return {
        "$schema": DIALECT,
        "title": "cnncalc spec",
        **document,
        "definitions": dict(sorted(definitions.items())),
    }


def schema_text() -> str:
    """The schema as written to a file (`cnncalc schema`, specs/cnncalc.schema.json)."""
    return json.dumps(spec_json_schema(), indent=2, ensure_ascii=False) + "\n"


def _entry_field_definitions() -> dict[str, Any]:
    """The fields every entry takes, each defined once and referred to by the entry kinds that take it."""
    described = {name: {"description": text} for name, text in ENTRY_FIELD_DESCRIPTIONS.items()}
    reference = {"type": "string", "minLength": 1}
    fields: dict[str, Any] = {
        "name": {"type": "string", "pattern": LAYER_NAME_PATTERN, "not": {"enum": sorted(RESERVED_NAMES)}},
        "from": {"anyOf": [reference, {"type": "array", "items": reference, "minItems": 1}]},
        "when": {"anyOf": [{"type": "boolean"}, _EXPRESSION]},
        "repeat": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": limits.MAX_REPEAT}, _EXPRESSION]},
        "copy_names": {"type": "string", "pattern": r"\{index\}"},
        "frozen": {"type": "boolean", "default": False},
        "checkpoint": {"type": "boolean", "default": False},
        "functional": {"type": "boolean", "default": False},
        "block": {"type": "string", "pattern": IDENTIFIER_PATTERN},
        "args": {"type": "object", "propertyNames": {"pattern": IDENTIFIER_PATTERN}},
        "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/entry"}},
    }
    missing = set(fields) ^ set(ENTRY_FIELD_DESCRIPTIONS)
    if missing:  # pragma: no cover - a field added to the structure checker without its schema, or the reverse
        raise RuntimeError(f"entry fields without a schema or a description: {sorted(missing)}")
    return {f"entry.{name}": {**schema, **described[name]} for name, schema in fields.items()}


def _entry_schema() -> dict[str, Any]:
    """One entry of a `layers` list: a layer (`type`), a block use (`block`) or a group (`layers`)."""
    markers = ("type", "block", "layers")
    every_field = sorted(LAYER_FIELDS | BLOCK_USE_FIELDS | GROUP_FIELDS)
    kinds = {name: (kind.schema, kind.summary, False) for name, kind in REGISTRY.items()}
    kinds.update({name: (kind.schema, kind.summary, True) for name, kind in COMPOSITES.items()})
    properties: dict[str, Any] = {
        "type": {
            "description": "The layer kind (`cnncalc kinds` lists them with their fields).",
            "anyOf": [{"const": name, "description": kinds[name][1]} for name in sorted(kinds)],
        },
        **{name: {"$ref": f"#/definitions/entry.{name}"} for name in every_field},
    }
    conditions = [
        {
            "if": {"required": ["type"], "properties": {"type": {"const": name}}},
            "then": _layer_schema(name, schema, summary, composite),
        }
        for name, (schema, summary, composite) in sorted(kinds.items())
    ]
    conditions.append({"if": {"required": ["block"]}, "then": _closed(BLOCK_USE_FIELDS | {"block"}, ["block"])})
    conditions.append({"if": {"required": ["layers"]}, "then": _closed(GROUP_FIELDS | {"layers"}, ["layers"])})
    return {
        "type": "object",
        "description": "A layer `{type: conv2d, ...}`, a block use `{block: NAME, args: {...}}` or a group "
        "`{name: NAME, layers: [...]}`.",
        "properties": properties,
        "oneOf": [{"required": [marker]} for marker in markers],  # exactly one of them
        "allOf": conditions,
    }


def _closed(fields: set[str], required: list[str]) -> dict[str, Any]:
    return {
        "properties": {name: {"$ref": f"#/definitions/entry.{name}"} for name in sorted(fields)},
        "required": required,
        "additionalProperties": False,
    }


def _layer_schema(name: str, schema: type[BaseModel], summary: str, composite: bool) -> dict[str, Any]:
    """The fields of layer kind `name`: its own (numbers and booleans may be expressions) and the entry's."""
    generated = _clean(schema.model_json_schema())
    own = {
        field: _with_expressions(value) if string_keywords(schema, field) is not FREE_TEXT else value
        for field, value in generated.get("properties", {}).items()
    }
    # as the structure checker: a composite expands into several layers, so `functional` is not for it
    entry_fields = ENTRY_FIELDS if composite else LAYER_FIELDS
    properties = {
        "type": {"const": name, "description": summary},
        **{field: {"$ref": f"#/definitions/entry.{field}"} for field in sorted(entry_fields)},
        **own,
    }
    return {
        "description": summary,
        "properties": properties,
        "required": ["type", *generated.get("required", [])],
        "additionalProperties": False,
    }


def _with_expressions(node: dict[str, Any]) -> dict[str, Any]:
    """A field's schema where the language takes an expression: for the whole value, and for each number or
    boolean inside a list (`kernel: [1, k]`). Pure keyword fields (`mode: nearest`) stay as they are."""
    if not _mentions_numbers(node):
        return node
    node = copy.deepcopy(node)
    annotations = {key: node.pop(key) for key in ("default", "description") if key in node}
    branches = node.pop("anyOf") if "anyOf" in node else [node]
    rewritten = [_items_with_expressions(branch) for branch in branches]
    return {"anyOf": [*rewritten, _EXPRESSION], **annotations}


def _items_with_expressions(node: dict[str, Any]) -> dict[str, Any]:
    if "items" in node:
        return {**node, "items": _with_expressions(node["items"])}
    if "anyOf" in node:
        return {**node, "anyOf": [_items_with_expressions(branch) for branch in node["anyOf"]]}
    return node


def _mentions_numbers(node: Any) -> bool:
    if isinstance(node, dict):
        return node.get("type") in _NUMERIC_TYPES or any(_mentions_numbers(value) for value in node.values())
    if isinstance(node, list):
        return any(_mentions_numbers(item) for item in node)
    return False


def _clean(node: Any) -> Any:
    """Pydantic's schema in draft-07 terms, without its generated titles (noise in hover text).

    Booleans are taken as pydantic reads them (true, false, 1, 0); bounds pydantic leaves as `ge`/`le` (on an
    annotated type with a validator) become minimum/maximum; a mapping whose keys must match a pattern says so
    with propertyNames (patternProperties alone would let other keys through, which the validator refuses).
    """
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") == "boolean":  # pydantic reads 0 and 1 as false and true, and so does the validator
        return {
            "anyOf": [{"type": "boolean"}, {"enum": [0, 1]}],
            **_clean({k: v for k, v in node.items() if k != "type"}),
        }
    cleaned: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs"):
            cleaned[key] = {name: _clean(item) for name, item in value.items()}
        elif key in ("ge", "le", "gt", "lt"):
            renamed = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}
            cleaned[renamed[key]] = value
        elif key == "patternProperties" and len(value) == 1:
            ((pattern, values),) = value.items()
            cleaned["propertyNames"] = {"pattern": pattern}
            cleaned["additionalProperties"] = _clean(values)
        else:
            cleaned[key] = _clean(value)
    return cleaned
