"""``ResourceKind``: what bulkops knows about one kind of Console API entity.

The catalog of every kind (its literals, checked against the spec) is ``bulkops.api.resources``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ResourceKind", "json_type_error"]

#: JSON type -> (Python types, how to say it, an example of a right value).
_JSON_TYPES: Mapping[str, tuple[tuple[type, ...], str, str]] = {
    "string": ((str,), "a string", "text"),
    "boolean": ((bool,), "a boolean", "true or false"),
    "integer": ((int,), "an integer", "a whole number such as 14"),
    "number": ((int, float), "a number", "a number such as 12.5"),
    "array": ((list,), "a list", """a JSON list such as '["a", "b"]'"""),
    "object": ((dict,), "an object", """a JSON object such as '{"key": "value"}'"""),
    "null": ((type(None),), "null", "null"),
}


def json_type_error(name: str, types: str, value: Any) -> str | None:
    """Why ``value`` does not fit the spec's JSON type ``types`` (``"null|string"``), or None."""
    wanted = [t for t in types.split("|") if t in _JSON_TYPES]
    if not wanted:
        return None  # a type we do not know: let the server judge
    for kind in wanted:
        python_types = _JSON_TYPES[kind][0]
        is_bool = isinstance(value, bool)
        if isinstance(value, python_types) and (kind == "boolean" or not is_bool):
            return None
    said = " or ".join(_JSON_TYPES[t][1] for t in wanted)
    hints = " or ".join(_JSON_TYPES[t][2] for t in wanted if t != "null")
    return f"{name} is {said}: use {hints}" if hints else f"{name} is {said}"


@dataclass(frozen=True)
class ResourceKind:
    """What bulkops knows about one kind of entity (see the module docstring)."""

    name: str
    list_path: str
    item_path: str
    id_field: str
    create_fields: frozenset[str]
    update_fields: frozenset[str]
    read_only_fields: frozenset[str]
    update_method: str | None = "PATCH"
    update_types: Mapping[str, str] = field(default_factory=dict)
    list_filters: tuple[str, ...] = ()
    lifecycle: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    references: Mapping[str, str] = field(default_factory=dict)
    has_rules: bool = False

    def path_of(self, entity_id: str) -> str:
        """The item path of one entity (``/gates/my_gate``)."""
        return self.item_path.replace("{id}", str(entity_id))

    def strip_read_only(self, entity: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``entity`` without its read-only fields."""
        return {k: v for k, v in entity.items() if k not in self.read_only_fields}

    def create_body(self, entity: Mapping[str, Any]) -> dict[str, Any]:
        """Only the fields a create accepts."""
        return {k: v for k, v in entity.items() if k in self.create_fields}

    def update_body(self, entity: Mapping[str, Any]) -> dict[str, Any]:
        """Only the fields an update accepts."""
        return {k: v for k, v in entity.items() if k in self.update_fields}

    @property
    def writable_fields(self) -> frozenset[str]:
        """The fields an update may write (none when the kind has no update endpoint)."""
        return self.update_fields if self.update_method else frozenset()

    @property
    def known_fields(self) -> frozenset[str]:
        """Every field name the catalog knows for this kind (writable or read-only)."""
        return self.update_fields | self.create_fields | self.read_only_fields | {"id"}

    def type_error(self, name: str, value: Any) -> str | None:
        """Why ``value`` cannot be written to field ``name`` (its type), or None when it can."""
        types = self.update_types.get(name)
        return json_type_error(name, types, value) if types else None
