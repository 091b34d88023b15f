"""What the built-in jobs need to know about a kind of entity, read from the resource catalog.

Jobs ask ``kind_facts("gates")`` for the list path, the filters the list endpoint takes
server-side, the fields a PATCH may write and the read-only ones. The answers come from
``bulkops.api.resources`` (``get_kind``); this module only adapts them to one small shape, so a
job never depends on the catalog's internals, and names the problem when a kind is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bulkops.run.job import JobConfigError

__all__ = ["KindFacts", "is_not_found", "json_type_error", "kind_facts"]

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
class KindFacts:
    """The catalog facts about one kind that jobs use."""

    name: str
    path: str
    list_filters: frozenset[str]
    update_fields: frozenset[str]
    create_fields: frozenset[str]
    read_only_fields: frozenset[str]
    #: how an entity is updated (``PATCH``, or ``POST`` where the API has no PATCH; None: never)
    update_method: str | None = "PATCH"
    #: the spec's JSON type of each update field (``"boolean"``, ``"null|string"``)
    field_types: Mapping[str, str] = field(default_factory=dict)

    def entity_path(self, entity_id: str) -> str:
        """The path of one entity of this kind, e.g. ``/gates/g1``."""
        return f"{self.path}/{entity_id}"

    def type_error(self, name: str, value: Any) -> str | None:
        """Why ``value`` cannot be written to field ``name`` (its type), or None when it can."""
        types = self.field_types.get(name)
        return json_type_error(name, types, value) if types else None

    @property
    def known_fields(self) -> frozenset[str]:
        """Every field name the catalog knows for this kind (writable or read-only)."""
        return self.update_fields | self.create_fields | self.read_only_fields | {"id"}


def kind_facts(name: str) -> KindFacts:
    """Facts about catalog kind ``name``; unknown kinds raise ``JobConfigError``."""
    from bulkops.api.resources import CATALOG, get_kind

    try:
        kind = get_kind(name)
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise JobConfigError(f"unknown kind {name!r}; known kinds: {known}") from None
    return KindFacts(
        name=kind.name,
        path=kind.list_path.rstrip("/"),
        list_filters=frozenset(kind.list_filters),
        update_fields=frozenset(kind.update_fields) if kind.update_method else frozenset(),
        create_fields=frozenset(kind.create_fields),
        read_only_fields=frozenset(kind.read_only_fields),
        update_method=kind.update_method,
        field_types=dict(kind.update_types),
    )


def is_not_found(exc: BaseException) -> bool:
    """True for the API's 404 (``NotFoundError``), however the client spelled it."""
    try:
        from bulkops.api.errors import NotFoundError
    except ImportError:  # pragma: no cover - the api part always ships errors.py
        NotFoundError = ()  # type: ignore[assignment,misc]
    return isinstance(exc, NotFoundError) or getattr(exc, "status", None) == 404
