"""Which project each connection's key belongs to, so a plan is never sent to another project.

At the start of a run, ``GET /project`` (``ExternalProjectDto {id}``) is read on every
connection and the ids are kept in the journal meta as ``project_ids`` (the id, never the key).
When a run is resumed or reverted, the ids are read again and compared: a key that now belongs
to another project is refused (``ProjectMismatchError``, exit 2) before anything is sent. A
server without ``GET /project`` records nothing and skips the check (logged at debug level).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bulkops.errors import ApiError, NotFoundError, ProjectMismatchError
from bulkops.run.context import Connection

__all__ = ["META_KEY", "ProjectMismatchError", "check_project_ids", "read_project_ids"]

log = logging.getLogger("bulkops.run")

META_KEY = "project_ids"
_NO_ENDPOINT = frozenset({404, 405, 501})


async def read_project_id(conn: Connection) -> str | None:
    """The id of the project ``conn``'s key belongs to (None: the server does not say)."""
    try:
        data = await conn.request("GET", "/project")
    except NotFoundError:
        log.debug("GET /project is not served at %s: project identity not checked", conn.base_url)
        return None
    except ApiError as exc:
        if exc.status in _NO_ENDPOINT:
            log.debug("GET /project answered %s: project identity not checked", exc.status)
            return None
        raise
    ident = data.get("id") if isinstance(data, Mapping) else None
    if not ident:
        log.debug("GET /project at %s has no id: project identity not checked", conn.base_url)
        return None
    return str(ident)


async def read_project_ids(connections: Mapping[str, Connection]) -> dict[str, str | None]:
    """``read_project_id`` of every connection, by connection name."""
    return {name: await read_project_id(conn) for name, conn in connections.items()}


def check_project_ids(
    run_id: str,
    stored: Mapping[str, str | None] | None,
    current: Mapping[str, str | None],
    key_hints: Mapping[str, str] | None = None,
) -> None:
    """Raise ``ProjectMismatchError`` when a connection's key now belongs to another project."""
    for name, was in (stored or {}).items():
        now = current.get(name)
        if was and now and was != now:
            hint = (key_hints or {}).get(name, f"the {name} connection's key")
            raise ProjectMismatchError(
                f"run {run_id} was planned against another project: its {name} connection was "
                f"project {was}, but the key given now belongs to project {now}; nothing was "
                f"sent: pass project {was}'s key ({hint})",
                name,
            )
