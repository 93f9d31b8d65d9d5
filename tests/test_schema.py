"""`cnncalc schema`: the JSON Schema of the spec language that editors (yaml-language-server) check specs with.

The schema must accept every spec the validator accepts and refuse, at least, what the validator refuses
without evaluating anything (unknown kinds and fields, wrong types, missing fields): both are checked here on
the zoo, on specs written to have one such fault, and on faults planted in every zoo spec. Random valid specs
of every kind are checked in tests/test_schema_properties.py.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from clirunner import HEAD, ROOT, invoke

from cnncalc.engine.analysis import check_text
from cnncalc.engine.spec_schema import MODELINE, SCHEMA_FILE_NAME, schema_text, spec_json_schema
from cnncalc.kinds import COMPOSITES, REGISTRY
from cnncalc.language.yaml_source import load_yaml
from cnncalc.language.zoo import zoo_specs

# jsonschema is the reference implementation of JSON Schema for Python: a second, independent reading of the
# schema, as an editor's would be (the test extra installs it).
jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra: pip install -e '.[test]'")

SCHEMA_PATH = ROOT / "specs" / SCHEMA_FILE_NAME
ZOO = zoo_specs()


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = spec_json_schema()
    jsonschema.Draft7Validator.check_schema(schema)  # the schema itself is a valid draft-07 schema
    return jsonschema.Draft7Validator(schema)


def schema_errors(validator: Any, data: Any) -> list[str]:
    return [f"{list(error.absolute_path)}: {error.message[:200]}" for error in validator.iter_errors(data)]


def validator_errors(text: str) -> list[str]:
    return [str(issue) for issue in check_text(text, "spec.yaml") if issue.severity == "error"]


def data_of(text: str) -> Any:
    """The spec's data as cnncalc reads it (YAML 1.2 core schema), which is what the schema is applied to."""
    return load_yaml(text, "spec.yaml").data


# ------------------------------------------------------------------------------------------ the file and the zoo


def test_the_committed_schema_is_the_generated_one() -> None:
    """specs/cnncalc.schema.json, which the bundled specs' modeline names, never goes stale."""
    assert SCHEMA_PATH.read_text() == schema_text(), "regenerate it: cnncalc schema -o specs/cnncalc.schema.json"


def test_the_schema_command_prints_it_and_writes_it(tmp_path: Path) -> None:
    printed = invoke("schema")
    assert printed.code == 0 and printed.stdout == schema_text()
    assert json.loads(printed.stdout)["$schema"] == "http://json-schema.org/draft-07/schema#"
    target = tmp_path / "spec.schema.json"
    written = invoke("schema", "-o", str(target))
    assert written.code == 0 and written.stdout == "" and target.read_text() == schema_text()
    refused = invoke("schema", "-o", str(tmp_path / "no" / "such" / "folder.json"))
    assert refused.code == 2 and "cannot write" in refused.stderr


@pytest.mark.parametrize("name", sorted(ZOO))
def test_every_zoo_spec_validates_against_the_schema(name: str, validator: Any) -> None:
    text = ZOO[name].read_text()
    assert schema_errors(validator, data_of(text)) == []


@pytest.mark.parametrize("name", sorted(ZOO))
def test_every_zoo_spec_names_the_schema_in_its_first_line(name: str) -> None:
    first_line = ZOO[name].read_text().splitlines()[0]
    assert first_line == MODELINE == "# yaml-language-server: $schema=cnncalc.schema.json"
    assert (ZOO[name].parent / SCHEMA_FILE_NAME).is_file()  # the modeline's path is relative to the spec


# ------------------------------------------------------------------------------------------------ its content


def test_every_kind_is_described_with_its_fields_and_defaults() -> None:
    schema = spec_json_schema()
    entry = schema["definitions"]["entry"]
    written_kinds = [option["const"] for option in entry["properties"]["type"]["anyOf"]]
    assert written_kinds == sorted([*REGISTRY, *COMPOSITES])
    branches = {condition["if"]["properties"]["type"]["const"]: condition["then"] for condition in entry["allOf"][:-2]}
    assert set(branches) == set(written_kinds)
    conv = branches["conv2d"]
    assert conv["description"] == REGISTRY["conv2d"].summary == "torch.nn.Conv2d."
    assert conv["required"] == ["type", "kernel", "out"]
    assert conv["additionalProperties"] is False
    assert conv["properties"]["stride"]["default"] == 1
    assert conv["properties"]["padding_mode"] == {
        "default": "zeros",
        "enum": ["zeros", "reflect", "replicate", "circular"],
        "type": "string",
    }
    for name, branch in branches.items():
        kind = REGISTRY[name] if name in REGISTRY else COMPOSITES[name]
        own = set(branch["properties"]) - {"type", "name", "from", "when", "repeat", "copy_names", "frozen"}
        assert own - {"checkpoint", "functional"} == set(kind.schema.model_fields), name
        for field, info in kind.schema.model_fields.items():
            if not info.is_required():
                assert branch["properties"][field]["default"] == info.default, (name, field)


