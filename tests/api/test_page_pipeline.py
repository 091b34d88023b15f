"""The page pipeline on its own: order, bounds, errors and cancellation of ``iterate_pages``.

Each page's fetch is a coroutine of the test (no network), held until the test releases it,
so the order in which pages land, and what is in flight when, is chosen by the test.
"""

from __future__ import annotations

import gc
import random
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import anyio
import pytest

from bulkops.api import BadResponseError, ServerError
from bulkops.api.clock import wait_all_tasks_blocked
from bulkops.api.pagination import HELD_ITEMS, held_pages, iterate_pages

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


class Pages:
    """``total`` items (``0..total-1``) in pages of ``size``, announcing ``announced`` items.

    With ``held=True`` every fetch waits until the test calls ``release(page)``; ``fail``
    maps a page number to the error its fetch raises. Counts what is started, running and
    cancelled.
    """

    def __init__(
        self,
        total: int,
        size: int,
        *,
        announced: int | None = None,
        held: bool = False,
        fail: dict[int, Exception] | None = None,
    ) -> None:
        self.total, self.size = total, size
        self.announced = total if announced is None else announced
        self.held = held
        self.fail = fail or {}
        self.started: list[int] = []
        self.running = self.peak_running = self.cancelled = 0
        self.consumed = 0
        self.running_at_start: dict[int, int] = {}
        self.peak_pages_held = 0
        self._release: dict[int, anyio.Event] = {}
        self.all_ended = anyio.Event()
        self.release(1)  # the first page always comes at once

    def release(self, page: int) -> None:
        self._release.setdefault(page, anyio.Event()).set()

    @property
    def waiting(self) -> list[int]:
        """Pages started and not yet released."""
        return [p for p in self.started if not self._release.get(p, anyio.Event()).is_set()]

    def envelope(self, page: int) -> dict[str, Any]:
        start = (page - 1) * self.size
        items = [{"n": n} for n in range(start, min(start + self.size, self.total))]
        more = start + self.size < self.total
        pagination = {
            "totalItems": self.announced,
            "nextPage": f"/gates?page={page + 1}&limit=1000" if more else None,
        }
        return {"data": items, "pagination": pagination}

    async def fetch(self, page: int) -> dict[str, Any]:
        self.started.append(page)
        # Pages whose items were all handed out are let go; the rest are held (or on the way).
        self.peak_pages_held = max(
            self.peak_pages_held, len(self.started) - self.consumed // self.size
        )
        self.running += 1
        self.peak_running = max(self.peak_running, self.running)
        self.running_at_start[page] = self.running
        try:
            if self.held:
                await self._release.setdefault(page, anyio.Event()).wait()
            if page in self.fail:
                raise self.fail[page]
            return self.envelope(page)
        except anyio.get_cancelled_exc_class():
            self.cancelled += 1
            raise
        finally:
            self.running -= 1
            if self.running == 0:
                self.all_ended.set()

    def pages(self, concurrency: int = 4) -> AsyncIterator[dict[str, Any]]:
        return iterate_pages(self.fetch, path="/gates", concurrency=concurrency)


async def release_in_random_order(pages: Pages, rng: random.Random) -> None:
    """Let one waiting page land at a time, picked at random, until cancelled."""
    while True:
        await wait_all_tasks_blocked()
        if pages.waiting:
            pages.release(rng.choice(pages.waiting))


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_items_come_in_page_order_whatever_order_pages_land_in(seed: int) -> None:
    pages = Pages(total=230, size=10, held=True)
    seen: list[int] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(release_in_random_order, pages, random.Random(seed))
        seen = [item["n"] async for item in pages.pages(concurrency=5)]
        tg.cancel_scope.cancel()
    assert seen == list(range(230))
    assert pages.started[0] == 1 and sorted(pages.started) == list(range(1, 24))
    assert pages.peak_running == 5


