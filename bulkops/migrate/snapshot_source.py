"""``SnapshotConnection``: an export file served read-only, as the Console API would serve it.

``bulkops run migrate --from-snapshot FILE`` plans from a ``bulkops-snapshot/1`` file instead of
a live source project. This connection satisfies the runner's ``Connection`` protocol
(``base_url``, ``budget``, ``request``, ``paginate``) and answers every read a migration makes
(lists with their filters, one entity, override documents, ID lists page by page, the catalog
lists, ``GET /project``) the way the API answers them, so a job cannot tell it from the API.
Anything but GET is refused (``SnapshotReadOnlyError``, a 405): a snapshot is never written.
``GET /project`` answers the exported project's ID, and ``snapshot`` (this connection's
``base_url``), so that ``migrate --from-snapshot`` can check it really reads the file.

The file may be an export (single-project form) or an emulator dump (``projects``: the one
project it holds, or the one named by ``project``).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncGenerator, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import orjson

from bulkops.api.budget import MutationBudget
from bulkops.api.errors import ApiError, ConfigError, NotFoundError, ValidationError
from bulkops.api.resources import CATALOG
from bulkops.errors import shown
from bulkops.migrate.facts import OVERRIDE_KINDS, empty_overrides
from bulkops.migrate.idlists import has_id_list
from bulkops.run.userfile import read_user_text

__all__ = ["SnapshotConnection", "SnapshotReadOnlyError", "load_snapshot_project"]

SNAPSHOT_FORMAT = "bulkops-snapshot/1"
_LIST_PATHS = {kind.list_path: name for name, kind in CATALOG.items()}


class SnapshotReadOnlyError(ApiError):
    """A write was sent to a snapshot source (405): snapshots are read-only."""


def load_snapshot_project(
    snapshot: Mapping[str, Any], project: str | None = None, *, where: str = "the snapshot"
) -> dict[str, Any]:
    """The one project's part of a snapshot (``entities``, ``overrides``, ``id_lists``...)."""
    if snapshot.get("format") != SNAPSHOT_FORMAT:
        raise ConfigError(
            f"{where} is not a bulkops snapshot (format {snapshot.get('format')!r}, expected "
            f"{SNAPSHOT_FORMAT!r}): make one with `bulkops export --out FILE`"
        )
    parts = snapshot.get("projects")
    if not isinstance(parts, Mapping):
        return dict(snapshot)
    if project is None and len(parts) == 1:
        project = next(iter(parts))
    if project not in parts:
        names = ", ".join(sorted(parts)) or "none"
        raise ConfigError(f"{where} holds projects {names}: name the one to read")
    return dict(parts[project])