def test_document_and_entry_fields_have_descriptions() -> None:
    """What hover shows: the top level, the input, a block definition and every field an entry takes."""
    schema = spec_json_schema()
    definitions = schema["definitions"]
    for properties in (
        schema["properties"],
        definitions["InputSpec"]["properties"],
        {key: value for key, value in definitions["BlockDef"]["properties"].items() if key != "description"},
    ):
        assert all(value.get("description") for value in properties.values()), properties
    entry_fields = [key for key in definitions if key.startswith("entry.")]
    assert len(entry_fields) == 11 and all(definitions[key]["description"] for key in entry_fields)


# ------------------------------------------------------------------------ the schema and the validator agree

CONV = "  - {type: conv2d, out: 16, kernel: 3, padding: 1}\n"

# Specs both accept: expressions where the language takes them (numbers and booleans, whole lists or items),
# keywords, blocks, groups and every entry field.
ACCEPTED = {
    "plain": CONV,
    "expressions": "  - {type: conv2d, out: '4 * 4', kernel: [1, 'k'], bias: 'not b', padding: same}\n",
    "a whole list from an expression": "  - {type: conv2d, out: 4, kernel: ks}\n",
    "nested padding items": "  - {type: conv2d, out: 4, kernel: 3, padding: [[0, 'k'], 1]}\n",
    "group": "  - {name: g, layers: [{type: relu}], repeat: 2, copy_names: 'x{index}', frozen: true}\n",
    "when and from": "  - {name: a, type: relu}\n  - {type: relu, from: [a], when: 'k > 1', checkpoint: true}\n",
    "functional": "  - {type: relu, functional: true}\n",
    "null for an optional field": "  - {type: upsample, scale: 2, size: null}\n",
    "composite": "  - {type: separable, out: 8, kernel: 3}\n",
    "0 and 1 for booleans (pydantic reads them so)": "  - {type: conv2d, out: 4, kernel: 3, bias: 0}\n",
}
VARS = "vars: {k: 3, b: true, ks: [3, 3]}\n"