async def test_a_slow_consumer_holds_at_most_twice_the_concurrency_in_pages() -> None:
    pages = Pages(total=2000, size=10)
    async for item in pages.pages(concurrency=3):
        pages.consumed = item["n"] + 1
        await anyio.lowlevel.checkpoint()  # every fetch that may start does, between items
    assert pages.consumed == 2000
    assert pages.peak_running <= 3
    # Fetching ran ahead of the consumer (fetches land at once), but never past the bound.
    assert 3 < pages.peak_pages_held <= 2 * 3


async def test_big_pages_are_held_fewer_at_a_time() -> None:
    pages = Pages(total=30_000, size=1000)
    async for item in pages.pages(concurrency=16):
        pages.consumed = item["n"] + 1
        if item["n"] % 100 == 0:
            await anyio.lowlevel.checkpoint()
    assert held_pages(16, 1000) == HELD_ITEMS // 1000 == 5
    assert 2 < pages.peak_pages_held <= 5 and pages.peak_running <= 4


def test_held_pages_is_twice_the_concurrency_for_small_pages_and_never_below_two() -> None:
    assert held_pages(16, 100) == 32
    assert held_pages(1, 10) == 2
    assert held_pages(8, 100_000) == 2


async def test_a_fast_consumer_keeps_the_window_full() -> None:
    pages = Pages(total=400, size=10, held=True)
    in_flight: list[int] = []

    async def release_when_all_wait() -> None:
        while True:
            await wait_all_tasks_blocked()
            in_flight.append(len(pages.waiting))
            for page in pages.waiting[:1]:
                pages.release(page)

    async with anyio.create_task_group() as tg:
        tg.start_soon(release_when_all_wait)
        count = sum([1 async for _ in pages.pages(concurrency=4)])
        tg.cancel_scope.cancel()
    assert count == 400
    assert max(in_flight) == 4 and in_flight.count(4) >= 30  # a sliding window, not batches


async def test_an_error_on_page_k_comes_after_every_item_of_the_pages_before() -> None:
    boom = ServerError("server error (503)", status=503, method="GET", path="/gates")
    pages = Pages(total=100, size=10, held=True, fail={5: boom})
    pages.release(5)  # page 5 fails first, while pages 2-4 are still on their way
    seen: list[int] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(release_in_random_order, pages, random.Random(7))
        with pytest.raises(ServerError) as info:
            async for item in pages.pages(concurrency=4):
                seen.append(item["n"])
        tg.cancel_scope.cancel()
    assert info.value is boom
    assert seen == list(range(40))
    assert pages.running == 0


async def test_closing_early_cancels_every_fetch_in_flight() -> None:
    pages = Pages(total=1000, size=10, held=True)
    listing = pages.pages(concurrency=4)
    async with aclosing(listing):
        async for item in listing:
            await anyio.lowlevel.checkpoint()  # the fetches of pages 2-5 start
            if item["n"] == 9:
                break
    assert pages.started == [1, 2, 3, 4, 5]
    assert pages.running == 0 and pages.cancelled == 4


async def test_an_exception_in_the_consumer_cancels_every_fetch() -> None:
    pages = Pages(total=1000, size=10, held=True)
    with pytest.raises(KeyError):
        async with aclosing(pages.pages(concurrency=4)) as listing:
            async for item in listing:
                await anyio.lowlevel.checkpoint()
                if item["n"] == 3:
                    raise KeyError(item["n"])
    assert pages.running == 0 and pages.cancelled == 4


async def test_cancelling_the_consumer_cancels_every_fetch_before_the_scope_ends() -> None:
    pages = Pages(total=1000, size=10, held=True)
    with anyio.CancelScope() as scope:
        async for item in pages.pages(concurrency=4):
            if item["n"] == 2:
                await anyio.lowlevel.checkpoint()  # the fetches of pages 2-5 start
            if item["n"] == 5:
                scope.cancel()  # lands while the listing waits for page 2
    assert scope.cancelled_caught
    assert pages.running == 0 and pages.cancelled == 4


