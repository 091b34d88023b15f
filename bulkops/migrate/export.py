"""``export_snapshot``: a whole project written to a ``bulkops-snapshot/1`` file, streamed.

The file is the emulator's snapshot format in its single-project form (``bulkops emulator
--seed FILE`` loads it as is), plus an ``exported`` object saying where and when it was made:

    {"format": "bulkops-snapshot/1",
     "exported": {"by", "at", "base_url", "project_id", "kinds"},
     "entities": {"segments": [...], "gates": [...], ...},        every entity as listed
     "id_lists": {"<segment id>": ["<unit id>", ...]},             ID-list segments
     "overrides": {"gates": {"<id>": <document>}, ...},           non-empty documents only
     "catalog": {"tags": [...], "target_apps": [...], "metrics": [...]}}

Memory stays bounded whatever the project's size: entities are written as their pages arrive,
ID lists page by page, override documents ``limit`` reads at a time in entity order; only the
IDs of the entities with overrides or ID lists are kept until their section is written. The
document goes to a temporary file next to ``out`` that is renamed at the very end, so an
interrupted export never leaves a truncated file behind.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import anyio

from bulkops import __version__
from bulkops.api.config import DEFAULT_READ_CONCURRENCY
from bulkops.api.errors import ApiError, NotFoundError
from bulkops.migrate.facts import (
    CATALOG_LISTS,
    MIGRATED_KINDS,
    OVERRIDE_KINDS,
    id_list_path,
    overrides_are_empty,
    overrides_path,
)
from bulkops.migrate.idlists import has_id_list
from bulkops.migrate.jsonstream import JsonStreamWriter
from bulkops.run.context import ClientReadContext, Connection
from bulkops.run.context import Connection as ProjectReader
from bulkops.run.ordered import ordered_map

__all__ = ["EXPORT_KINDS", "ExportStatistics", "export_snapshot"]

SNAPSHOT_FORMAT = "bulkops-snapshot/1"
#: Every kind an export can write: the migrated kinds, then the catalog lists.
EXPORT_KINDS = MIGRATED_KINDS + CATALOG_LISTS


@dataclass
class ExportStatistics:
    """What an export wrote: entities by kind, override documents, ID lists and their IDs."""

    entities: dict[str, int] = field(default_factory=dict)
    overrides: dict[str, int] = field(default_factory=dict)
    id_lists: int = 0
    ids: int = 0
    bytes: int = 0

    def describe(self) -> str:
        """One line: ``120 gates, 40 segments; 3 ID lists (2,500 IDs); overrides of 30``."""
        kinds = ", ".join(f"{n:,} {kind}" for kind, n in self.entities.items()) or "nothing"
        parts = [kinds]
        if self.id_lists:
            parts.append(f"{self.id_lists:,} ID list(s) ({self.ids:,} IDs)")
        if sum(self.overrides.values()):
            parts.append(f"overrides of {sum(self.overrides.values()):,} entities")
        return "; ".join(parts)


async def export_snapshot(
    conn: ProjectReader,
    out: str | os.PathLike[str],
    *,
    kinds: Iterable[str] = EXPORT_KINDS,
    limit: int = DEFAULT_READ_CONCURRENCY,
) -> ExportStatistics:
    """Write the project ``conn`` reads to ``out`` (see the module docstring)."""
    path = anyio.Path(out)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    stats = ExportStatistics()
    try:
        async with await anyio.open_file(tmp, "wb") as file:
            writer = JsonStreamWriter(file)
            await _write(writer, conn, tuple(kinds), limit, stats)
            await writer.finish()
            stats.bytes = writer.written
            await file.flush()
            await anyio.to_thread.run_sync(os.fsync, file.wrapped.fileno())
        await tmp.replace(path)
    except BaseException:
        with anyio.CancelScope(shield=True), contextlib.suppress(OSError):
            await tmp.unlink(missing_ok=True)
        raise
    return stats


async def _write(
    writer: JsonStreamWriter,
    conn: ProjectReader,
    kinds: tuple[str, ...],
    limit: int,
    stats: ExportStatistics,
) -> None:
    writer.begin_object()
    writer.value(SNAPSHOT_FORMAT, "format")
    writer.value(await _provenance(conn, kinds), "exported")
    with_overrides: dict[str, list[str]] = {}
    with_ids: list[str] = []
    writer.begin_object("entities")
    for kind in (k for k in MIGRATED_KINDS if k in kinds):
        writer.begin_array(kind)
        count = 0
        async for entity in conn.paginate(kind):
            writer.value(entity)
            count += 1
            if kind in OVERRIDE_KINDS:
                with_overrides.setdefault(kind, []).append(str(entity["id"]))
            if kind == "segments" and has_id_list(entity):
                with_ids.append(str(entity["id"]))
            await writer.drain()
        writer.end()
        stats.entities[kind] = count
    writer.end()
    await _write_id_lists(writer, conn, with_ids, stats)
    await _write_overrides(writer, conn, with_overrides, limit, stats)
    writer.begin_object("catalog")
    for name in (k for k in CATALOG_LISTS if k in kinds):
        writer.begin_array(name)
        count = 0
        async for entry in _catalog(conn, name):
            writer.value(entry)
            count += 1
            await writer.drain()
        writer.end()
        stats.entities[name] = count
    writer.end()
    writer.end()


async def _provenance(conn: ProjectReader, kinds: tuple[str, ...]) -> dict[str, Any]:
    from bulkops.run.identity import read_project_id

    return {
        "by": f"bulkops {__version__}",
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "base_url": conn.base_url,
        "project_id": await read_project_id(cast(Connection, conn)),
        "kinds": list(kinds),
    }


async def _write_id_lists(
    writer: JsonStreamWriter, conn: ProjectReader, segments: list[str], stats: ExportStatistics
) -> None:
    ctx = ClientReadContext({"source": cast(Connection, conn)})
    writer.begin_object("id_lists")
    for segment_id in segments:
        writer.begin_array(segment_id)
        async for unit_id in ctx.paged(id_list_path(segment_id), "ids"):
            writer.value(unit_id)
            stats.ids += 1
            await writer.drain()
        writer.end()
        stats.id_lists += 1
    writer.end()


async def _write_overrides(
    writer: JsonStreamWriter,
    conn: ProjectReader,
    ids_by_kind: dict[str, list[str]],
    limit: int,
    stats: ExportStatistics,
) -> None:
    writer.begin_object("overrides")
    for kind, ids in ids_by_kind.items():
        stats.overrides[kind] = await _write_kind_overrides(writer, conn, kind, ids, limit)
    writer.end()


async def _write_kind_overrides(
    writer: JsonStreamWriter, conn: ProjectReader, kind: str, ids: list[str], limit: int
) -> int:
    """The non-empty override documents of ``kind``; a kind without any is left out."""
    written = 0

    async def read(entity_id: str) -> Any:
        try:
            return await conn.request("GET", overrides_path(kind, entity_id))
        except NotFoundError:  # an API without overrides for this kind, or deleted since
            return None

    async def keep(entity_id: str, doc: Any) -> None:
        nonlocal written
        if overrides_are_empty(doc):
            return
        if not written:
            writer.begin_object(kind)
        writer.value(doc, entity_id)
        written += 1
        await writer.drain()

    await ordered_map(read, ids, keep, limit=limit)
    if written:
        writer.end()
    return written


async def _catalog(conn: ProjectReader, name: str) -> Any:
    """Every entry of a catalog list; a server that does not list it yields nothing."""
    try:
        async for entry in conn.paginate(name):
            yield entry
    except ApiError as exc:
        if exc.status not in (404, 405, 501):
            raise
