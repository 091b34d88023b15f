"""What the runner needs from a Console API client, and the ``ReadContext`` jobs plan with.

``Connection`` is the small slice of ``bulkops.api.ConsoleClient`` the runner uses (request,
paginate, and the project's mutation budget); a test double must have all of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from bulkops.api.budget import Budget
from bulkops.api.errors import BadResponseError
from bulkops.api.pagination import iterate_pages
from bulkops.run.job import SOURCE

__all__ = ["ClientReadContext", "Connection"]


class Connection(Protocol):
    """A client of one project: ``ConsoleClient`` satisfies it."""

    @property
    def base_url(self) -> str: ...

    @property
    def budget(self) -> Budget: ...

    async def request(
        self, method: str, path: str, json: Any = None, *, params: Mapping[str, Any] | None = None
    ) -> Any: ...

    def paginate(self, kind_or_path: str, **filters: Any) -> AsyncIterator[dict]: ...


class ClientReadContext:
    """``ReadContext`` over named connections; reads never spend the mutation budget."""

    def __init__(self, connections: Mapping[str, Connection]) -> None:
        self._connections = connections

    def connection(self, project: str) -> Connection:
        """The connection named ``project`` (ConfigError when there is none)."""
        try:
            return self._connections[project]
        except KeyError:
            from bulkops.api.errors import ConfigError

            raise ConfigError(
                f"the job reads project {project!r} but no connection of that name is set up"
            ) from None

    async def get(self, path: str, *, project: str = SOURCE, **params: Any) -> Any:
        """GET ``path`` on the ``project`` connection."""
        return await self.connection(project).request("GET", path, params=params or None)

    def list(self, kind: str, *, project: str = SOURCE, **filters: Any) -> AsyncIterator[dict]:
        """Stream every entity of a catalog kind on the ``project`` connection."""
        return self.connection(project).paginate(kind, **filters)

    def paged(
        self, path: str, field: str, *, project: str = SOURCE, **params: Any
    ) -> AsyncIterator[Any]:
        """Stream the list ``field`` of every page of ``path`` (``data`` is one object a page).

        Pages are read in order, one at a time, until a page is empty or shorter than the
        first one (the server may cap ``limit``); ``limit`` defaults to the client's page size.
        """
        conn = self.connection(project)
        query = {"limit": getattr(conn, "page_size", 100), **params}

        async def fetch(page: int) -> Mapping[str, Any]:
            data = await conn.request("GET", path, params={**query, "page": page})
            values = data.get(field) if isinstance(data, Mapping) else None
            if not isinstance(values, list):
                raise BadResponseError(
                    f"page {page} of {path} has no {field!r} list in its data",
                    method="GET",
                    path=path,
                )
            return {"data": values}

        return iterate_pages(fetch, path=path, concurrency=1)
