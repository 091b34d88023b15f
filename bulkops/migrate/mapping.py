"""The ID mapping of a migration: where each source entity lands in the target.

``IdMap`` holds, per kind, source ID -> target ID (the same ID, the target's entity of the same
name, or a renamed copy) and the new names of renamed copies. It round-trips through JSON
(``to_meta``/``from_meta``) because it is stored with the run (journal meta ``id_map``), shown in
the plan and the report, and read back by ``bulkops verify``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["IdMap", "copy_names"]


def copy_names(source_id: str) -> Iterator[str]:
    """Names of a renamed copy, in the order they are tried: ``<id>_copy``, ``<id>_copy2``, ..."""
    yield f"{source_id}_copy"
    for n in range(2, 100):
        yield f"{source_id}_copy{n}"


@dataclass
class IdMap:
    """Source ID -> target ID per kind, and the names of renamed copies."""

    targets: dict[str, dict[str, str]] = field(default_factory=dict)
    renamed: dict[str, dict[str, str]] = field(default_factory=dict)

    def set(self, kind: str, source_id: str, target_id: str, *, name: str | None = None) -> None:
        """Record where ``source_id`` lands (``name``: the new name of a renamed copy)."""
        self.targets.setdefault(kind, {})[source_id] = target_id
        if name is not None:
            self.renamed.setdefault(kind, {})[source_id] = name

    def get(self, kind: str, source_id: str) -> str | None:
        """The target ID of ``source_id``, or None when it is not mapped."""
        return self.targets.get(kind, {}).get(source_id)

    def target_id(self, kind: str, source_id: str) -> str:
        """The target ID of ``source_id`` (itself when it is not mapped)."""
        return self.get(kind, source_id) or source_id

    def name_of(self, kind: str, source_id: str) -> str | None:
        """The new name of a renamed copy, or None when it kept its name."""
        return self.renamed.get(kind, {}).get(source_id)

    def entries(self) -> Iterator[tuple[str, str, str]]:
        """``(kind, source ID, target ID)`` for every mapped entity."""
        for kind, table in self.targets.items():
            for source_id, target_id in table.items():
                yield kind, source_id, target_id

    def __len__(self) -> int:
        return sum(len(table) for table in self.targets.values())

    def to_meta(self) -> dict[str, Any]:
        """``{"gates": {"src": "dst"}, ..., "renamed": {...}}`` (JSON)."""
        meta: dict[str, Any] = {kind: dict(table) for kind, table in self.targets.items()}
        if self.renamed:
            meta["renamed"] = {kind: dict(table) for kind, table in self.renamed.items()}
        return meta

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> IdMap:
        """The mapping ``to_meta`` wrote."""
        renamed = meta.get("renamed") or {}
        targets = {k: dict(v) for k, v in meta.items() if k != "renamed" and isinstance(v, dict)}
        return cls(targets, {k: dict(v) for k, v in renamed.items()})
