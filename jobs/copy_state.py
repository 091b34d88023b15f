"""What the plan of a copy knows across experiments, and the facts it copies by.

``CopyState`` holds the target's entities (listed once), the copies planned so far and the
source entities read; ``matches`` is the comparison that decides whether an entity already in
the target is the copy (dicts: every wanted key matches; lists: every wanted element present).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bulkops.jobs.kinds import is_not_found, kind_facts

from bulkops.run.job import ReadContext

if TYPE_CHECKING:
    from bulkops.jobs.experiment_copy import ExperimentCopy

__all__ = [
    "COMPUTED_GATE_TYPES",
    "CREATABLE_GATE_TYPES",
    "DEPENDENCY_KINDS",
    "PROJECT_BOUND",
    "RULE_SERVER_FIELDS",
    "TARGET",
    "CopyState",
    "Mapped",
    "MissingSource",
    "matches",
]

TARGET = "target"
#: Kinds an experiment may need in the target, in the order they are created.
DEPENDENCY_KINDS = ("segments", "gates", "layers", "experiments")
#: Fields that belong to the source project (people, teams, pipelines, apps) or to its history.
PROJECT_BOUND = frozenset(
    {
        "creatorID",
        "creatorEmail",
        "team",
        "teamID",
        "releasePipelineID",
        "targetApps",
        "status",
        "launchedGroupID",
        "decisionReason",
        "holdoutIDs",
        "reviewSettings",
    }
)
RULE_SERVER_FIELDS = frozenset(
    {"id", "baseID", "completedAutomatedRollouts", "pendingAutomatedRollouts"}
)
#: Gate types the API computes (ExternalGateDto) -> what GateCreateDto accepts instead; a type
#: not here and not creatable (TEMPLATE) is left out, so the target's default applies.
CREATABLE_GATE_TYPES = ("PERMANENT", "TEMPORARY")
COMPUTED_GATE_TYPES = {"STALE": "TEMPORARY"}
Mapped = tuple[str, str | None]
"""Where a source entity lands: (target ID, key of the operation dependents wait for)."""


class MissingSource(Exception):
    """A dependency named by a copied entity cannot be copied (not in the source, ...)."""


def matches(actual: Any, expected: Any) -> bool:
    """Dicts: every expected key matches; lists: every expected element is present."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and matches(actual[k], v) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(
            any(matches(a, e) for a in actual) for e in expected
        )
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(actual) == float(expected)
    return bool(actual == expected)


@dataclass
class CopyState:
    """What the plan knows across experiments; ``to`` names the target in descriptions."""

    to: str
    on_conflict: str
    #: The target's entities by kind and ID, with those planned so far.
    target: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: Target IDs, by kind, of the entities this plan creates (not in the target yet).
    created: dict[str, set[str]] = field(default_factory=dict)
    #: (kind, source ID) -> where it lands.
    mapped: dict[tuple[str, str], Mapped] = field(default_factory=dict)
    sources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    async def read_target(self, ctx: ReadContext) -> None:
        """List the target's entities of every kind a copy may need."""
        for kind in DEPENDENCY_KINDS:
            self.target[kind] = {str(e["id"]): e async for e in ctx.list(kind, project=TARGET)}

    async def source_entity(self, ctx: ReadContext, kind: str, entity_id: str) -> dict[str, Any]:
        """The source's entity (read once); ``MissingSource`` when it does not exist."""
        key = (kind, entity_id)
        if key not in self.sources:
            try:
                path = kind_facts(kind).entity_path(entity_id)
                self.sources[key] = dict(await ctx.get(path))
            except Exception as exc:
                if is_not_found(exc):
                    raise MissingSource(
                        f"{kind} {entity_id} does not exist in the source"
                    ) from None
                raise
        return self.sources[key]

    def keep(self, copy: ExperimentCopy) -> None:
        """Record an experiment's copy, fully planned, for the experiments after it."""
        self.mapped.update(copy.mapped)
        for kind, created in copy.created.items():
            self.target.setdefault(kind, {}).update(created)
            self.created.setdefault(kind, set()).update(created)
