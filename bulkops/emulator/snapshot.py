"""Snapshots: the emulator's whole state as one JSON object, and back.

Format (``format`` = ``"bulkops-snapshot/1"``)::

    {
      "format": "bulkops-snapshot/1",
      "projects": {
        "<project name>": {
          "entities": {"gates": [<entity>, ...], "dynamic_configs": [...], "segments": [...],
                       "layers": [...], "experiments": [...], "holdouts": [...]},
          "overrides": {"gates": {"<id>": <overrides>}, "holdouts": {...},
                        "experiments": {...}},
          "catalog": {"metrics": [...], "tags": [...], "target_apps": [...]},
          "id_lists": {"<segment id>": ["<id>", ...]}
        }
      }
    }

Entities are stored exactly as the API answers them (so an export of a real project, made by
listing it, loads as is). Overrides are as ``GET /{kind}/{id}/overrides`` answers; ``id_lists``
are the IDs of id-list segments (as ``GET /segments/{id}/id_list`` pages them); overrides of
a kind the emulator does not serve (layers, in an export of the real API) are kept as data. A
single-project snapshot (``entities``/``overrides``/``catalog`` at the top level, with an
optional ``project`` name) is accepted by :func:`load_snapshot` too. Every part but
``format`` is optional.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson

from .kinds import KINDS
from .store import Project, Store

__all__ = ["SNAPSHOT_FORMAT", "dump_snapshot", "load_snapshot", "read_snapshot_file"]

SNAPSHOT_FORMAT = "bulkops-snapshot/1"


def _dump_project(project: Project) -> dict[str, Any]:
    return {
        "entities": {kind: list(table.values()) for kind, table in project.entities.items()},
        "overrides": {kind: dict(table) for kind, table in project.overrides.items()},
        "catalog": {name: list(table.values()) for name, table in project.catalog.items()},
        "id_lists": {segment: list(ids) for segment, ids in project.id_lists.items()},
    }


def dump_snapshot(store: Store) -> dict[str, Any]:
    """A deep copy of every project's state in the documented format."""
    return copy.deepcopy(
        {
            "format": SNAPSHOT_FORMAT,
            "projects": {name: _dump_project(p) for name, p in store.projects.items()},
        }
    )


def _load_project(project: Project, data: dict[str, Any]) -> None:
    for kind, items in (data.get("entities") or {}).items():
        if kind not in KINDS:
            raise ValueError(f"snapshot: unknown kind {kind!r} (known: {sorted(KINDS)})")
        project.entities[kind] = {item["id"]: item for item in items}
    for kind, table in (data.get("overrides") or {}).items():
        if kind not in KINDS:
            raise ValueError(f"snapshot: {kind!r} have no overrides")
        # Kept (and dumped back) even for a kind whose overrides are not served (layers).
        project.overrides[kind] = dict(table)
    for name, items in (data.get("catalog") or {}).items():
        if name not in project.catalog:
            raise ValueError(f"snapshot: unknown catalog list {name!r}")
        project.catalog[name] = {item.get("id") or item["name"]: item for item in items}
    for segment, ids in (data.get("id_lists") or {}).items():
        project.id_lists[segment] = dict.fromkeys(ids)


def load_snapshot(store: Store, snapshot: dict[str, Any]) -> None:
    """Replace the state of the projects the snapshot names (deep-copied; others untouched)."""
    if snapshot.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"snapshot format {snapshot.get('format')!r} is not {SNAPSHOT_FORMAT!r}")
    snapshot = copy.deepcopy(snapshot)
    if "projects" in snapshot:
        parts = snapshot["projects"]
    else:
        parts = {snapshot.get("project") or next(iter(store.projects)): snapshot}
    unknown = set(parts) - set(store.projects)
    if unknown:
        raise ValueError(
            f"snapshot names projects this emulator does not serve: {sorted(unknown)}"
            f" (serving {sorted(store.projects)}: add them with --project NAME=KEY)"
        )
    for name, data in parts.items():
        project = store.projects[name]
        project.entities = {kind: {} for kind in KINDS}
        project.overrides = {kind: {} for kind in project.overrides}
        project.catalog = {name: {} for name in project.catalog}
        project.id_lists, project.id_list_versions = {}, {}
        _load_project(project, data)
        project.changed()


def read_snapshot_file(path: str | Path) -> dict[str, Any]:
    """Parse a snapshot JSON file; ValueError says in one line what is wrong with it."""
    file = Path(path).expanduser()
    expected = "expected a snapshot (JSON, from bulkops export or GET /_emulator/state)"
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"snapshot {file} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"snapshot {file} is a directory: {expected}") from None
    except OSError as exc:
        raise ValueError(f"snapshot {file} cannot be read: {exc.strerror or exc}") from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"snapshot {file} is not UTF-8 text (at byte {exc.start}): {expected}"
        ) from None
    try:
        snapshot = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"snapshot {file} is not JSON ({exc}): {expected}") from None
    if not isinstance(snapshot, dict):
        raise ValueError(f"snapshot {file} is not a JSON object: {expected}")  # noqa: TRY004
    return snapshot
