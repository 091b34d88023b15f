"""The resource catalog agrees with the real Console API spec (console-v1.json), and with what
the live spec added since (console-v1.drift-2026-03.json).

Skipped when ``../shared/statsig-openapi`` (next to the repository) is absent: the spec is not
shipped with bulkops.
"""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec import MISSING_REASON, live_additions, load_spec, spec_available

from bulkops.api.resources import CATALOG, RULE_CONDITION_REFERENCES, get_kind, rule_references

PREFIX = "/console/v1"

spec_only = pytest.mark.skipif(not spec_available(), reason=MISSING_REASON)
spec = load_spec


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def schema_names(schema: dict[str, Any]) -> list[str]:
    """The component schemas a ``$ref`` chain goes through."""
    names = []
    while "$ref" in schema:
        names.append(schema["$ref"].rsplit("/", 1)[1])
        schema = spec()["components"]["schemas"][names[-1]]
    return names


def properties(schema: dict[str, Any]) -> set[str]:
    """The properties of ``schema``, with those the live spec added to it (the drift file):
    the catalog carries both (``bulkops.api.live_fields``)."""
    found = set().union(*(live_additions(name) for name in schema_names(schema)))
    schema = resolve(schema)
    found |= set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        found |= properties(part)
    return found


def operation(method: str, path: str) -> dict[str, Any]:
    item = spec()["paths"].get(PREFIX + path)
    assert item is not None, f"{path} is not in the spec"
    assert method.lower() in item, f"{method} {path} is not in the spec"
    return item[method.lower()]


def body_fields(method: str, path: str) -> set[str]:
    schema = operation(method, path)["requestBody"]["content"]["application/json"]["schema"]
    return properties(schema)


def entity_fields(path: str) -> set[str]:
    """Properties of the entity in ``data`` of ``GET path`` (the answer is an allOf)."""
    response = operation("GET", path)["responses"]["200"]["content"]["application/json"]
    for part in resolve(response["schema"]).get("allOf", []):
        data = resolve(part).get("properties", {}).get("data")
        if data is not None and ("$ref" in data or "items" in data):
            return properties(data.get("items", data))
    raise AssertionError(f"GET {path} answers no typed data")


def write_dtos(kind) -> set[str]:  # type: ignore[no-untyped-def]
    fields = body_fields("POST", kind.list_path.removesuffix("/list"))
    if kind.update_method:
        fields |= body_fields(kind.update_method, kind.item_path)
    if "post" in spec()["paths"][PREFIX + kind.item_path] and kind.update_method == "PATCH":
        fields |= body_fields("POST", kind.item_path)  # the full update
    return fields


KINDS = sorted(CATALOG)


def test_catalog_names_the_nine_kinds() -> None:
    assert set(CATALOG) == {
        "gates",
        "dynamic_configs",
        "segments",
        "layers",
        "experiments",
        "holdouts",
        "metrics",
        "tags",
        "target_apps",
    }
    with pytest.raises(KeyError, match="known kinds"):
        get_kind("flags")


@spec_only
@pytest.mark.spec
@pytest.mark.parametrize("name", KINDS)
def test_paths_exist_with_the_right_methods(name: str) -> None:
    kind = CATALOG[name]
    operation("GET", kind.list_path)
    operation("POST", kind.list_path.removesuffix("/list"))
    operation("GET", kind.item_path)
    if kind.update_method:
        operation(kind.update_method, kind.item_path)
    for method, path in kind.lifecycle.values():
        operation(method, path)


@spec_only
@pytest.mark.spec
@pytest.mark.parametrize("name", KINDS)
def test_create_and_update_fields_equal_the_dtos(name: str) -> None:
    kind = CATALOG[name]
    assert kind.create_fields == body_fields("POST", kind.list_path.removesuffix("/list"))
    if kind.update_method:
        assert kind.update_fields == body_fields(kind.update_method, kind.item_path)
    else:
        assert not kind.update_fields
        assert "patch" not in spec()["paths"][PREFIX + kind.item_path]


@spec_only
@pytest.mark.spec
@pytest.mark.parametrize("name", KINDS)
def test_read_only_fields_are_the_entity_fields_no_write_accepts(name: str) -> None:
    kind = CATALOG[name]
    entity = entity_fields(kind.item_path)
    writable = write_dtos(kind)
    assert not kind.read_only_fields & writable
    assert kind.read_only_fields == entity - writable
    assert {"createdTime", "lastModifierID"} <= kind.read_only_fields or name in (
        "tags",
        "target_apps",
    )


@spec_only
@pytest.mark.spec
@pytest.mark.parametrize("name", KINDS)
def test_list_filters_are_query_parameters_of_the_list_operation(name: str) -> None:
    kind = CATALOG[name]
    query = {
        p["name"]
        for p in operation("GET", kind.list_path).get("parameters", [])
        if p.get("in") == "query"
    }
    assert set(kind.list_filters) == query - {"limit", "page"}


@spec_only
@pytest.mark.spec
@pytest.mark.parametrize("name", KINDS)
def test_reference_fields_exist_in_the_entity_or_its_create_dto(name: str) -> None:
    kind = CATALOG[name]
    known = entity_fields(kind.item_path) | kind.create_fields
    for field_name, target in kind.references.items():
        assert field_name in known
        assert target in CATALOG


@spec_only
@pytest.mark.spec
def test_rule_condition_types_are_in_the_spec_enum() -> None:
    rule = resolve(spec()["components"]["schemas"]["RuleDto"])
    types = set(rule["properties"]["conditions"]["items"]["properties"]["type"]["enum"])
    assert set(RULE_CONDITION_REFERENCES) <= types


def test_strip_read_only_keeps_only_what_can_be_written() -> None:
    gate = {"id": "g", "name": "G", "createdTime": 1, "lastModifierID": "u", "isEnabled": True}
    assert get_kind("gates").strip_read_only(gate) == {"id": "g", "name": "G", "isEnabled": True}
    assert get_kind("gates").update_body(gate) == {"name": "G", "isEnabled": True}


def test_rule_references_name_gates_and_segments() -> None:
    gate = {
        "rules": [
            {"conditions": [{"type": "passes_gate", "targetValue": ["a", "b"]}]},
            {"conditions": [{"type": "fails_segment", "targetValue": "s"}, {"type": "email"}]},
        ]
    }
    assert rule_references(gate) == [("gates", "a"), ("gates", "b"), ("segments", "s")]
