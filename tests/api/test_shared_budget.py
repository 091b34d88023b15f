"""SharedBudget against a real redis-server: windows, pauses, queueing and cancellation.

Two `SharedBudget`s of one test are two owners to Redis (each its own connections, heartbeat
and id), as two processes are; tests/api/test_shared_budget_processes.py uses real ones.
Redis time is real, so the windows are small (hundreds of milliseconds) or long (a minute,
where a test shows that something does not happen).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import anyio
import pytest
import redis.asyncio as redis_asyncio

from bulkops.api.errors import ConfigError
from bulkops.api.shared_budget import SharedBudget, SharedPermit
from bulkops.api.shared_log import BudgetKeys
from bulkops.testing import RunningRedis

pytestmark = pytest.mark.anyio

Opener = Callable[..., AbstractAsyncContextManager[SharedBudget]]


@pytest.fixture
def budget(redis_server: RunningRedis) -> Opener:
    """`async with budget(project, limits, **options) as b:` on the test's redis-server."""

    def open_budget(
        project: str = "p1", limits: str = "3/60s", **options: object
    ) -> AbstractAsyncContextManager[SharedBudget]:
        return SharedBudget.connect(redis_server.url, project, limits, **options)

    return open_budget


@pytest.fixture
async def redis(redis_server: RunningRedis) -> AsyncIterator[redis_asyncio.Redis]:
    async with redis_asyncio.Redis.from_url(redis_server.url) as client:
        yield client


async def entries(redis: redis_asyncio.Redis, project: str = "p1") -> int:
    return int(await redis.zcard(BudgetKeys.for_project("bulkops:budget", project).log))


async def cannot_acquire_within(budget: SharedBudget, seconds: float) -> bool:
    with anyio.move_on_after(seconds) as scope:
        await budget.acquire()
    return scope.cancelled_caught


@pytest.mark.timeout(30)
async def test_two_budgets_of_one_project_share_its_window(budget: Opener) -> None:
    async with budget() as a, budget() as b:
        with anyio.fail_after(5):
            await a.acquire()
            await a.acquire()
            await b.acquire()
        assert await cannot_acquire_within(b, 0.5)
        assert await cannot_acquire_within(a, 0.2)


@pytest.mark.timeout(30)
async def test_projects_are_independent(budget: Opener) -> None:
    async with budget("p1") as a, budget("p2") as b:
        with anyio.fail_after(5):
            for _ in range(3):
                await a.acquire()
                await b.acquire()
        assert await cannot_acquire_within(a, 0.2)


@pytest.mark.timeout(30)
async def test_an_answered_send_counts_one_span_after_its_release(budget: Opener) -> None:
    async with budget(limits="1/400ms") as a, budget(limits="1/400ms") as b:
        permit = await a.acquire()
        a.release(permit)
        await a.flush()
        released = anyio.current_time()
        with anyio.fail_after(5):
            await b.acquire()
        # The release was recorded in Redis before `released`, at most a round trip earlier.
        assert anyio.current_time() - released >= 0.4 - 0.05


@pytest.mark.timeout(30)
async def test_a_send_in_flight_holds_its_window_until_released(budget: Opener) -> None:
    async with budget(limits="1/200ms") as a, budget(limits="1/200ms") as b:
        permit = await a.acquire()
        assert await cannot_acquire_within(b, 0.6)  # three spans: still in flight
        a.release(permit)
        with anyio.fail_after(5):
            await b.acquire()


@pytest.mark.timeout(30)
async def test_a_pause_in_one_budget_holds_back_another(budget: Opener) -> None:
    async with budget(limits="10/1s") as a, budget(limits="10/1s") as b:
        a.pause(0.6)
        await a.flush()
        started = anyio.current_time()
        with anyio.fail_after(5):
            await b.acquire()
        assert anyio.current_time() - started >= 0.5
        assert (a.statistics().rate_limited, b.statistics().rate_limited) == (1, 0)


@pytest.mark.timeout(30)
async def test_a_pause_never_lasts_longer_than_max_pause(budget: Opener) -> None:
    async with budget(limits="10/1s", max_pause=0.3) as a, budget(limits="10/1s") as b:
        a.pause(3600.0)
        await a.flush()
        with anyio.fail_after(5):
            await b.acquire()
        assert a.statistics().paused_until is None


