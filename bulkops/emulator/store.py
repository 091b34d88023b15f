"""In-memory state: one :class:`Project` per API key, entities by kind then id.

Lookups by id are dict lookups; lists iterate the insertion-ordered dicts without copying.
Everything runs on the server's event loop, so no locks are needed here.
"""

from __future__ import annotations

import random
import string
import time
from collections.abc import Iterator
from typing import Any

from .kinds import KINDS

__all__ = ["Project", "Store", "empty_overrides"]

_ID_ALPHABET = string.ascii_letters + string.digits


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
        self.entities: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self.overrides: dict[str, dict[str, dict[str, Any]]] = {
            kind: {} for kind, spec in KINDS.items() if spec.overrides
        }
        self.catalog: dict[str, dict[str, dict[str, Any]]] = {
            "metrics": {},
            "tags": {},
            "target_apps": {},
        }
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

    def get(self, kind: str, entity_id: str) -> dict[str, Any] | None:
        return self.entities[kind].get(entity_id)

    def exists(self, kind: str, entity_id: str) -> bool:
        return entity_id in self.entities[kind]

    def iter(self, kind: str) -> Iterator[dict[str, Any]]:
        return iter(self.entities[kind].values())

    def touch(self, entity: dict[str, Any]) -> None:
        """Record a modification: last modifier, time, version."""
        entity.update(self.author())
        entity["version"] = entity.get("version", 0) + 1

    def overrides_of(self, kind: str, entity_id: str) -> dict[str, Any]:
        """The entity's overrides, created empty on first use."""
        table = self.overrides[kind]
        if entity_id not in table:
            table[entity_id] = empty_overrides(KINDS[kind].overrides or "ids")
        return table[entity_id]

    def delete(self, kind: str, entity_id: str) -> dict[str, Any]:
        self.overrides.get(kind, {}).pop(entity_id, None)
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
