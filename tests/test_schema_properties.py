"""The schema against the validator on random specs: tests/test_property_torch.py's generator writes valid specs
of every layer kind (fields drawn over their whole range: per-axis lists, keywords, nulls, expressions in
`when`, blocks, groups, repeats, merges); each is accepted by the validator and must be by the schema, and the
same spec with one field of an entry misspelt must be refused by both."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra: pip install -e '.[test]'")
generator = pytest.importorskip("test_property_torch", reason="the spec generator needs the torch extra")

from cnncalc.engine.analysis import check_text  # noqa: E402
from cnncalc.engine.spec_schema import spec_json_schema  # noqa: E402

VALIDATOR = jsonschema.Draft7Validator(spec_json_schema())
SETTINGS = {**generator.SETTINGS, "max_examples": 3}


def check_both_ways(text: str) -> None:
    assert [str(issue) for issue in check_text(text, "spec.yaml") if issue.severity == "error"] == [], text
    data = yaml.safe_load(text)  # the generator writes plain YAML: any loader reads it as cnncalc does
    assert [error.message for error in VALIDATOR.iter_errors(data)] == [], text
    entries = [entry for entry in data["layers"] if "type" in entry]
    for entry in entries[:3]:
        planted = copy.deepcopy(data)
        target = planted["layers"][data["layers"].index(entry)]
        key = next((key for key in target if key not in ("type", "name", "from")), "type")
        target[key + "_"] = target.pop(key)
        misspelt = yaml.safe_dump(planted, sort_keys=False)
        assert list(VALIDATOR.iter_errors(planted)), misspelt
        assert [issue for issue in check_text(misspelt, "spec.yaml") if issue.severity == "error"], misspelt


@pytest.mark.parametrize("kind", sorted(generator.KINDS))
@settings(**SETTINGS)
@given(data=st.data())
def test_random_specs_of_each_kind(kind: str, data: Any) -> None:
    _, text = data.draw(generator.kind_case(kind, generator.CPU), label="spec")
    check_both_ways(text)


@settings(**{**SETTINGS, "max_examples": 40})
@given(case=generator.network_case(generator.CPU, steps=7))
def test_random_networks(case: Any) -> None:
    check_both_ways(case[1])
