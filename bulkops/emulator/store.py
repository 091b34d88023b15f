"""In-memory state: one :class:`Project` per API key, entities by kind then id.

Lookups by id are dict lookups; lists iterate the insertion-ordered dicts without copying, and a
list page once serialized is served from ``Project.page_cache`` until the project changes
(paginating readers re-read the same pages between mutations; this keeps list pages as cheap
as single reads).
Everything runs on the server's event loop, so no locks are needed here.
"""

from __future__ import annotations

import hashlib
import random
import string
import time
from collections.abc import Iterator
from typing import Any

import orjson

from .kinds import KINDS

__all__ = ["VERSIONED_KINDS", "Project", "Store", "empty_overrides", "project_id"]

VERSIONED_KINDS = ("gates", "dynamic_configs", "experiments")
"""Kinds whose past versions ``GET /{kind}/{id}/versions`` lists."""

_ID_ALPHABET = string.ascii_letters + string.digits


def project_id(name: str) -> str:
    """The stable id of the emulated project ``name`` (a company id in the real service)."""
    return "emu" + hashlib.sha256(name.encode()).hexdigest()[:20]


def empty_overrides(style: str) -> dict[str, Any]:
    """The overrides of an entity that has none (``ids`` for gates/holdouts, else ``groups``)."""
    if style == "groups":
        return {"overrides": [], "userIDOverrides": []}
    return {
        "passingUserIDs": [],
        "failingUserIDs": [],
        "passingCustomIDs": [],
        "failingCustomIDs": [],
        "environmentOverrides": [],
    }


class Project:
    """The entities and overrides of one project."""

    def __init__(self, name: str, rng_seed: int = 0) -> None:
        self.name = name
        self.id = project_id(name)
        """What ``GET /project`` answers: stable for a project name, across restarts."""
        self.entities: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self.overrides: dict[str, dict[str, dict[str, Any]]] = {
            kind: {} for kind, spec in KINDS.items() if spec.overrides
        }
        self.catalog: dict[str, dict[str, dict[str, Any]]] = {
            "metrics": {},
            "tags": {},
            "target_apps": {},
        }
        self.id_lists: dict[str, dict[str, None]] = {}
        """IDs of id-list segments by segment id (dicts as insertion-ordered sets)."""
        self.id_list_versions: dict[str, int] = {}
        self.versions: dict[tuple[str, str], list[bytes]] = {}
        """Serialized past states of gates, configs and experiments, oldest first."""
        self.page_cache: dict[str, bytes] = {}
        """Serialized list pages by path and query; emptied by :meth:`changed`."""
        self._rng = random.Random(f"{rng_seed}:{name}")
        self.modifier_id = "console-api-" + "".join(self._rng.choices(_ID_ALPHABET, k=10))

    def author(self) -> dict[str, Any]:
        """Who the service records as the last modifier of Console API writes."""
        return {
            "lastModifierID": self.modifier_id,
            "lastModifierName": "CONSOLE API",
            "lastModifierEmail": None,
            "lastModifiedTime": now_ms(),
        }

    def new_rule_id(self) -> str:
        """A rule id shaped like the service's (22 base62 characters), from a seeded RNG."""
        return "".join(self._rng.choices(_ID_ALPHABET, k=22))

    def stamp_rule(self, rule: dict[str, Any], *, keep_id: bool) -> dict[str, Any]:
        """A copy of ``rule`` with ``id``/``baseID`` (a fresh id unless ``keep_id`` and it has one)."""
        rule = dict(rule)
        if not (keep_id and rule.get("id")):
            rule["id"] = self.new_rule_id()
        rule.setdefault("baseID", rule["id"])
        rule.setdefault("environments", None)
        return rule

    def changed(self) -> None:
        """Forget the cached list pages (called after every mutation and every load)."""
        self.page_cache.clear()

    def get(self, kind: str, entity_id: str) -> dict[str, Any] | None:
        return self.entities[kind].get(entity_id)

    def exists(self, kind: str, entity_id: str) -> bool:
        return entity_id in self.entities[kind]

    def iter(self, kind: str) -> Iterator[dict[str, Any]]:
        return iter(self.entities[kind].values())

    def touch(self, entity: dict[str, Any]) -> None:
        """Record a modification: last modifier, time, version (and keep that version)."""
        entity.update(self.author())
        entity["version"] = entity.get("version", 0) + 1
        for kind in VERSIONED_KINDS:
            if self.entities[kind].get(entity["id"]) is entity:
                self.record_version(kind, entity)

    def record_version(self, kind: str, entity: dict[str, Any]) -> None:
        """Keep the entity's current state as one of its versions (created, then each edit)."""
        if kind in VERSIONED_KINDS:
            self.versions.setdefault((kind, entity["id"]), []).append(orjson.dumps(entity))

    def overrides_of(self, kind: str, entity_id: str) -> dict[str, Any]:
        """The entity's overrides, created empty on first use."""
        table = self.overrides[kind]
        if entity_id not in table:
            table[entity_id] = empty_overrides(KINDS[kind].overrides or "ids")
        return table[entity_id]

    def delete(self, kind: str, entity_id: str) -> dict[str, Any]:
        self.overrides.get(kind, {}).pop(entity_id, None)
        self.versions.pop((kind, entity_id), None)
        if kind == "segments":
            self.id_lists.pop(entity_id, None)
            self.id_list_versions.pop(entity_id, None)
        return self.entities[kind].pop(entity_id)

    def counts(self) -> dict[str, int]:
        return {kind: len(table) for kind, table in self.entities.items()}


class Store:
    """All projects, found by API key."""

    def __init__(self, projects: dict[str, str], rng_seed: int = 0) -> None:
        self.keys = dict(projects)  # project name -> api key
        self.projects = {name: Project(name, rng_seed) for name in projects}
        self._by_key = {key: self.projects[name] for name, key in projects.items()}

    def by_key(self, api_key: str | None) -> Project | None:
        return self._by_key.get(api_key) if api_key else None


def now_ms() -> float:
    return float(int(time.time() * 1000))