# Specs both refuse, each for a fault the schema can see without evaluating anything.
REFUSED = {
    "a misspelt field": "  - {type: conv2d, out: 16, kernal: 3}\n",
    "an unknown kind": "  - {type: conv2e, out: 16, kernel: 3}\n",
    "a list for a number": "  - {type: conv2d, out: [16, 2], kernel: 3}\n",
    "a boolean for a number": "  - {type: conv2d, out: true, kernel: 3}\n",
    "a number for a boolean": "  - {type: conv2d, out: 4, kernel: 3, bias: 2}\n",
    "a required field missing": "  - {type: conv2d, kernel: 3}\n",
    "below the minimum": "  - {type: conv2d, out: 0, kernel: 3}\n",
    "an unknown keyword": "  - {type: conv2d, out: 4, kernel: 3, padding_mode: reflct}\n",
    "two markers": "  - {type: relu, block: x}\n",
    "no marker": "  - {name: lonely}\n",
    "functional on a composite": "  - {type: separable, out: 8, kernel: 3, functional: true}\n",
    "a field of a layer on a group": "  - {name: g, layers: [{type: relu}], kernel: 3}\n",
    "an empty group": "  - {name: g, layers: []}\n",
    "a reserved name": "  - {name: input, type: relu}\n",
    "an invalid name": "  - {name: 'a.b', type: relu}\n",
    "copy_names without {index}": "  - {type: relu, repeat: 2, copy_names: 'x'}\n",
    "a repeat of 0": "  - {type: relu, repeat: 0}\n",
    "frozen as text": "  - {type: relu, frozen: 'yes'}\n",
    "an empty from": "  - {type: relu, from: []}\n",
    "a field misspelt inside a group": "  - {layers: [{type: relu}, {type: conv2d, out: 2, kernal: 1}]}\n",
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_specs_the_validator_accepts_the_schema_accepts(case: str, validator: Any) -> None:
    text = VARS + HEAD + ACCEPTED[case]
    assert validator_errors(text) == []
    assert schema_errors(validator, data_of(text)) == []


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_specs_the_validator_refuses_for_their_fields_the_schema_refuses(case: str, validator: Any) -> None:
    text = HEAD + REFUSED[case]
    assert validator_errors(text) != []
    assert schema_errors(validator, data_of(text)) != []


@pytest.mark.parametrize(
    ("document", "fault"),
    [
        ("input: {shape: [3, 32, 32], batchsize: 2}\nlayers: [{type: relu}]\n", "input field"),
        ("input: {shape: [3, 32, 32]}\nlayer: [{type: relu}]\n", "top-level field"),
        ("input: {shape: [3, 32, 32], batch: 0}\nlayers: [{type: relu}]\n", "batch 0"),
        ("input: {shape: [3, 32, 32], dtype: float8}\nlayers: [{type: relu}]\n", "dtype"),
        ("input: {shape: [3]}\nlayers: [{type: relu}]\n", "shape without sizes"),
        ("input: {shape: [3, 32, 32]}\nvars: {2x: 1}\nlayers: [{type: relu}]\n", "variable name"),
        (
            "input: {shape: [3, 32, 32]}\nblocks: {b: {layers: [{type: relu}], arg: {}}}\nlayers: [{block: b}]\n",
            "block",
        ),
    ],
)
def test_document_faults_are_refused_by_both(document: str, fault: str, validator: Any) -> None:
    assert validator_errors(document) != [], fault
    assert schema_errors(validator, data_of(document)) != [], fault


# ---------------------------------------------------------------------------- faults planted in the zoo's specs


def _layer_entries(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """(path, entry) of every layer entry of a spec, in its layers, groups and blocks."""
    found: list[tuple[tuple[str | int, ...], dict[str, Any]]] = []

    def walk(entries: list[Any], path: tuple[str | int, ...]) -> None:
        for position, entry in enumerate(entries):
            if "type" in entry:
                found.append(((*path, position), entry))
            if "layers" in entry:
                walk(entry["layers"], (*path, position, "layers"))

    walk(data["layers"], ("layers",))
    for name, block in data.get("blocks", {}).items():
        walk(block["layers"], ("blocks", name, "layers"))
    return found


def _misspell(entry: dict[str, Any]) -> None:
    fields = [key for key in entry if key not in ("type", "name", "from")] or ["type"]
    key = fields[0]
    entry[key[:-1] + key[-1].upper()] = entry.pop(key)  # `kernel` -> `kerneL`


def _unknown_kind(entry: dict[str, Any]) -> None:
    entry["type"] += "x"


@pytest.mark.parametrize("name", sorted(ZOO))
def test_a_misspelt_field_or_kind_anywhere_in_a_zoo_spec_is_refused(name: str) -> None:
    """Every layer entry of the spec in turn gets one misspelt field, then an unknown kind: the schema of an
    entry refuses each (the entry alone is checked: the whole document each time would take minutes)."""
    schema = spec_json_schema()
    entry_validator = jsonschema.Draft7Validator({"$ref": "#/definitions/entry", "definitions": schema["definitions"]})
    entries = _layer_entries(data_of(ZOO[name].read_text()))
    assert entries
    for path, entry in entries:
        assert schema_errors(entry_validator, entry) == [], (name, path)
        for change in (_misspell, _unknown_kind):
            planted = copy.deepcopy(entry)
            change(planted)
            assert schema_errors(entry_validator, planted) != [], (name, path, planted)


def test_a_planted_fault_is_found_by_the_validator_too() -> None:
    """The faults above are the validator's errors too (checked on one spec: each run costs an analysis)."""
    text = ZOO["resnet18"].read_text()
    first = text.index("{name: conv1, type: conv2d")
    assert validator_errors(text) == []
    assert validator_errors(text[:first] + text[first:].replace("kernel:", "kerneL:", 1)) != []
    assert validator_errors(text[:first] + text[first:].replace("type: conv2d", "type: conv2dx", 1)) != []


def _readme_specs() -> list[tuple[int, str]]:
    """The README's ```yaml examples that are whole specs (with `input:` and `layers:`), with their lines."""
    readme = (ROOT / "README.md").read_text()
    found = []
    for match in re.finditer(r"```yaml\n(.*?)```", readme, re.S):
        text = match[1]
        if re.search(r"^input:", text, re.M) and re.search(r"^layers:", text, re.M) and "..." not in text:
            found.append((readme[: match.start()].count("\n") + 1, text))
    return found


README_SPECS = _readme_specs()


@pytest.mark.parametrize(("line", "text"), README_SPECS, ids=[f"README.md:{line}" for line, _ in README_SPECS])
def test_the_readme_examples_are_accepted_by_both(line: int, text: str, validator: Any) -> None:
    assert validator_errors(text) == []
    assert schema_errors(validator, data_of(text)) == []


def test_there_are_readme_examples_to_check() -> None:
    assert len(README_SPECS) >= 3, "the pattern is wrong"
