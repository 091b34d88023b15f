"""What an entity read from the API must look like before a job is handed it.

A job reads ``entity["rules"]``, ``entity.get("id")``, ``for tag in entity["tags"]``: when the
server answers an entity whose ``id`` is a number, whose ``rules`` is an object, or an item that
is not an object at all, the job would crash in its own code and the user would be told their
job is broken (``JobCodeError``). Checked here instead, as entities are listed (``paginate``)
or read one by one (``GET /gates/{id}``), the answer is a ``BadResponseError`` (exit 4) naming
the endpoint, the entity and the field.

Only the fields the built-in jobs and the migration rely on are checked: the id field
(non-empty text), ``name`` (text), the lists of ids and tags (``LIST_FIELDS``), ``groups``,
rules and their conditions (lists of objects); ``null`` is accepted for all but the id.
Other fields are passed on as the server gave them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bulkops.api.errors import BadResponseError
from bulkops.api.resource_kind import ResourceKind
from bulkops.api.resources import CATALOG

__all__ = [
    "LIST_FIELDS",
    "entity_checker",
    "item_kind",
    "list_kind",
    "overrides_error",
    "read_checker",
    "shape_error",
]

LIST_FIELDS = ("tags", "holdoutIDs", "gateIDs", "experimentIDs", "layerIDs", "monitoringMetrics")
"""Fields that, when present and not null, must be JSON lists."""


def shape_error(kind: ResourceKind, entity: Any) -> str | None:
    """Why ``entity`` cannot be a ``kind`` entity as read from the API, or None."""
    if not isinstance(entity, dict):
        return f"an entity is {type(entity).__name__}, not a JSON object"
    ident = entity.get(kind.id_field)
    if not isinstance(ident, str) or not ident:
        return f"{kind.id_field} is {'missing' if ident is None else repr(ident)[:40]}, not an id"
    name = entity.get("name")
    if name is not None and not isinstance(name, str):
        return f"name is {type(name).__name__}, not text"
    for name in LIST_FIELDS:
        value = entity.get(name)
        if value is not None and not isinstance(value, list):
            return f"{name} is {type(value).__name__}, not a list"
    groups = entity.get("groups")
    if groups is not None and not _objects(groups):
        return "groups is not a list of objects"
    return _rules_error(entity.get("rules")) if kind.has_rules else None


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _rules_error(rules: Any) -> str | None:
    if rules is None:
        return None
    if not _objects(rules):
        return "rules is not a list of objects"
    for rule in rules:
        conditions = rule.get("conditions")
        if conditions is None:
            continue
        if not _objects(conditions):
            return "a rule's conditions is not a list of objects"
    return None


def overrides_error(doc: Any) -> str | None:
    """Why ``doc`` cannot be an overrides document (``GET /gates/{id}/overrides``), or None:
    ``*IDs``/``ids`` fields must be lists, ``*Overrides``/``overrides`` lists of objects."""
    if not isinstance(doc, dict):
        return f"the overrides document is {type(doc).__name__}, not a JSON object"
    for name, value in doc.items():
        if value is None:
            continue
        if name.endswith(("IDs", "ids")) and not isinstance(value, list):
            return f"{name} is {type(value).__name__}, not a list"
        if name.endswith(("Overrides", "overrides")):
            if not _objects(value):
                return f"{name} is not a list of objects"
            for entry in value:
                problem = overrides_error(entry)
                if problem is not None:
                    return f"in {name}: {problem}"
    return None


def list_kind(path: str) -> ResourceKind | None:
    """The kind listed at ``path`` (``/gates``), or None."""
    bare = "/" + path.split("?")[0].strip("/")
    return next((kind for kind in CATALOG.values() if kind.list_path == bare), None)


def item_kind(path: str) -> ResourceKind | None:
    """The kind of the one entity at ``path`` (``/gates/g1``), or None."""
    parts = path.split("?")[0].strip("/").split("/")
    if len(parts) != 2 or parts[1] == "list":
        return None
    return list_kind(parts[0])


def overrides_kind(path: str) -> ResourceKind | None:
    """The kind whose overrides document is at ``path`` (``/gates/g1/overrides``), or None."""
    parts = path.split("?")[0].strip("/").split("/")
    if len(parts) != 3 or parts[2] != "overrides":
        return None
    return list_kind(parts[0])


def read_checker(method: str, path: str) -> Callable[[Any], None] | None:
    """The check of what ``GET path`` answers (one entity, or an overrides document)."""
    if method.upper() != "GET":
        return None
    kind = item_kind(path)
    if kind is not None:
        return entity_checker(kind, method, path)
    kind = overrides_kind(path)
    if kind is not None:
        return entity_checker(kind, method, path, shape=lambda _, doc: overrides_error(doc))
    return None


def entity_checker(
    kind: ResourceKind,
    method: str,
    path: str,
    shape: Callable[[ResourceKind, Any], str | None] = shape_error,
) -> Callable[[Any], None]:
    """A check raising ``BadResponseError`` for an entity of ``kind`` answered at ``path``."""

    def check(entity: Any) -> None:
        problem = shape(kind, entity)
        if problem is None:
            return
        ident = entity.get(kind.id_field) if isinstance(entity, dict) else None
        which = f" ({kind.name} {str(ident)[:80]!r})" if isinstance(ident, str) else ""
        raise BadResponseError(
            f"the server answered a malformed entity{which}: {problem}; the Console API "
            "may be degraded or the URL may not point at it: retry later, and report it if "
            "it persists",
            method=method,
            path=path,
        )

    return check
