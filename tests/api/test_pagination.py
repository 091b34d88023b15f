"""Listing streams every item exactly once, in order, whatever the server does with ``limit``.

The list server here computes pages from indexes (no stored list), so a big listing costs the
test no memory of its own and tracemalloc sees only what the client holds.
"""

from __future__ import annotations

import asyncio
import math
import tracemalloc
from collections.abc import Awaitable, Callable

import anyio
import orjson
import pytest
from aiohttp import web

from bulkops.api import BadResponseError, ConsoleClient, ValidationError

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


class ListServer:
    """``/console/v1/gates`` with ``total`` items, capping ``limit`` at ``cap``."""

    def __init__(self, total: int, cap: int, *, meta: str = "full", latency: float = 0.0) -> None:
        self.total, self.cap, self.meta, self.latency = total, cap, meta, latency
        self.queries: list[dict[str, str]] = []
        self.in_flight = self.max_in_flight = 0

    async def __call__(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)  # simulated server latency, lets requests overlap
            return self._page(request)
        finally:
            self.in_flight -= 1

    def _page(self, request: web.Request) -> web.Response:
        limit = min(int(request.query.get("limit", 10)), self.cap)
        page = int(request.query.get("page", 1))
        start = (page - 1) * limit
        items = [
            {"id": f"g{i}", "name": f"gate {i}"}
            for i in range(start, min(start + limit, self.total))
        ]
        more = start + limit < self.total
        body: dict[str, object] = {"message": "ok", "data": items}
        if self.meta != "none":
            pagination: dict[str, object] = {
                "itemsPerPage": limit,
                "pageNumber": page,
                "nextPage": f"/console/v1/gates?page={page + 1}&limit={limit}" if more else None,
                "previousPage": None,
            }
            if self.meta == "full":
                pagination["totalItems"] = self.total
            body["pagination"] = pagination
        return web.Response(body=orjson.dumps(body), content_type="application/json")


async def collect(base_url: str, api_key: str, **filters: object) -> list[dict]:
    async with ConsoleClient(api_key=api_key, base_url=base_url, page_size=100) as api:
        return [item async for item in api.paginate("gates", **filters)]


@pytest.mark.parametrize("meta", ["full", "no_total", "none"])
async def test_page_cap_of_7_still_yields_every_item_once_in_order(serve, api_key, meta) -> None:
    server = ListServer(total=50, cap=7, meta=meta)
    async with serve(server) as base_url:
        items = await collect(base_url, api_key)
    assert [item["id"] for item in items] == [f"g{i}" for i in range(50)]
    assert {q["limit"] for q in server.queries} == {"100"}
    assert len(server.queries) == math.ceil(50 / 7) + (1 if meta == "none" and 50 % 7 == 0 else 0)


async def test_empty_list_is_one_request_and_no_items(serve, api_key) -> None:
    server = ListServer(total=0, cap=7)
    async with serve(server) as base_url:
        assert await collect(base_url, api_key) == []
    assert len(server.queries) == 1


async def test_exact_multiple_of_the_page_size_stops_without_a_spare_request(
    serve, api_key
) -> None:
    server = ListServer(total=21, cap=7)
    async with serve(server) as base_url:
        assert len(await collect(base_url, api_key)) == 21
    assert [q["page"] for q in server.queries] == ["1", "2", "3"]


async def test_remaining_pages_are_fetched_concurrently_but_bounded(serve, api_key) -> None:
    server = ListServer(total=200, cap=5, latency=0.002)
    async with serve(server) as base_url:
        assert len(await collect(base_url, api_key)) == 200
    assert 1 < server.max_in_flight <= 16  # the default page_concurrency


async def test_page_size_is_learnt_from_what_a_capped_server_answers(serve, api_key) -> None:
    server = ListServer(total=50, cap=7)
    async with serve(server) as base_url, ConsoleClient(api_key=api_key, base_url=base_url) as api:
        items = [item["id"] async for item in api.paginate("gates")]
    assert items == [f"g{i}" for i in range(50)]
    assert {q["limit"] for q in server.queries} == {"1000"}  # the same limit on every page
    assert sorted(int(q["page"]) for q in server.queries) == list(range(1, 9))  # 8 pages of 7


async def test_an_explicit_page_size_is_the_limit_sent(serve, api_key) -> None:
    server = ListServer(total=30, cap=1000)
    async with (
        serve(server) as base_url,
        ConsoleClient(api_key=api_key, base_url=base_url, page_size=12) as api,
    ):
        assert len([item async for item in api.paginate("gates")]) == 30
    assert {q["limit"] for q in server.queries} == {"12"}
    assert len(server.queries) == 3


class StrictListServer(ListServer):
    """Refuses (400) a ``limit`` above ``maximum`` instead of capping it."""

    def __init__(self, total: int, maximum: int) -> None:
        super().__init__(total, cap=maximum)
        self.maximum = maximum

    async def __call__(self, request: web.Request) -> web.Response:
        if int(request.query.get("limit", 10)) > self.maximum:
            self.queries.append(dict(request.query))
            body = {"status": 400, "message": [f"limit must not be greater than {self.maximum}"]}
            return web.Response(
                status=400, body=orjson.dumps(body), content_type="application/json"
            )
        return await super().__call__(request)


