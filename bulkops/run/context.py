"""What the runner needs from a Console API client, and the ``ReadContext`` jobs plan with.

``Connection`` is the small slice of ``bulkops.api.ConsoleClient`` the runner uses (request,
paginate, and the project's mutation budget); a test double must have all of it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar

from bulkops.api.budget import Budget
from bulkops.api.errors import BadResponseError, NotFoundError
from bulkops.api.pagination import iterate_pages
from bulkops.run.job import MISSING, SOURCE

__all__ = ["ClientReadContext", "Connection"]

T = TypeVar("T")
R = TypeVar("R")


class Connection(Protocol):
    """A client of one project: ``ConsoleClient`` satisfies it."""

    @property
    def base_url(self) -> str: ...

    @property
    def budget(self) -> Budget: ...

    async def request(
        self, method: str, path: str, json: Any = None, *, params: Mapping[str, Any] | None = None
    ) -> Any: ...

    def paginate(self, kind_or_path: str, **filters: Any) -> AsyncGenerator[dict, None]: ...


class ClientReadContext:
    """``ReadContext`` over named connections; reads never spend the mutation budget.

    ``concurrency`` is how many reads a job may have in flight (``plan_item`` calls, ``gather``).
    """

    def __init__(self, connections: Mapping[str, Connection], *, concurrency: int = 16) -> None:
        self._connections = connections
        self._concurrency = max(1, concurrency)

    @property
    def concurrency(self) -> int:
        """How many reads a job may have in flight at once."""
        return self._concurrency

    def connection(self, project: str) -> Connection:
        """The connection named ``project`` (ConfigError when there is none)."""
        try:
            return self._connections[project]
        except KeyError:
            from bulkops.api.errors import ConfigError

            raise ConfigError(
                f"the job reads project {project!r} but no connection of that name is set up"
            ) from None

    async def get(
        self, path: str, *, project: str = SOURCE, default: Any = MISSING, **params: Any
    ) -> Any:
        """GET ``path`` on the ``project`` connection; on 404, ``default`` when given."""
        try:
            return await self.connection(project).request("GET", path, params=params or None)
        except NotFoundError:
            if default is MISSING:
                raise
            return default

    async def gather(self, fn: Callable[[T], Awaitable[R]], values: Iterable[T]) -> list[R]:
        """``[await fn(v) for v in values]``, ``concurrency`` at a time, in order."""
        from bulkops.run.ordered import gather

        return await gather(fn, values, concurrency=self._concurrency)

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
