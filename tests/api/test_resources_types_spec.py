"""The catalog's update field types agree with the spec's update DTOs (console-v1.json).

``patch --set`` refuses a value of the wrong type from these types, before anything is sent, so
a type the spec does not give would refuse a valid value. Skipped when the spec is absent.
"""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec import MISSING_REASON, live_additions, spec_available, ts_json_types
from test_resources_spec import operation, resolve, schema_names

from bulkops.api.resources import CATALOG

spec_only = pytest.mark.skipif(not spec_available(), reason=MISSING_REASON)
UPDATABLE = sorted(name for name, kind in CATALOG.items() if kind.update_method)


def json_types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a property schema admits (``anyOf``/``oneOf`` merged, nullable as null)."""
    schema = resolve(schema)
    found: set[str] = set()
    for part in schema.get("anyOf", []) + schema.get("oneOf", []):
        found |= json_types(part)
    kind = schema.get("type")
    if isinstance(kind, list):
        found |= set(kind)
    elif kind:
        found.add(kind)
    elif schema.get("properties"):
        found.add("object")
    if schema.get("nullable"):
        found.add("null")
    return found


def update_dto_types(method: str, path: str) -> dict[str, str]:
    """Field -> JSON types of an update DTO, with the fields the live spec added to it."""
    body = operation(method, path)["requestBody"]["content"]["application/json"]["schema"]
    found = {
        name: ts_json_types(ts)
        for schema_name in schema_names(body)
        for name, ts in live_additions(schema_name).items()
    }
    schema = resolve(body)
    parts = [schema, *(resolve(part) for part in schema.get("allOf", []))]
    for part in parts:
        for name, prop in part.get("properties", {}).items():
            found[name] = "|".join(sorted(json_types(prop)))
    return found


@spec_only
@pytest.mark.parametrize("name", UPDATABLE)
def test_every_update_field_has_the_spec_type(name: str) -> None:
    kind = CATALOG[name]
    assert kind.update_method is not None
    assert dict(kind.update_types) == update_dto_types(kind.update_method, kind.item_path)


def test_types_cover_exactly_the_update_fields() -> None:
    for kind in CATALOG.values():
        assert set(kind.update_types) == set(kind.update_fields), kind.name
