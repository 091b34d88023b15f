"""``PageWindow``: the pages of one listing fetched ahead of its consumer, within fixed bounds.

A sliding window, not batches: at most ``concurrency`` page fetches are in flight, and as soon
as one lands (in any order) the next planned page is requested, as long as the pages held stay
within ``held``: the pages requested and not yet handed over, plus the one being handed out.
A consumer slower than the network stops the fetching there, so memory stays at ``held``
pages whatever the list's length; a fast consumer never waits for more than one page.

Why plain asyncio tasks and not an anyio task group: the window lives inside an async
generator (:func:`bulkops.api.pagination.iterate_pages`), which yields to its consumer between
pages. A task group must be exited by the task that entered it, yet an abandoned generator
(its consumer broke out of ``async for`` without closing it) is closed by the event loop's
finalizer, in another task. Tasks can be cancelled from wherever the generator is closed, and
``aclose()`` cancels and awaits every one of them, so none outlives the window either way.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import anyio

__all__ = ["PageWindow"]

Envelope = Mapping[str, Any]


class PageWindow:
    """Fetch planned page numbers ahead, ``concurrency`` at a time, holding at most ``held``.

    ``plan(pages)`` appends page numbers to fetch (in order); ``await take(page)`` returns the
    envelope of the next planned page, or raises the error its fetch raised. After a failed
    fetch nothing more is requested (the error surfaces when its page is taken). ``aclose()``
    cancels every fetch still running and waits for them. Page 1, fetched before the window
    exists, counts as the page being handed out.
    """

    def __init__(
        self, fetch: Callable[[int], Awaitable[Envelope]], *, concurrency: int, held: int
    ) -> None:
        self._fetch = fetch
        self._concurrency = max(1, concurrency)
        self._held_max = max(2, held)
        self._loop = asyncio.get_running_loop()
        self._tasks: dict[int, asyncio.Task[Envelope]] = {}  # requested, not yet handed over
        self._planned: deque[Iterator[int]] = deque()
        self._in_flight = 0
        self._handing = True  # page 1 is being handed to the consumer
        self._stopped = False
        self.highest = 0
        """The highest page number planned so far."""

    @property
    def held(self) -> int:
        """Pages in memory or on their way: requested and not handed over, plus the current."""
        return len(self._tasks) + self._handing

    @property
    def in_flight(self) -> int:
        """Page fetches still running."""
        return self._in_flight

    def plan(self, pages: range) -> None:
        """Fetch ``pages`` after those planned before (as the bounds allow)."""
        if pages:
            self._planned.append(iter(pages))
            self.highest = max(self.highest, pages[-1])
            self._fill()

    async def take(self, page: int) -> Envelope:
        """The envelope of ``page`` (the next planned one), once its fetch landed."""
        self._handing = False  # the consumer is done with the page handed out before
        self._fill()
        task = self._tasks.get(page)
        if task is None:
            raise RuntimeError(f"page {page} was not planned, or was already taken")
        envelope = await task
        del self._tasks[page]
        self._handing = True
        return envelope

    async def aclose(self) -> None:
        """Request nothing more; cancel every fetch still running and wait until each ended."""
        self._stopped = True
        self._planned.clear()
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            with anyio.CancelScope(shield=True):
                await asyncio.wait(tasks)
        for task in tasks:
            if not task.cancelled():
                task.exception()  # retrieved: an abandoned page's error is not logged as lost

    # -- internals ------------------------------------------------------------------------

    def _next_planned(self) -> int | None:
        while self._planned:
            page = next(self._planned[0], None)
            if page is not None:
                return page
            self._planned.popleft()
        return None

    def _fill(self) -> None:
        while (
            not self._stopped
            and self._in_flight < self._concurrency
            and self.held < self._held_max
            and (page := self._next_planned()) is not None
        ):
            task = self._loop.create_task(self._run(page), name=f"bulkops page {page}")
            self._tasks[page] = task
            self._in_flight += 1
            task.add_done_callback(self._landed)

    async def _run(self, page: int) -> Envelope:
        return await self._fetch(page)

    def _landed(self, task: asyncio.Task[Envelope]) -> None:
        self._in_flight -= 1
        if not task.cancelled() and task.exception() is not None:
            self._stopped = True  # the error surfaces in order; pages after it are not needed
            self._planned.clear()
        self._fill()
