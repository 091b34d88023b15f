"""Everything a migration plan reads, read up front with bounded concurrency.

``Inventory`` holds the selected source entities and the ones they pull in (read wave by wave:
what the entities of a wave name, and is not known yet, is read in the next), the source
entities that do not exist (``missing``), the target's entities of every migrated kind, the
override documents and ID lists of both sides, and the tags and target apps of both sides by
name (``source_catalog``, ``target_catalog``; None for a list the server does not serve). All per-entity reads go through the job's
``ctx.gather`` (``--read-concurrency`` in flight, results in input order), so the same projects
give the same inventory and the same plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bulkops.migrate.catalog import Catalog, by_name
from bulkops.migrate.desired import created_id
from bulkops.migrate.facts import (
    CATALOG_KINDS,
    MIGRATED_KINDS,
    OVERRIDE_KINDS,
    entity_path,
    overrides_path,
)
from bulkops.migrate.graph import Ref, references
from bulkops.migrate.idlists import has_id_list, read_ids
from bulkops.migrate.mapping import copy_names
from bulkops.migrate.operations import TARGET
from bulkops.run.job import SOURCE, ReadContext

__all__ = ["Inventory", "Node"]

Entity = dict[str, Any]


@dataclass
class Node:
    """One source entity of the migration and what the plan knows about it."""

    kind: str
    id: str
    entity: Entity
    selected: bool
    overrides: Entity | None = None
    ids: list[str] | None = None

    @property
    def ref(self) -> Ref:
        return (self.kind, self.id)

    @property
    def item(self) -> str:
        """The key of the item it is (or would be, when pulled in): ``source:gates:g1``."""
        return f"{SOURCE}:{self.kind}:{self.id}"

    @property
    def name(self) -> Any:
        return self.entity.get("name")


@dataclass
class Inventory:
    """What the plan reads (see the module docstring)."""

    ctx: ReadContext
    nodes: dict[Ref, Node] = field(default_factory=dict)
    missing: set[Ref] = field(default_factory=set)
    target: dict[str, dict[str, Entity]] = field(default_factory=dict)
    target_overrides: dict[Ref, Entity | None] = field(default_factory=dict)
    target_ids: dict[str, list[str]] = field(default_factory=dict)
    source_catalog: Catalog = field(default_factory=dict)
    target_catalog: Catalog = field(default_factory=dict)
    _by_name: dict[str, dict[Any, Entity]] = field(default_factory=dict)
    _expanded: set[Ref] = field(default_factory=set)

    async def read_target(self) -> None:
        """List the target's entities of every migrated kind, its tags and target apps (the
        lists side by side)."""

        async def listing(kind: str) -> dict[str, Entity]:
            return {str(e["id"]): e async for e in self.ctx.list(kind, project=TARGET)}

        tables = await self.ctx.gather(listing, MIGRATED_KINDS)
        self.target = dict(zip(MIGRATED_KINDS, tables, strict=True))
        self.target_catalog = await self._catalog(TARGET)
        self._by_name = {
            kind: {e.get("name"): e for e in reversed(list(table.values())) if e.get("name")}
            for kind, table in self.target.items()
        }

    async def read_source_catalog(self) -> None:
        """List the source's tags and target apps (what their creates copy)."""
        self.source_catalog = await self._catalog(SOURCE)

    async def _catalog(self, project: str) -> Catalog:
        async def listing(table: str) -> dict[str, Entity] | None:
            try:
                return by_name([e async for e in self.ctx.list(table, project=project)])
            except Exception as exc:
                if getattr(exc, "status", None) in (404, 405, 501):  # not served
                    return None
                raise

        return dict(zip(CATALOG_KINDS, await self.ctx.gather(listing, CATALOG_KINDS), strict=True))

    def add_selected(self, kind: str, entity: Entity) -> None:
        """A listed entity the migration was asked for."""
        ref = (kind, str(entity["id"]))
        self.nodes.setdefault(ref, Node(kind, ref[1], dict(entity), selected=True))

    async def pull_in(self) -> None:
        """Read, wave by wave, every source entity the known ones name (``missing``: 404)."""
        while True:
            wave = [n for ref, n in self.nodes.items() if ref not in self._expanded]
            if not wave:
                return
            self._expanded.update(n.ref for n in wave)
            await self._read_source_overrides(wave)
            named = (r for n in wave for r in references(n.kind, n.entity, n.overrides))
            unknown = sorted({r for r in named if r not in self.nodes and r not in self.missing})
            for ref, entity in zip(unknown, await self._read(self._source_entity, unknown)):
                if entity is None:
                    self.missing.add(ref)
                else:
                    self.nodes[ref] = Node(ref[0], ref[1], entity, selected=False)

    async def read_lists_and_matches(self, *, candidates: bool = False) -> None:
        """ID lists of the source's ID-list segments; overrides and ID lists of their matches
        in the target (``candidates``: also of the target's ``<id>_copy`` entities)."""
        segments = [
            n for n in self.nodes.values() if n.kind == "segments" and has_id_list(n.entity)
        ]
        source_ids = await self._read(lambda n: read_ids(self.ctx, n.id, SOURCE), segments)
        for node, ids in zip(segments, source_ids):
            node.ids = ids
        matched = [m for n in self.nodes.values() for m in self._matches(n, candidates)]
        matched = list(dict.fromkeys(matched))
        with_overrides = [ref for ref in matched if ref[0] in OVERRIDE_KINDS]
        docs = await self._read(lambda ref: self._overrides(TARGET, *ref), with_overrides)
        self.target_overrides.update(zip(with_overrides, docs))
        lists = [
            ref[1]
            for ref in matched
            if ref[0] == "segments" and has_id_list(self.target["segments"][ref[1]])
        ]
        self.target_ids.update(
            zip(lists, await self._read(lambda s: read_ids(self.ctx, s, TARGET), lists))
        )

    def match(self, node: Node) -> Entity | None:
        """The target's entity of the same ID (or the ID its name gives), else the same name."""
        table = self.target.get(node.kind, {})
        found = table.get(node.id) or table.get(created_id(node.kind, node.id, node.name))
        return found if found is not None else self._by_name.get(node.kind, {}).get(node.name)

    def _matches(self, node: Node, candidates: bool) -> Iterable[Ref]:
        found = self.match(node)
        if found is not None:
            yield (node.kind, str(found["id"]))
            if candidates:
                for name in copy_names(node.id):
                    if name not in self.target.get(node.kind, {}):
                        break
                    yield (node.kind, name)

    async def _read_source_overrides(self, wave: list[Node]) -> None:
        nodes = [n for n in wave if n.kind in OVERRIDE_KINDS]
        docs = await self._read(lambda n: self._overrides(SOURCE, n.kind, n.id), nodes)
        for node, doc in zip(nodes, docs):
            node.overrides = doc

    async def _source_entity(self, ref: Ref) -> Entity | None:
        try:
            return dict(await self.ctx.get(entity_path(*ref)))
        except Exception as exc:
            if _not_found(exc):
                return None
            raise

    async def _overrides(self, project: str, kind: str, entity_id: str) -> Entity | None:
        try:
            doc = await self.ctx.get(overrides_path(kind, entity_id), project=project)
        except Exception as exc:
            if _not_found(exc):  # not served for this kind (layers on some servers)
                return None
            raise
        return dict(doc) if isinstance(doc, Mapping) else None

    async def _read(self, fn: Any, items: list[Any]) -> list[Any]:
        return await self.ctx.gather(fn, items)


def _not_found(exc: BaseException) -> bool:
    return getattr(exc, "status", None) == 404
