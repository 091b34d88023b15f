"""A loopback server in front of the emulator that misbehaves on demand (for CLI tests).

The emulator answers the API faithfully, and its faults stop at what a real service does
(5xx, resets, a 429 with a number of seconds). Some hostile answers it cannot give: a
``pagination.nextPage`` that loops, a list that hands out the same page forever, a
``Retry-After`` that is an HTTP-date or ``1e309``. :class:`HostileProxy` forwards every request
to the emulator and bends the answers it is told to bend; :meth:`HostileProxy.calm` makes it
a plain proxy again, so that a resumed run finds a server behaving again.

::

    with start_hostile_proxy(emulator) as proxy:
        proxy.loop_pages("/gates", lambda page: 1)
        env = cli_env(emulator, state, STATSIG_CONSOLE_API_URL=proxy.base_url)
        ...
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from loopback import serve_in_thread

from bulkops.testing import RunningEmulator

API_PREFIX = "/console/v1"
FORWARDED_HEADERS = ("STATSIG-API-KEY", "STATSIG-API-VERSION", "Content-Type", "Accept")

NextPage = Callable[[int], "int | str | None"]
"""The ``nextPage`` a bent list names after page ``n``: a page number (made into the API's
link), a whole link as it is (``"http://elsewhere/..."``), or None (the end)."""


@dataclass
class Answer:
    """Answer the next ``count`` requests of ``method`` to paths starting with ``prefix``
    (under ``/console/v1``) with ``status`` and these ``headers``, without forwarding them."""

    method: str
    prefix: str
    status: int
    headers: dict[str, str]
    count: int

    def takes(self, request: web.Request) -> bool:
        """Whether this answer is given to ``request`` (counting it down when so)."""
        if self.count <= 0 or request.method != self.method:
            return False
        if not request.path.startswith(self.prefix):
            return False
        self.count -= 1
        return True


@dataclass
class BentList:
    """How the answers of one list endpoint are bent."""

    next_page: NextPage | None = None
    total: Any = ...  # ``...``: the emulator's own totalItems; ``None``: key removed
    same_page: bool = False  # every page answers page 1's items


class HostileProxy:
    """Forwards to ``upstream`` (the emulator's root URL); bends what it is told to.

    ``requests`` counts what reached the proxy, by ``"METHOD /path"`` (query left out).
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.base_url = ""
        self.requests: Counter[str] = Counter()
        self._answers: list[Answer] = []
        self._lists: dict[str, BentList] = {}
        self._session: aiohttp.ClientSession | None = None

    # -- what to bend (call from the test's thread) ------------------------------------

    def loop_pages(self, path: str, next_page: NextPage, *, total: Any = ...) -> None:
        """The list at ``path`` names ``next_page(n)`` after page ``n``; ``total`` replaces its
        ``totalItems`` (None removes it, ``...`` keeps the emulator's)."""
        self._lists[path] = BentList(next_page=next_page, total=total)

    def repeat_first_page(self, path: str, *, total: Any = None) -> None:
        """The list at ``path`` answers page 1's items for every page, always naming the next
        page (``totalItems`` removed unless ``total`` is given): it never ends by itself."""
        self._lists[path] = BentList(next_page=lambda page: page + 1, total=total, same_page=True)

    def answer(
        self,
        method: str,
        prefix: str,
        status: int,
        *,
        retry_after: str | None = None,
        count: int = 1_000_000,
    ) -> None:
        """The next ``count`` ``method`` requests under ``prefix`` get ``status`` (with this
        ``Retry-After`` header value, sent as it is) and are not forwarded."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self._answers.append(Answer(method.upper(), API_PREFIX + prefix, status, headers, count))

    def calm(self) -> None:
        """Forward everything as it is from now on."""
        self._answers.clear()
        self._lists.clear()

    # -- serving --------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        self.requests[f"{request.method} {request.path}"] += 1
        for answer in self._answers:
            if answer.takes(request):
                body = orjson.dumps({"status": answer.status, "message": "not now"})
                return web.Response(
                    status=answer.status,
                    body=body,
                    headers=answer.headers,
                    content_type="application/json",
                )
        bent = self._lists.get(request.path.removeprefix(API_PREFIX))
        query = dict(request.query)
        page = int(query.get("page", "1"))
        if bent is not None and request.method == "GET" and bent.same_page:
            query["page"] = "1"
        status, body, content_type = await self._forward(request, query)
        if bent is not None and request.method == "GET" and status == 200:
            body = _bend(orjson.loads(body), bent, request.path, query, page)
        return web.Response(status=status, body=body, content_type=content_type)

    async def _forward(self, request: web.Request, query: dict[str, str]) -> tuple[int, bytes, str]:
        assert self._session is not None
        headers = {
            name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers
        }
        async with self._session.request(
            request.method,
            self.upstream + request.path,
            params=query,
            data=await request.read(),
            headers=headers,
        ) as response:
            return response.status, await response.read(), response.content_type

    async def open(self) -> None:
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _bend(envelope: Any, bent: BentList, path: str, query: dict[str, str], page: int) -> bytes:
    meta = dict(envelope.get("pagination") or {})
    if bent.next_page is not None:
        nxt = bent.next_page(page)
        if isinstance(nxt, int):
            nxt = f"{path}?page={nxt}&limit={query.get('limit', '')}"
        meta["nextPage"] = nxt
    if bent.total is None:
        meta.pop("totalItems", None)
    elif bent.total is not ...:
        meta["totalItems"] = bent.total
    return orjson.dumps({**envelope, "pagination": meta})


@contextmanager
def start_hostile_proxy(emulator: RunningEmulator) -> Iterator[HostileProxy]:
    """Run a :class:`HostileProxy` in front of ``emulator`` on a free 127.0.0.1 port."""
    proxy = HostileProxy(emulator.url)
    serving = serve_in_thread(
        proxy.handle, name="hostile-proxy", on_start=proxy.open, on_stop=proxy.close
    )
    with serving as port:
        proxy.base_url = f"http://127.0.0.1:{port}{API_PREFIX}"
        yield proxy