async def test_an_abandoned_listing_ends_its_fetches_on_the_next_loop_turns() -> None:
    pages = Pages(total=1000, size=10, held=True)
    async for item in pages.pages(concurrency=4):
        await anyio.lowlevel.checkpoint()
        if item["n"] == 3:
            break  # no aclose: the generator is left to Python's finalizer
    assert pages.running == 4
    pages.all_ended = anyio.Event()
    gc.collect()
    with anyio.fail_after(5):
        await pages.all_ended.wait()
    assert pages.running == 0 and pages.cancelled == 4


async def test_next_page_is_followed_past_the_announced_total() -> None:
    pages = Pages(total=95, size=10, announced=40)  # the list grew while it was read
    assert [item["n"] async for item in pages.pages(concurrency=4)] == list(range(95))
    assert pages.started == list(range(1, 11))


async def test_pages_past_the_announced_total_are_read_one_ahead() -> None:
    pages = Pages(total=200, size=10, announced=150, held=True)
    async with anyio.create_task_group() as tg:
        tg.start_soon(release_in_random_order, pages, random.Random(3))
        count = sum([1 async for _ in pages.pages(concurrency=6)])
        tg.cancel_scope.cancel()
    assert count == 200
    assert pages.peak_running == 6  # pages 2-15 in a window
    assert [pages.running_at_start[p] for p in range(16, 21)] == [1] * 5  # then one at a time
    assert pages.started == list(range(1, 21))  # never a page beyond what nextPage named


async def test_a_single_page_list_is_one_fetch() -> None:
    pages = Pages(total=7, size=10)
    assert [item["n"] async for item in pages.pages()] == list(range(7))
    assert pages.started == [1]


async def test_a_list_that_shrank_ends_at_its_first_empty_page() -> None:
    pages = Pages(total=35, size=10, announced=80)
    assert [item["n"] async for item in pages.pages(concurrency=2)] == list(range(35))
    assert pages.started[:4] == [1, 2, 3, 4]


async def test_concurrency_one_reads_one_page_ahead() -> None:
    pages = Pages(total=50, size=10)
    assert sum([1 async for _ in pages.pages(concurrency=1)]) == 50
    assert pages.peak_running == 1


async def loop_of(next_pages: dict[int, int | None], total: int) -> list[dict[str, Any]]:
    """Read a list whose page ``p`` names ``next_pages[p]`` as its next page."""

    async def fetch(page: int) -> dict[str, Any]:
        items = [{"page": page, "i": i} for i in range(10)]
        nxt = next_pages.get(page, page + 1)
        link = None if nxt is None else f"/console/v1/gates?page={nxt}&limit=1000"
        return {"data": items, "pagination": {"totalItems": total, "nextPage": link}}

    with anyio.fail_after(10):
        return [item async for item in iterate_pages(fetch, path="/gates", concurrency=4)]


@pytest.mark.parametrize("back_to", [1, 3])
async def test_a_next_page_that_does_not_advance_is_a_bad_response(back_to: int) -> None:
    with pytest.raises(BadResponseError, match=f"page 3 .* names page {back_to}") as info:
        await loop_of({3: back_to}, total=50)
    assert info.value.path == "/gates"
    assert "never end" in str(info.value)


async def test_a_list_running_far_past_its_total_is_a_bad_response() -> None:
    allowed = 27  # for 200 items announced in pages of 10: ceil(220 / 10) + 5
    with pytest.raises(BadResponseError, match=f"past the {allowed} pages allowed") as info:
        await loop_of({}, total=200)  # every page names a next one: it never ends
    assert "GET /gates" in str(info.value) and "announced 200 items" in str(info.value)


async def test_a_list_that_grew_within_the_margin_is_read_whole() -> None:
    items = await loop_of({26: None}, total=200)  # 260 items; the guard allows 27 pages
    assert len(items) == 260
