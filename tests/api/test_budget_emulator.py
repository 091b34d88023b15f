"""MutationBudget against the emulator on 127.0.0.1, with the policy scaled by 1/10.

The emulator counts a mutation when it arrives and then answers after 1-10 ms of injected
latency; its windows are 100 per 1 s and 900 per 90 s here. The loop below is deliberately
tiny (acquire -> POST -> release; a 429 pauses the budget and the item is sent again), so
these tests check the budget itself, not the client built on it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import anyio
import pytest

from bulkops.api.budget import MutationBudget
from bulkops.emulator import (
    EmulatorConfig,
    EmulatorProcess,
    FaultPlan,
    RunningEmulator,
    start_emulator,
    start_emulator_process,
)

pytestmark = pytest.mark.anyio

SCALE = 0.1
JITTER = (0.001, 0.010)
API_KEY_HEADER = "STATSIG-API-KEY"


def lower_bound(n: int, scale: float = SCALE) -> float:
    """T(N) = 900*floor((N-1)/900) + 10*floor(((N-1) mod 900)/100) s, scaled."""
    return (900 * ((n - 1) // 900) + 10 * (((n - 1) % 900) // 100)) * scale


@dataclass
class Outcome:
    makespan: float  # first send to last response, seconds
    sent: int  # requests sent, 429s included
    rate_limited: int
    late_refusals: int  # 429s for permits the budget granted after an earlier 429 had paused it


async def send_mutations(
    emulator: RunningEmulator | EmulatorProcess,
    budget: MutationBudget,
    n: int,
    *,
    project: str = "default",
    workers: int = 50,
) -> Outcome:
    """Create `n` tags in `project` through `budget`, `workers` at a time."""
    headers = {API_KEY_HEADER: emulator.api_key(project), "Content-Type": "application/json"}
    numbers = iter(range(n))
    sent = rate_limited = late_refusals = 0
    paused_at: float | None = None  # budget clock time of the first 429's pause
    first: float | None = None
    last = 0.0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal sent, rate_limited, late_refusals, paused_at, first, last
        for i in numbers:
            while True:
                permit = await budget.acquire()
                first = time.monotonic() if first is None else first
                sent += 1
                body = {"name": f"{project}-tag-{i}", "description": "budget test"}
                async with session.post(f"{emulator.base_url}/tags", json=body) as response:
                    await response.read()
                    budget.release(permit)
                    if response.status != 429:
                        assert response.status == 200, await response.text()
                        last = max(last, time.monotonic())
                        break
                    rate_limited += 1
                    # Granted after the pause, not merely resumed after it on a busy loop.
                    late_refusals += paused_at is not None and permit.sent_at > paused_at
                    paused_at = budget.clock.now() if paused_at is None else paused_at
                    hint = response.headers.get("Retry-After")
                    budget.pause(float(hint) if hint else None)

    connector = aiohttp.TCPConnector(limit=workers)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(headers=headers, connector=connector, timeout=timeout) as s:
        await open_connections(s, f"{emulator.base_url}/tags?limit=1", workers)
        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(worker, s)
    assert first is not None
    return Outcome(last - first, sent, rate_limited, late_refusals)


async def open_connections(session: aiohttp.ClientSession, url: str, count: int) -> None:
    """Open `count` pooled connections with reads (which spend no mutation budget), so the
    first burst of mutations measures the budget rather than TCP handshakes."""

    async def read() -> None:
        async with session.get(url) as response:
            await response.read()

    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(read)


async def send_with_client(
    emulator: RunningEmulator | EmulatorProcess,
    budget: MutationBudget,
    n: int,
    *,
    workers: int = 50,
) -> Outcome:
    """The same `n` creates through `ConsoleClient`, which spends `budget` on each of them."""
    from bulkops.api.client import ConsoleClient

    numbers = iter(range(n))
    async with ConsoleClient(
        api_key=emulator.api_key(),
        base_url=emulator.base_url,
        budget=budget,
        connection_limit=workers,
    ) as client:

        async def read() -> None:
            await client.request("GET", "/tags", params={"limit": 1})

        async def worker() -> None:
            for i in numbers:
                await client.request("POST", "/tags", json={"name": f"tag-{i}", "description": "d"})

        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(read)
        first = time.monotonic()
        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(worker)
        last = time.monotonic()
        stats = client.statistics()
    return Outcome(last - first, stats.requests.get("POST", 0), stats.rate_limited, 0)


@pytest.fixture
def scaled_emulator() -> Iterator[EmulatorProcess]:
    # In a process of its own: the makespan bounds measure the pacing, so the server's CPU time
    # must not be added to the client's (one GIL) as it never is on the network.
    config = EmulatorConfig(
        projects={"default": "key-default", "other": "key-other"},
        time_scale=SCALE,
        faults=FaultPlan(latency=JITTER, seed=2),
    )
    with start_emulator_process(config) as running:
        yield running


def scaled_budget() -> MutationBudget:
    return MutationBudget([(100, 10.0 * SCALE), (900, 900.0 * SCALE)])


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.parametrize("driver", ["loop", "client"])
@pytest.mark.parametrize("n", [300, 900])
async def test_mutations_at_the_policy_rate_draw_no_429(
    scaled_emulator: EmulatorProcess, n: int, driver: str
) -> None:
    budget = scaled_budget()
    send = send_mutations if driver == "loop" else send_with_client
    outcome = await send(scaled_emulator, budget, n)
    assert outcome.rate_limited == 0
    assert scaled_emulator.stats()["projects"]["default"]["rate_limited"] == 0
    assert outcome.sent == n
    # Correctness of the pacing, not machine speed: the N-th send cannot happen before T(N),
    # and a budget that loses no window turn finishes less than one turn (of the 10 s window,
    # scaled) after it; a lost turn would start the last batch a whole turn late. (Half a
    # turn was exceeded once by 0.14 s on 2 cores shared with 2 busy processes.) The ratio
    # targets (<= 1.1 / 1.05 of T(N)) are measured side by side in
    # benchmarks/mutation_budget.py, not here.
    turn = 10.0 * SCALE
    assert lower_bound(n) <= outcome.makespan < lower_bound(n) + turn
    assert budget.statistics().total_sent == n


@pytest.mark.timeout(30)
async def test_a_server_429_pauses_every_worker_of_that_project_only() -> None:
    # The server allows project "default" 20 per 1 s, its client believes 100: the first
    # refusal must stop all of that project's workers, while "other" keeps sending.
    config = EmulatorConfig(
        projects={"default": "key-default", "other": "key-other"},
        time_scale=SCALE,
        mutation_limits=((20, 10.0),),
        retry_after=False,
        faults=FaultPlan(latency=JITTER, seed=3),
    )
    with start_emulator(config) as emulator:
        limited = MutationBudget([(100, 10.0 * SCALE)])
        other = MutationBudget([(20, 10.0 * SCALE)])
        results: dict[str, Outcome] = {}

        async def run(project: str, budget: MutationBudget, n: int) -> None:
            results[project] = await send_mutations(emulator, budget, n, project=project)

        async with anyio.create_task_group() as tg:
            tg.start_soon(run, "default", limited, 60)
            tg.start_soon(run, "other", other, 60)
        log = emulator.mutation_log()
        stats = emulator.stats()["projects"]

    assert results["other"].rate_limited == 0
    assert stats["other"]["rate_limited"] == 0
    # "default" was refused, paused and backed off instead of hammering the server: beyond
    # the burst already on its way when the first 429 came back, refusals are a handful.
    assert results["default"].rate_limited >= 1
    assert results["default"].late_refusals <= 10
    assert limited.statistics().rate_limited == results["default"].rate_limited
    assert sum(1 for r in log if r["project"] == "default") == 60
    assert sum(1 for r in log if r["project"] == "other") == 60
