"""What a migration plan holds: its steps, ID mapping, counts per kind, conflicts, and the
fields it cannot copy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from bulkops.migrate.facts import CATALOG_KINDS, MIGRATED_KINDS
from bulkops.migrate.mapping import IdMap
from bulkops.run.job import Operation, Skip

__all__ = ["Conflict", "MigrationPlan", "uncopied_line", "uncopied_text"]


@dataclass(frozen=True)
class Conflict:
    """A target entity that differs from its source and no policy says what to do."""

    kind: str
    source_id: str
    target_id: str
    differs: str

    def __str__(self) -> str:
        where = "" if self.target_id == self.source_id else f" (the target's {self.target_id})"
        return f"{self.kind} {self.source_id}{where} differs: {self.differs}"


@dataclass
class MigrationPlan:
    """The plan's steps, its ID mapping, counts per kind, and the conflicts that stop it."""

    steps: list[Operation | Skip] = field(default_factory=list)
    id_map: IdMap = field(default_factory=IdMap)
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    #: kind -> field -> how many migrated entities hold a field the catalog does not know
    uncopied: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def mutations(self) -> int:
        return sum(isinstance(step, Operation) for step in self.steps)

    def summary_lines(self) -> list[str]:
        """Per kind: to create, to update, equal, left as is, renamed, pulled in, blocked; then
        the tags and target apps the migrated entities name (to create, equal)."""
        words = (
            ("create", "to create"),
            ("update", "to update"),
            ("equal", "equal"),
            ("left", "left as is"),
            ("rename", "renamed"),
            ("conflict", "in conflict"),
            ("pulled_in", "pulled in"),
            ("blocked", "blocked"),
            ("undefined", "not defined in the source"),
        )
        lines = [f"migration: {self.mutations} mutation(s)"]
        for kind in (*MIGRATED_KINDS, *CATALOG_KINDS):
            counts = self.counts.get(kind)
            if counts:
                shown = ", ".join(f"{counts[k]} {w}" for k, w in words if counts[k])
                lines.append(f"  {kind}: {shown}")
        if self.uncopied:
            lines.append(f"  {uncopied_line(self.uncopied)}")
        return lines


def uncopied_line(fields: Mapping[str, Counter[str]]) -> str:
    """The plan's line about fields of copied entities that bulkops does not know."""
    return (
        f"not copied: {uncopied_text(fields)}: fields this version of bulkops does not know "
        "(the API refuses them in a write); the copies lack them"
    )


def uncopied_text(fields: Mapping[str, Counter[str]]) -> str:
    """``experiments.turboMode (3), gates.newField (1)``: fields and how many entities hold them."""
    return ", ".join(
        f"{kind}.{name} ({count})"
        for kind in sorted(fields)
        for name, count in sorted(fields[kind].items())
    )
