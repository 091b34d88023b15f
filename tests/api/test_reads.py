"""Read pacing: how many GETs a client has in flight, and how its reads back off together.

A slow loopback server counts the GETs it holds at once; the test decides when they answer.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio
import orjson
import pytest
from aiohttp import web

from bulkops.api import ConfigError, ConsoleClient, RetryPolicy
from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


class HeldReads:
    """Holds every GET until ``open`` is set; ``reached`` is set once ``expect`` are held."""

    def __init__(self, expect: int) -> None:
        self.expect = expect
        self.in_flight = self.max_in_flight = 0
        self.reached = anyio.Event()
        self.open = anyio.Event()

    async def __call__(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.in_flight >= self.expect:
            self.reached.set()
        try:
            await self.open.wait()
        finally:
            self.in_flight -= 1
        return web.Response(body=b'{"data": {"id": "g"}}', content_type="application/json")


async def hold_reads(
    serve, api_key: str, reads: int, expect: int, **options: object
) -> tuple[HeldReads, ConsoleClient, list[int]]:
    """Send ``reads`` GETs at once; once ``expect`` are held, note the client's figures."""
    server = HeldReads(expect)
    seen: list[int] = []
    async with (
        serve(server) as base_url,
        ConsoleClient(api_key, base_url, **options) as api,  # type: ignore[arg-type]
        anyio.create_task_group() as tg,
    ):
        for i in range(reads):
            tg.start_soon(api.request, "GET", f"/gates/g{i}")
        with anyio.fail_after(10):
            await server.reached.wait()
        stats = api.statistics()
        seen = [stats.reads_in_flight, stats.reads_waiting]
        server.open.set()
    return server, api, seen


async def test_read_concurrency_bounds_the_gets_in_flight(serve, api_key) -> None:
    server, api, (in_flight, waiting) = await hold_reads(serve, api_key, 10, 3, read_concurrency=3)
    assert server.max_in_flight == 3
    assert in_flight == 3 and waiting == 7
    assert api.statistics().requests["GET"] == 10


async def test_read_concurrency_comes_from_the_environment(serve, api_key, monkeypatch) -> None:
    monkeypatch.setenv("BULKOPS_READ_CONCURRENCY", "5")
    server, api, _ = await hold_reads(serve, api_key, 12, 5)
    assert api.read_concurrency == 5 and server.max_in_flight == 5


async def test_default_is_16_reads_in_flight(serve, api_key, monkeypatch) -> None:
    monkeypatch.delenv("BULKOPS_READ_CONCURRENCY", raising=False)
    server, _, _ = await hold_reads(serve, api_key, 40, 16)
    assert server.max_in_flight == 16


async def test_the_connection_pool_never_serializes_reads(serve, api_key) -> None:
    # 80 reads in flight: more than the old fixed pool of 64 connections would let through.
    server, api, _ = await hold_reads(serve, api_key, 80, 80, read_concurrency=80)
    assert server.max_in_flight == 80
    assert api.connection_limit == 80 + 100  # reads + the mutations the budget lets fly


def test_connection_pool_default_covers_reads_and_mutations() -> None:
    key, url = "console-x", "http://127.0.0.1:9/console/v1"
    assert ConsoleClient(key, url, read_concurrency=16).connection_limit == 116
    limited = ConsoleClient(key, url, mutation_limits="5/1s,50/1m", read_concurrency=4)
    assert limited.connection_limit == 9
    assert ConsoleClient(key, url, connection_limit=10).connection_limit == 10


@pytest.mark.parametrize("value", [0, 1001, -1])
def test_read_concurrency_out_of_range_is_a_config_error(value: int) -> None:
    with pytest.raises(ConfigError, match="1 to 1000"):
        ConsoleClient("console-x", "http://127.0.0.1:9", read_concurrency=value)


def pausing_server(status: int, wait: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Answers the 3rd GET ``status`` with ``Retry-After: wait``, every other after 5 ms;
    records when each GET arrived (monotonic time) and when the refusal left."""
    arrivals: list[float] = []
    refused: list[float] = []

    async def handle(request: web.Request) -> web.Response:
        arrivals.append(time.monotonic())
        if len(arrivals) == 3:
            refused.append(time.monotonic())
            body = orjson.dumps({"status": status, "message": "slow down"})
            headers = {"Retry-After": wait}
            return web.Response(
                status=status, body=body, content_type="application/json", headers=headers
            )
        await anyio.sleep(0.005)  # the server's latency, so that reads overlap
        return web.Response(body=b'{"data": {"id": "g"}}', content_type="application/json")

    handle.arrivals = arrivals  # type: ignore[attr-defined]
    handle.refused = refused  # type: ignore[attr-defined]
    return handle


@pytest.mark.parametrize("status", [429, 503])
async def test_a_refused_read_pauses_every_read_of_the_client(serve, api_key, status) -> None:
    server = pausing_server(status, "0.3")
    async with (
        serve(server) as base_url,
        ConsoleClient(api_key=api_key, base_url=base_url, read_concurrency=4) as api,
    ):
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for i in range(120):  # 150 ms of work at 4 in flight: it fits in the pause
                    tg.start_soon(api.request, "GET", f"/gates/g{i}")
    refused = server.refused[0]  # type: ignore[attr-defined]
    arrivals = server.arrivals  # type: ignore[attr-defined]
    during = [t for t in arrivals if refused < t < refused + 0.3]
    # Only reads sent before the client read the refusal may arrive during the pause (at most
    # one per other slot); without a shared pause all 117 left would.
    assert len(arrivals) == 121 and len(during) <= 3
    stats = api.statistics()
    assert stats.read_pauses == 1 and stats.retries == 1
    assert api.budget.statistics().total_sent == 0  # reads never touch the mutation budget


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(page_cap=10)


async def test_a_listing_backs_off_on_429_and_then_reads_everything(
    emulator: RunningEmulator,
) -> None:
    emulator.load(
        {
            "format": "bulkops-snapshot/1",
            "entities": {"gates": [{"id": f"g{i:03d}", "name": f"g{i:03d}"} for i in range(95)]},
        }
    )
    emulator.rate_limit_next(2, "GET", "/gates", retry_after=0.05)
    policy = RetryPolicy(backoff_base=0.01, backoff_max=0.05)
    async with ConsoleClient(emulator.api_key(), emulator.base_url, retry_policy=policy) as api:
        with anyio.fail_after(20):
            ids = [gate["id"] async for gate in api.paginate("gates")]
    assert ids == [f"g{i:03d}" for i in range(95)]
    stats = api.statistics()
    assert stats.rate_limited == 2 and stats.read_pauses == 2
    assert stats.requests["GET"] == 10 + 2  # 10 pages, 2 of them sent twice
    assert api.budget.statistics().rate_limited == 0
