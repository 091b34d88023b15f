"""Verifying a migration: does the target hold what the source holds, through the ID mapping?

``verify_mapping`` reads both projects (lists of the mapped kinds, then the override documents
and ID lists of the mapped entities, ``limit`` reads in flight) and compares, for every mapped
entity, what the target should hold (``desired_state``: the source's writable fields with their
references remapped) with what it holds, field by field, with the migration's own comparison.
Read-only fields (IDs, times, creators and modifiers) are never compared, nor what the target
does on its own (an experiment's status, a gate it computed STALE). Every difference names the
entity: kind, source ID -> target ID, field, source value, target value. A tag or target app a
mapped entity names that the target does not define is a difference too (``tags NAME ->
NAME: (entity): source "named by gates g1", target "missing"``). A field of the source that
bulkops does not know (an API newer than it) is not compared: ``not_compared`` counts them.

``run_id_map`` finds the mapping of a migrate run: the journal meta ``id_map`` the runner stores
from ``Migrate.plan_meta()``, else the one the plan itself tells (see its docstring).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bulkops.api.config import DEFAULT_READ_CONCURRENCY
from bulkops.api.errors import ApiError, NotFoundError
from bulkops.migrate.catalog import by_name, catalog_names, missing_in_target
from bulkops.migrate.compare import differing_fields, normalize_overrides
from bulkops.migrate.desired import desired_state, remap_overrides, unknown_fields
from bulkops.migrate.facts import CATALOG_KINDS, OVERRIDE_KINDS, overrides_path
from bulkops.migrate.graph import Ref
from bulkops.migrate.idlists import has_id_list
from bulkops.migrate.mapping import IdMap, copy_names
from bulkops.run.context import Connection as ProjectReader
from bulkops.run.journal import Journal
from bulkops.run.ordered import gather

__all__ = ["Difference", "VerifyResult", "run_id_map", "verify_mapping"]

Entity = dict[str, Any]
_KEY = re.compile(r"^target:(?P<kind>[a-z_]+):(?P<id>[^:]+):(?P<step>.+)$")
_ITEM = re.compile(r"^source:(?P<kind>[a-z_]+):(?P<id>.+)$")
_TARGET_NOTE = re.compile(r"\(target [a-z_]+ (?P<id>[^)\s]+)\)")
#: Skip reasons of entities the run did not map.
_UNMAPPED = ("not selected by", "named only by blocked entities")


@dataclass(frozen=True)
class Difference:
    """One field of one mapped entity whose target value is not the source's."""

    kind: str
    source_id: str
    target_id: str
    field: str
    source: Any
    target: Any

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.source_id} -> {self.target_id}: {self.field}: "
            f"source {_shown(self.source)}, target {_shown(self.target)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source_id": self.source_id,
            "target_id": self.target_id,
            "field": self.field,
            "source": self.source,
            "target": self.target,
        }


