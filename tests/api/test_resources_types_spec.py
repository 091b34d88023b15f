"""The catalog's update field types agree with the spec's update DTOs (console-v1.json).

``patch --set`` refuses a value of the wrong type from these types, before anything is sent, so
a type the spec does not give would refuse a valid value. Skipped when the spec is absent.
"""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec import MISSING_REASON, spec_available
from test_resources_spec import operation, resolve

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


def update_dto_properties(method: str, path: str) -> dict[str, Any]:
    body = operation(method, path)["requestBody"]["content"]["application/json"]["schema"]
    schema = resolve(body)
    found = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        found.update(resolve(part).get("properties", {}))
    return found


@spec_only
@pytest.mark.parametrize("name", UPDATABLE)
def test_every_update_field_has_the_spec_type(name: str) -> None:
    kind = CATALOG[name]
    assert kind.update_method is not None
    spec_types = {
        field: "|".join(sorted(json_types(schema)))
        for field, schema in update_dto_properties(kind.update_method, kind.item_path).items()
    }
    assert dict(kind.update_types) == spec_types


def test_types_cover_exactly_the_update_fields() -> None:
    for kind in CATALOG.values():
        assert set(kind.update_types) == set(kind.update_fields), kind.name
