"""What a job selects: catalog kinds (``kind_of``) and ``--where FIELD=VALUE`` (AND-ed).

Forms:

- ``FIELD=VALUE``   equal; on a list field (``tags``) the list contains VALUE;
- ``FIELD!=VALUE``  not equal / does not contain;
- ``FIELD~GLOB``    shell pattern (``name~checkout_*``); on a list field, any element matches.

``tag`` is an alias of ``tags``. Booleans are ``true``/``false``; ``null`` matches a missing or
null field. Equalities on fields that the list endpoint filters server-side (the catalog's list
filters, e.g. ``type``, ``typeReason``, ``tags``, ``idType`` on gates) are sent to the API; the
rest, and every condition again when the entity holds the field, are applied locally.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from bulkops.api.resource_kind import ResourceKind
from bulkops.errors import JobConfigError

__all__ = [
    "Condition",
    "Selection",
    "build_selection",
    "kind_of",
    "parse_condition",
    "selection_for",
]

ALIASES = {"tag": "tags"}

#: Values the API accepts for enum fields (from the Console API spec), to reject typos early.
ENUMS: Mapping[str, frozenset[str]] = {
    "type": frozenset({"TEMPORARY", "PERMANENT", "STALE", "TEMPLATE"}),
    "typeReason": frozenset(
        {
            "NONE",
            "STALE_PROBABLY_LAUNCHED",
            "STALE_PROBABLY_UNLAUNCHED",
            "STALE_PROBABLY_FORGOTTEN",
            "STALE_NO_RULES",
            "STALE_PROBABLY_DEAD_CHECK",
            "STALE_EMPTY_CHECKS",
            "STALE_ALL_TRUE",
            "STALE_ALL_FALSE",
        }
    ),
}

_CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(!=|=|~)(.*)$")


@dataclass(frozen=True)
class Condition:
    """One ``--where`` condition."""

    field: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.field}{self.op}{self.value}"

    def matches(self, entity: Mapping[str, Any]) -> bool:
        """Whether ``entity`` satisfies this condition."""
        actual = _lookup(entity, self.field)
        if self.op == "~":
            values = actual if isinstance(actual, list) else [actual]
            return any(v is not None and fnmatchcase(_text(v), self.value) for v in values)
        equal = _equal(actual, self.value)
        return equal if self.op == "=" else not equal


def _lookup(entity: Mapping[str, Any], dotted: str) -> Any:
    value: Any = entity
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _equal(actual: Any, wanted: str) -> bool:
    if isinstance(actual, list):
        return any(_equal(v, wanted) for v in actual)
    if actual is None:
        return wanted.lower() in ("null", "none", "")
    if isinstance(actual, bool):
        return wanted.lower() == ("true" if actual else "false")
    if isinstance(actual, int | float):
        try:
            return float(wanted) == float(actual)
        except ValueError:
            return False
    return _text(actual) == wanted


def parse_condition(text: str) -> Condition:
    """Parse one ``--where`` argument; malformed text raises ``JobConfigError``."""
    match = _CONDITION.match(text)
    if not match:
        raise JobConfigError(
            f"malformed --where {text!r}: expected FIELD=VALUE, FIELD!=VALUE or FIELD~GLOB "
            "(e.g. --where type=STALE --where name~checkout_*)"
        )
    name, op, value = match.group(1), match.group(2), match.group(3).strip()
    name = ALIASES.get(name, name)
    if op == "~" and not value:
        raise JobConfigError(f"malformed --where {text!r}: the pattern after '~' is empty")
    allowed = ENUMS.get(name)
    if allowed is not None and op != "~" and value not in allowed:
        raise JobConfigError(
            f"--where {text!r}: {name} must be one of {', '.join(sorted(allowed))}"
        )
    return Condition(name, op, value)


@dataclass(frozen=True)
class Selection:
    """A parsed selection: the filters sent to the list endpoint and the local predicates."""

    server: Mapping[str, str] = field(default_factory=dict)
    local: tuple[Condition, ...] = ()
    #: conditions that were sent to the server; re-checked locally when the entity has the field.
    sent: tuple[Condition, ...] = ()

    def matches(self, entity: Mapping[str, Any]) -> bool:
        """Whether a listed entity is selected."""
        if not all(c.matches(entity) for c in self.local):
            return False
        return all(c.matches(entity) for c in self.sent if _lookup(entity, c.field) is not None)

    def describe(self) -> str:
        """The selection as the user wrote it, for plan descriptions."""
        conditions = [*self.sent, *self.local]
        return " AND ".join(str(c) for c in conditions) if conditions else "everything"


def build_selection(
    wheres: Iterable[str] | None,
    *,
    server_filters: Collection[str] = (),
    known_fields: Collection[str] | None = None,
    kind: str = "",
) -> Selection:
    """Split ``--where`` arguments into server-side filters and local predicates.

    ``server_filters`` are the list endpoint's query parameters (from the catalog); when
    ``known_fields`` is given, a condition on any other field is a ``JobConfigError``.
    """
    server: dict[str, str] = {}
    sent: list[Condition] = []
    local: list[Condition] = []
    for text in wheres or ():
        condition = parse_condition(text)
        top = condition.field.split(".")[0]
        if known_fields is not None and top not in known_fields and top not in server_filters:
            listed = ", ".join(sorted(set(known_fields) | set(server_filters)))
            raise JobConfigError(
                f"--where {text!r}: {kind or 'this kind'} has no field {top!r}; fields: {listed}"
            )
        if condition.op == "=" and top in server_filters and top not in server:
            server[top] = condition.value
            sent.append(condition)
        else:
            local.append(condition)
    return Selection(server=server, local=tuple(local), sent=tuple(sent))


def kind_of(name: str) -> ResourceKind:
    """The catalog's facts about kind ``name`` (``"gates"``); unknown kinds: ``JobConfigError``."""
    from bulkops.api.resources import CATALOG

    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise JobConfigError(f"unknown kind {name!r}; known kinds: {known}") from None


def selection_for(kind: ResourceKind | str, wheres: Iterable[str] | None) -> Selection:
    """The selection of ``--where`` arguments on a catalog kind (or its name)."""
    facts = kind_of(kind) if isinstance(kind, str) else kind
    return build_selection(
        wheres,
        server_filters=facts.list_filters,
        known_fields=facts.known_fields if facts.known_fields - {"id"} else None,
        kind=facts.name,
    )