async def test_a_server_refusing_the_large_limit_is_asked_again_with_100(serve, api_key) -> None:
    server = StrictListServer(total=250, maximum=100)
    async with serve(server) as base_url, ConsoleClient(api_key=api_key, base_url=base_url) as api:
        items = [item["id"] async for item in api.paginate("gates")]
    assert items == [f"g{i}" for i in range(250)]
    assert [q["limit"] for q in server.queries] == ["1000", "100", "100", "100"]


async def test_a_limit_the_caller_chose_is_never_changed(serve, api_key) -> None:
    server = StrictListServer(total=250, maximum=100)
    async with (
        serve(server) as base_url,
        ConsoleClient(api_key=api_key, base_url=base_url, page_size=500) as api,
    ):
        with pytest.raises(ValidationError, match="limit must not be greater than 100"):
            [item async for item in api.paginate("gates")]
    assert [q["limit"] for q in server.queries] == ["500"]


def looping_server(next_page: Callable[[int], int]) -> Callable[[web.Request], Awaitable]:
    """Every page holds 10 items, announces 40 in all, and names ``next_page(page)`` next."""

    async def handle(request: web.Request) -> web.Response:
        page = int(request.query["page"])
        items = [{"id": f"g{page}-{i}"} for i in range(10)]
        link = f"/console/v1/gates?page={next_page(page)}&limit=10"
        body = {"data": items, "pagination": {"totalItems": 40, "nextPage": link}}
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    return handle


@pytest.mark.parametrize("back_to", [1, 2])
async def test_a_next_page_pointing_back_ends_the_listing_with_a_bad_response(
    serve, api_key, back_to
) -> None:
    server = looping_server(lambda page: back_to if page == 2 else page + 1)
    async with serve(server) as base_url, ConsoleClient(api_key=api_key, base_url=base_url) as api:
        with anyio.fail_after(10), pytest.raises(BadResponseError) as info:
            [item async for item in api.paginate("gates")]
    assert str(info.value).startswith("GET /gates: page 2 of the list names page")
    assert "does not advance" in str(info.value)


async def test_a_list_that_never_ends_is_cut_off_past_its_total(serve, api_key) -> None:
    server = looping_server(lambda page: page + 1)
    async with serve(server) as base_url, ConsoleClient(api_key=api_key, base_url=base_url) as api:
        with anyio.fail_after(10), pytest.raises(BadResponseError) as info:
            [item async for item in api.paginate("gates")]
    assert "announced 40 items (4 pages of 10)" in str(info.value)
    assert api.statistics().requests["GET"] == 10  # ceil(44 / 10) + 5 pages, then no more


async def test_filters_become_query_parameters(serve, api_key) -> None:
    server = ListServer(total=3, cap=7)
    async with serve(server) as base_url:
        await collect(base_url, api_key, type="STALE", tags=["a", "b"], isTemplate=False)
    query = server.queries[0]
    assert query["type"] == "STALE" and query["isTemplate"] == "false"
    assert query["page"] == "1"


async def test_stopping_early_sends_no_more_requests(serve, api_key) -> None:
    server = ListServer(total=1000, cap=10)
    async with (
        serve(server) as base_url,
        ConsoleClient(api_key=api_key, base_url=base_url, page_concurrency=2) as api,
    ):
        pages = api.paginate("/gates")
        async for item in pages:
            if item["id"] == "g15":
                break
        await pages.aclose()  # type: ignore[attr-defined]
    assert len(server.queries) <= 3


async def _stream_and_measure(serve, api_key: str, total: int) -> int:
    server = ListServer(total=total, cap=1000)
    seen = 0
    tracemalloc.start()
    try:
        async with (
            serve(server) as base_url,
            ConsoleClient(api_key=api_key, base_url=base_url, page_size=1000) as api,
        ):
            async for item in api.paginate("gates"):
                seen += 1
                assert item["id"] == f"g{seen - 1}"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == total
    print(f"{total} items streamed, tracemalloc peak {peak / 1e6:.1f} MB")
    return peak


async def test_200k_items_stream_in_bounded_memory(serve, api_key) -> None:
    peak = await _stream_and_measure(serve, api_key, 200_000)
    # Holding every item would take ~200 B each (40 MB); the pipeline holds a few pages.
    assert peak < 15_000_000


@pytest.mark.slow
@pytest.mark.timeout(240)  # 25 s alone, over 60 s beside 2 busy processes: it tests memory
async def test_a_million_items_stream_in_the_same_memory(serve, api_key) -> None:
    peak = await _stream_and_measure(serve, api_key, 1_000_000)
    assert peak < 15_000_000  # the same bound as for 200k: memory does not grow with N