@pytest.mark.timeout(30)
async def test_a_429_without_hint_lowers_the_fullest_window_for_everyone(
    budget: Opener,
) -> None:
    async with budget(limits="10/60s") as a, budget(limits="10/60s") as b:
        for _ in range(5):
            a.release(await a.acquire())
        a.pause(None)  # the server refused at 5: lower the cap to 90 % of 4
        await a.flush()
        assert await cannot_acquire_within(b, 0.5)


@pytest.mark.timeout(30)
async def test_waiters_are_served_in_order_in_few_round_trips(budget: Opener) -> None:
    async with budget(limits="20/60s") as a:
        before = a.statistics().round_trips
        granted: list[int] = []

        async def take(i: int) -> None:
            await a.acquire()
            granted.append(i)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for i in range(15):
                    tg.start_soon(take, i)
        assert granted == list(range(15))
        # The head asks for every waiter queued behind it: 15 permits in 2 admissions.
        assert a.statistics().round_trips - before <= 3


@pytest.mark.timeout(30)
async def test_a_cancelled_waiter_leaves_no_entry(
    budget: Opener, redis: redis_asyncio.Redis
) -> None:
    async with budget(limits="1/60s") as a, budget(limits="1/60s") as b:
        await a.acquire()
        assert await cannot_acquire_within(b, 0.3)
        await b.flush()
        assert await entries(redis) == 1
        assert b.statistics().waiting == 0


@pytest.mark.timeout(30)
async def test_a_waiter_cancelled_during_its_admission_leaves_no_entry(
    budget: Opener, redis: redis_asyncio.Redis
) -> None:
    async with budget(limits="5/60s") as a:
        outcome: list[SharedPermit] = []

        async def take(scope: anyio.CancelScope) -> None:
            with scope:
                outcome.append(await a.acquire())

        scope = anyio.CancelScope()
        await redis.client_pause(500)  # the admission waits in Redis for half a second
        async with anyio.create_task_group() as tg:
            tg.start_soon(take, scope)
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
        await a.flush()
        assert outcome == []
        assert await entries(redis) == 0
        assert a.statistics().in_flight == 0


@pytest.mark.timeout(30)
async def test_a_closed_budget_retires_its_sends_in_flight(
    budget: Opener, redis: redis_asyncio.Redis
) -> None:
    async with budget(limits="1/300ms") as a:
        await a.acquire()  # never released: the process is ending
    async with budget(limits="1/300ms") as b:
        with anyio.fail_after(5):
            await b.acquire()  # one span after a's close, not a heartbeat TTL later
        beats = BudgetKeys.for_project("bulkops:budget", "p1").beats
        assert await redis.hkeys(beats) == [b.owner.encode()]  # a left


@pytest.mark.timeout(30)
async def test_statistics_and_eta_describe_the_shared_windows(budget: Opener) -> None:
    async with budget(limits="4/60s", heartbeat_ttl=0.4) as a, budget(limits="4/60s") as b:
        for _ in range(3):
            a.release(await a.acquire())
        await a.flush()
        with anyio.fail_after(5):
            await b.acquire()
            while b.statistics().processes < 2 or b.statistics().windows[0].occupied < 4:
                await anyio.sleep(0.05)  # the next heartbeat brings the shared log in
        stats = b.statistics()
        assert (stats.in_flight, stats.total_sent, stats.project_id) == (1, 1, "p1")
        assert stats.round_trips >= 4
        assert b.eta(1) > 50  # the window is full for about a minute


def test_a_project_is_named_by_its_id_never_by_an_api_key() -> None:
    with pytest.raises(ConfigError, match="never by API key"):
        SharedBudget("redis://127.0.0.1:6379/0", "console-abc123")


@pytest.mark.timeout(30)
async def test_an_empty_log_counts_what_was_sent_lately_and_a_full_one_is_left_alone(
    budget: Opener, redis: redis_asyncio.Redis
) -> None:
    """``recent``: a Redis restarted since has lost the sends of the last window; the first
    budget to open fills the empty log with the ones its state dir remembers (in the window
    only), and a log that already holds entries is not filled twice."""
    async with budget(recent=[1.0, 10.0, 59.0, 61.0]) as first:
        assert first.seeded == 3 and await entries(redis) == 3
        assert await cannot_acquire_within(first, 0.3)  # 3/60s: the window is full
        async with budget(recent=[1.0, 2.0]) as second:
            assert second.seeded == 0 and await entries(redis) == 3
    async with budget("p2") as other:  # another project's log is its own
        assert other.seeded == 0
        with anyio.fail_after(5):
            await other.acquire()