class SnapshotConnection:
    """A read-only ``Connection`` over one project of a snapshot (see the module docstring)."""

    def __init__(
        self,
        snapshot: Mapping[str, Any],
        *,
        project: str | None = None,
        base_url: str = "snapshot:",
        page_size: int = 100,
    ) -> None:
        part = load_snapshot_project(snapshot, project, where=base_url)
        self.base_url = base_url
        self.page_size = page_size
        #: Never spent: a snapshot is only read. Here because the runner reads every budget.
        self.budget = MutationBudget()
        exported = part.get("exported") or snapshot.get("exported") or {}
        self._project_id = exported.get("project_id") if isinstance(exported, Mapping) else None
        entities = part.get("entities") or {}
        self._lists: dict[str, list[dict[str, Any]]] = {
            kind: list(rows) for kind, rows in entities.items()
        }
        for name, rows in (part.get("catalog") or {}).items():
            self._lists[name] = list(rows)
        self._by_id = {
            kind: {str(e.get("id", e.get("name"))): e for e in rows}
            for kind, rows in self._lists.items()
        }
        self._overrides: dict[str, dict[str, Any]] = dict(part.get("overrides") or {})
        self._id_lists: dict[str, list[str]] = dict(part.get("id_lists") or {})

    @classmethod
    def from_file(cls, path: str | Path, *, project: str | None = None) -> SnapshotConnection:
        """Read an export (or emulator dump) file; ConfigError when it is not one."""
        file = Path(path)
        expected = "an export file (JSON, from bulkops export)"
        try:
            data = orjson.loads(read_user_text(file, "snapshot", expected))
        except orjson.JSONDecodeError as exc:
            raise ConfigError(
                f"snapshot {shown(file)} is not JSON: {exc}: expected {expected}"
            ) from None
        if not isinstance(data, Mapping):
            raise ConfigError(f"snapshot {shown(file)} is not a JSON object")
        return cls(data, project=project, base_url=f"snapshot:{file.resolve()}")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    # -- the Connection protocol ---------------------------------------------------------------

    async def request(
        self, method: str, path: str, json: Any = None, *, params: Mapping[str, Any] | None = None
    ) -> Any:
        """Answer a GET as the API would (its ``data``); anything else is refused."""
        if method.upper() != "GET":
            raise SnapshotReadOnlyError(
                f"{self.base_url} is a snapshot: it is only read, never written",
                status=405,
                method=method.upper(),
                path=path,
            )
        return copy.deepcopy(self._get(path.split("?", 1)[0].rstrip("/"), dict(params or {})))

    async def paginate(self, kind_or_path: str, **filters: Any) -> AsyncGenerator[dict, None]:
        """Every entry of a list, filtered as the list endpoint filters."""
        for entry in self._matching(self._list_name(kind_or_path), filters):
            yield copy.deepcopy(entry)

    # -- answers -------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        if path == "/project":
            # ``snapshot`` tells a migration planned with --from-snapshot that it reads one.
            return {"id": self._project_id, "snapshot": self.base_url}
        if path in _LIST_PATHS:
            page, limit = _page(params, self.page_size)
            rows = list(self._matching(_LIST_PATHS[path], params))
            return rows[(page - 1) * limit : page * limit]
        parts = path.strip("/").split("/")
        kind = _LIST_PATHS.get("/" + parts[0]) if parts[0] else None
        if kind is None or len(parts) not in (2, 3):
            raise self._not_found(path, f"Cannot GET {path}")
        entity = self._entity(kind, parts[1], path)
        if len(parts) == 2:
            return entity
        if parts[2] == "overrides" and kind in OVERRIDE_KINDS:
            return self._overrides.get(kind, {}).get(parts[1]) or empty_overrides(kind)
        if parts[2] == "id_list" and kind == "segments":
            return self._id_list_page(entity, path, params)
        raise self._not_found(path, f"Cannot GET {path}")

    def _entity(self, kind: str, entity_id: str, path: str) -> dict[str, Any]:
        entity = self._by_id.get(kind, {}).get(entity_id)
        if entity is None:
            raise self._not_found(path, f"{kind.removesuffix('s')} {entity_id} not found.")
        return entity

    def _id_list_page(
        self, segment: Mapping[str, Any], path: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        if not has_id_list(segment):
            raise ValidationError(
                f"segment {segment['id']} is {segment.get('type')!r}: it has no ID list",
                status=400,
                method="GET",
                path=path,
            )
        ids = self._id_lists.get(str(segment["id"]), [])
        page, limit = _page(params, self.page_size)
        chunk = ids[(page - 1) * limit : page * limit]
        return {"name": segment.get("name"), "count": len(ids), "ids": chunk}

    def _list_name(self, kind_or_path: str) -> str:
        if kind_or_path in CATALOG:
            return kind_or_path
        name = _LIST_PATHS.get(kind_or_path)
        if name is None:
            raise self._not_found(kind_or_path, f"Cannot GET {kind_or_path}")
        return name

    def _matching(self, name: str, filters: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        wanted = {k: _values(v) for k, v in filters.items() if k not in ("page", "limit")}
        for entry in self._lists.get(name, []):
            if all(_matches(entry, key, values) for key, values in wanted.items()):
                yield entry

    def _not_found(self, path: str, message: str) -> NotFoundError:
        return NotFoundError(message, status=404, method="GET", path=path)


def _page(params: Mapping[str, Any], default: int) -> tuple[int, int]:
    try:
        page = max(1, int(params.get("page") or 1))
        limit = max(1, int(params.get("limit") or default))
    except (TypeError, ValueError):
        return 1, default
    return page, limit


def _values(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _matches(entry: Mapping[str, Any], key: str, wanted: list[str]) -> bool:
    actual = entry.get(key)
    if isinstance(actual, list):
        return bool({str(a) for a in actual} & set(wanted))
    if isinstance(actual, bool):
        return ("true" if actual else "false") in wanted
    return str(actual) in wanted
