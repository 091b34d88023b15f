"""What the plan of a copy knows across experiments.

``CopyState`` holds the target's entities (listed once), the copies planned so far and the
source entities read. What a copy writes and how it compares are the migration's shared pieces
(``bulkops.migrate``): the desired state of an entity, its references, the operations.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bulkops.migrate.facts import entity_path
from bulkops.migrate.operations import TARGET
from bulkops.run.job import ReadContext

if TYPE_CHECKING:
    from bulkops.jobs.experiment_copy import ExperimentCopy

__all__ = ["DEPENDENCY_KINDS", "TARGET", "CopyState", "Mapped", "MissingSource"]

#: Kinds an experiment may need in the target, in the order they are created.
DEPENDENCY_KINDS = ("segments", "gates", "layers", "experiments")
Mapped = tuple[str, str | None]
"""Where a source entity lands: (target ID, key of the operation dependents wait for)."""


class MissingSource(Exception):
    """A dependency named by a copied entity cannot be copied (not in the source, ...)."""


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
    #: kind -> field -> copied entities holding a field bulkops does not know.
    uncopied: dict[str, Counter[str]] = field(default_factory=dict)

    async def read_target(self, ctx: ReadContext) -> None:
        """List the target's entities of every kind a copy may need."""
        for kind in DEPENDENCY_KINDS:
            self.target[kind] = {str(e["id"]): e async for e in ctx.list(kind, project=TARGET)}

    async def source_entity(self, ctx: ReadContext, kind: str, entity_id: str) -> dict[str, Any]:
        """The source's entity (read once); ``MissingSource`` when it does not exist."""
        key = (kind, entity_id)
        if key not in self.sources:
            entity = await ctx.get(entity_path(kind, entity_id), default=None)
            if entity is None:
                raise MissingSource(f"{kind} {entity_id} does not exist in the source")
            self.sources[key] = dict(entity)
        return self.sources[key]

    def keep(self, copy: ExperimentCopy) -> None:
        """Record an experiment's copy, fully planned, for the experiments after it."""
        self.mapped.update(copy.mapped)
        for (kind, _), names in copy.unknown.items():
            for name in names:
                self.uncopied.setdefault(kind, Counter())[name] += 1
        for kind, created in copy.created.items():
            self.target.setdefault(kind, {}).update(created)
            self.created.setdefault(kind, set()).update(created)
