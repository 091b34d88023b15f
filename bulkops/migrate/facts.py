"""What a migration knows about the kinds it moves: their order, overrides and ID lists.

Paths come from the resource catalog (``bulkops.api.resources``); this module adds the facts
the catalog does not carry: which kinds a migration moves and in which order they depend on
each other, and which kinds have override documents and what an empty one looks like (the ID
lists of segments are in ``bulkops.migrate.idlists``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulkops.api.resources import get_kind
from bulkops.errors import shown

__all__ = [
    "CATALOG_KINDS",
    "CATALOG_LISTS",
    "MIGRATED_KINDS",
    "OVERRIDE_KINDS",
    "empty_overrides",
    "entity_path",
    "id_list_path",
    "overrides_are_empty",
    "overrides_path",
    "parse_kinds",
]

#: The kinds a migration moves, in dependency order: each may name the ones before it.
MIGRATED_KINDS = ("segments", "gates", "dynamic_configs", "layers", "experiments", "holdouts")
#: Project-wide lists an export also writes (the snapshot's ``catalog``).
CATALOG_LISTS = ("tags", "target_apps", "metrics")
#: The catalog lists a migration creates in (the names its entities carry), in plan order.
CATALOG_KINDS = ("tags", "target_apps")
#: Kinds with an override document at ``/{kind}/{id}/overrides``.
OVERRIDE_KINDS = ("gates", "experiments", "holdouts", "layers")

_EMPTY_OVERRIDES: Mapping[str, Mapping[str, list[Any]]] = {
    "gates": {
        "passingUserIDs": [],
        "failingUserIDs": [],
        "passingCustomIDs": [],
        "failingCustomIDs": [],
        "environmentOverrides": [],
    },
    "experiments": {"overrides": [], "userIDOverrides": []},
    "layers": {"conditionalOverrides": [], "idOverrides": []},
}


def entity_path(kind: str, entity_id: str) -> str:
    """``/gates/g1``."""
    return get_kind(kind).path_of(entity_id)


def overrides_path(kind: str, entity_id: str) -> str:
    """``/gates/g1/overrides``."""
    return f"{entity_path(kind, entity_id)}/overrides"


def id_list_path(segment_id: str) -> str:
    """``/segments/s1/id_list``."""
    return f"{entity_path('segments', segment_id)}/id_list"


def empty_overrides(kind: str) -> dict[str, list[Any]]:
    """The override document of an entity that has none (holdouts are shaped like gates)."""
    shape = _EMPTY_OVERRIDES["gates" if kind == "holdouts" else kind]
    return {key: [] for key in shape}


def overrides_are_empty(doc: Any) -> bool:
    """True when an override document holds no entry (absent, null, or only empty lists)."""
    if not isinstance(doc, Mapping):
        return True
    return not any(value for value in doc.values() if isinstance(value, list))


def parse_kinds(text: str | None, allowed: tuple[str, ...] = MIGRATED_KINDS) -> tuple[str, ...]:
    """``"gates, segments"`` -> the kinds in ``allowed`` order; ValueError names unknown ones."""
    if not text:
        return allowed
    wanted = {part.strip() for part in str(text).split(",") if part.strip()}
    unknown = sorted(wanted - set(allowed))
    if unknown:
        named = ", ".join(shown(kind) for kind in unknown)
        raise ValueError(f"unknown kind(s) {named}: choose from {', '.join(allowed)}")
    return tuple(kind for kind in allowed if kind in wanted)