@dataclass
class VerifyResult:
    """How many mapped entities were compared, every difference found, and the fields of the
    source that were not compared (kind -> field -> entities): bulkops does not know them."""

    compared: int = 0
    differences: list[Difference] = field(default_factory=list)
    not_compared: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the target holds what the source holds (no difference)."""
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        """``{"compared", "differences": [...], "not_compared": {kind: {field: n}}}`` (JSON)."""
        return {
            "compared": self.compared,
            "differences": [d.to_dict() for d in self.differences],
            "not_compared": {kind: dict(c) for kind, c in self.not_compared.items()},
        }


def _shown(value: Any, width: int = 120) -> str:
    import orjson

    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return text if len(text) <= width else text[: width - 1] + "…"


async def verify_mapping(
    source: ProjectReader,
    target: ProjectReader,
    id_map: IdMap,
    *,
    limit: int = DEFAULT_READ_CONCURRENCY,
) -> VerifyResult:
    """Compare every entity of ``id_map`` (see the module docstring)."""
    kinds = [kind for kind in id_map.targets if id_map.targets[kind]]

    async def listing(spec: tuple[ProjectReader, str]) -> dict[str, Entity]:
        conn, kind = spec
        return {str(e["id"]): e async for e in conn.paginate(kind)}

    tables = await gather(listing, [(c, k) for c in (source, target) for k in kinds], concurrency=8)
    sources = dict(zip(kinds, tables[: len(kinds)], strict=True))
    targets = dict(zip(kinds, tables[len(kinds) :], strict=True))
    result = VerifyResult()
    pairs: list[tuple[str, str, str]] = []
    carried: list[tuple[Ref, Entity]] = []
    for kind, source_id, target_id in id_map.entries():
        result.compared += 1
        entity, copy = sources[kind].get(source_id), targets[kind].get(target_id)
        if entity is None or copy is None:
            presence = ("exists" if entity else "missing", "exists" if copy else "missing")
            result.differences.append(Difference(kind, source_id, target_id, "(entity)", *presence))
            continue
        for name in unknown_fields(kind, entity):
            result.not_compared.setdefault(kind, Counter())[name] += 1
        desired = desired_state(kind, entity, id_map.target_id, updates=True, target_apps=True)
        renamed = id_map.name_of(kind, source_id)
        if renamed:
            desired["name"] = renamed
        carried.append(((kind, source_id), desired))
        for name in differing_fields(kind, desired, copy):
            result.differences.append(
                Difference(kind, source_id, target_id, name, desired.get(name), copy.get(name))
            )
        pairs.append((kind, source_id, target_id))
    result.differences += await _catalog_differences(target, carried)
    result.differences += await _overrides(source, target, pairs, id_map, limit)
    result.differences += await _id_lists(source, target, pairs, sources, limit)
    return result


async def _catalog_differences(
    target: ProjectReader, carried: list[tuple[Ref, Entity]]
) -> list[Difference]:
    """The tags and target apps mapped entities name that the target does not define."""

    async def listing(table: str) -> dict[str, Entity] | None:
        try:
            return by_name([e async for e in target.paginate(table)])
        except ApiError as exc:
            if exc.status in (404, 405, 501):  # not served: nothing to check
                return None
            raise

    if not any(catalog_names(desired) for _, desired in carried):
        return []
    tables = await gather(listing, CATALOG_KINDS, concurrency=2)
    catalog = dict(zip(CATALOG_KINDS, tables, strict=True))
    return [
        Difference(table, name, name, "(entity)", f"named by {kind} {ident}", "missing")
        for table, name, (kind, ident) in missing_in_target(carried, catalog)
    ]


async def _overrides(
    source: ProjectReader,
    target: ProjectReader,
    pairs: list[tuple[str, str, str]],
    id_map: IdMap,
    limit: int,
) -> list[Difference]:
    wanted = [p for p in pairs if p[0] in OVERRIDE_KINDS]

    async def both(pair: tuple[str, str, str]) -> tuple[Any, Any]:
        kind, source_id, target_id = pair
        return (
            await _document(source, overrides_path(kind, source_id)),
            await _document(target, overrides_path(kind, target_id)),
        )

    found = []
    for (kind, source_id, target_id), (mine, theirs) in zip(
        wanted, await gather(both, wanted, concurrency=limit), strict=True
    ):
        desired = normalize_overrides(remap_overrides(kind, mine or {}, id_map.target_id))
        actual = normalize_overrides(theirs)
        if desired != actual:
            found.append(Difference(kind, source_id, target_id, "overrides", desired, actual))
    return found


async def _id_lists(
    source: ProjectReader,
    target: ProjectReader,
    pairs: list[tuple[str, str, str]],
    sources: Mapping[str, Mapping[str, Entity]],
    limit: int,
) -> list[Difference]:
    from bulkops.migrate.facts import id_list_path
    from bulkops.run.context import ClientReadContext

    ctx = ClientReadContext({"source": source, "target": target})  # type: ignore[dict-item]
    wanted = [p for p in pairs if p[0] == "segments" and has_id_list(sources["segments"][p[1]])]

    async def both(pair: tuple[str, str, str]) -> tuple[list[str], list[str]]:
        _, source_id, target_id = pair
        mine = [str(i) async for i in ctx.paged(id_list_path(source_id), "ids")]
        try:
            theirs = [
                str(i) async for i in ctx.paged(id_list_path(target_id), "ids", project="target")
            ]
        except ApiError:  # not an ID-list segment in the target (400), or gone (404)
            theirs = []
        return mine, theirs

    found = []
    for (kind, source_id, target_id), (mine, theirs) in zip(
        wanted, await gather(both, wanted, concurrency=limit), strict=True
    ):
        if set(mine) != set(theirs):
            extra, missing = set(theirs) - set(mine), set(mine) - set(theirs)
            shown = f"{len(theirs)} IDs (+{len(extra)} not in the source, -{len(missing)})"
            found.append(
                Difference(kind, source_id, target_id, "ID list", f"{len(mine)} IDs", shown)
            )
    return found


async def _document(conn: ProjectReader, path: str) -> Any:
    try:
        return await conn.request("GET", path)
    except NotFoundError:
        return None


def run_id_map(journal: Journal) -> IdMap:
    """The ID mapping of a migrate run (see the module docstring).

    Without meta ``id_map``, the plan tells it: an operation's key names the target entity it
    writes (``target:gates:g1_copy:create``) and its item the source entity; a skip names a
    target entity of another ID as ``(target gates g1_copy)``; a listed item the plan left
    alone equals the target's entity of the same ID. A create under a copy name is a rename.
    """
    meta = journal.meta().get("id_map")
    if isinstance(meta, Mapping):
        return IdMap.from_meta(meta)
    id_map = IdMap()
    told: set[Ref] = set()
    for batch in journal.iter_operations():
        for rec in batch:
            key, item = _KEY.match(rec.op.key), _item(rec.op.items)
            if key is None or item is None or item[0] != key["kind"]:
                continue
            told.add(item)
            name = rec.op.body.get("name") if isinstance(rec.op.body, dict) else None
            renamed = key["step"] == "create" and name in set(copy_names(item[1]))
            id_map.set(item[0], item[1], key["id"], name=name if renamed else None)
    for item_key, reason, blocked in journal.iter_skips():
        item = _item([item_key])
        if item is None or item in told:
            continue
        told.add(item)
        if blocked or reason.startswith(_UNMAPPED):
            continue
        note = _TARGET_NOTE.search(reason)
        target_id = note["id"] if note else item[1]
        renamed = target_id != item[1] and target_id in set(copy_names(item[1]))
        id_map.set(*item, target_id, name=target_id if renamed else None)
    for items in journal.iter_items():
        for listed in items:
            if (listed.kind, listed.id) not in told:
                id_map.set(listed.kind, listed.id, listed.id)
    return id_map


def _item(items: Iterable[str]) -> Ref | None:
    for item in items:
        match = _ITEM.match(item)
        if match:
            return match["kind"], match["id"]
    return None
