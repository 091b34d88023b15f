"""MutationBudget window arithmetic, on a FakeClock (no sleeping).

The safety property checked throughout: the server counts a mutation at some moment between
our send and its response, so the budget is safe for any latency iff, for every window
(limit, span), no instant lies in more than `limit` of the intervals [send, response + span).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import anyio
import pytest

from bulkops.api.budget import MutationBudget
from bulkops.api.clock import FakeClock
from bulkops.api.limits import DEFAULT_MUTATION_LIMITS, MutationLimitError

pytestmark = pytest.mark.anyio

Entry = tuple[float, float]  # (sent, answered)


async def send_all(
    budget: MutationBudget,
    clock: FakeClock,
    n: int,
    *,
    workers: int = 10,
    latency: Callable[[int], float] = lambda i: 0.0,
) -> list[Entry]:
    """`n` mutations by `workers` tasks: acquire, wait `latency(i)` on the clock, release."""
    entries: list[Entry] = []
    numbers = iter(range(n))

    async def worker() -> None:
        for i in numbers:
            permit = await budget.acquire()
            sent = clock.now()
            await clock.sleep(latency(i))
            budget.release(permit)
            entries.append((sent, clock.now()))

    async with clock.autojump(), anyio.create_task_group() as tg:
        for _ in range(workers):
            tg.start_soon(worker)
    return sorted(entries)


def max_overlap(entries: list[Entry], span: float) -> int:
    """Most intervals [sent, answered + span) that share one instant."""
    events = [(sent, 1) for sent, _ in entries] + [(done + span, -1) for _, done in entries]
    events.sort(key=lambda e: (e[0], e[1]))  # an interval ends before another starts
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def max_sends_in_any_window(entries: list[Entry], span: float) -> int:
    """Most send times inside one half-open interval [t, t + span)."""
    sends = sorted(sent for sent, _ in entries)
    best, lo = 0, 0
    for hi, t in enumerate(sends):
        while sends[lo] <= t - span:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def lower_bound(n: int, scale: float = 1.0) -> float:
    """T(N) of the documented policy: the earliest the N-th mutation can be sent."""
    return (900 * ((n - 1) // 900) + 10 * (((n - 1) % 900) // 100)) * scale


async def test_a_single_window_admits_limit_per_span() -> None:
    clock = FakeClock()
    entries = await send_all(MutationBudget([(5, 10.0)], clock=clock), clock, 12)
    assert [sent for sent, _ in entries] == [0.0] * 5 + [10.0] * 5 + [20.0] * 2


async def test_the_longer_window_is_enforced_too() -> None:
    clock = FakeClock()
    budget = MutationBudget([(3, 1.0), (5, 10.0)], clock=clock)
    entries = await send_all(budget, clock, 9)
    assert [sent for sent, _ in entries] == [0, 0, 0, 1, 1, 10, 10, 10, 11]


@pytest.mark.parametrize("n", [1, 100, 101, 300, 900, 901, 1000])
async def test_zero_latency_makespan_is_the_policy_lower_bound(n: int) -> None:
    clock = FakeClock()
    entries = await send_all(MutationBudget(clock=clock), clock, n, workers=50)
    assert entries[-1][0] == lower_bound(n)


async def test_both_windows_hold_in_every_sliding_interval_under_jitter() -> None:
    clock = FakeClock()
    rng = random.Random(7)
    delays = [rng.uniform(0.001, 0.5) if i % 97 else 3.0 for i in range(2000)]
    budget = MutationBudget(clock=clock)
    entries = await send_all(budget, clock, 2000, workers=40, latency=delays.__getitem__)
    assert len(entries) == 2000
    for limit, span in DEFAULT_MUTATION_LIMITS:
        assert max_sends_in_any_window(entries, span) <= limit
        assert max_overlap(entries, span) <= limit
    # Tight, not just safe: one window turn costs at most one latency (here up to 3 s).
    assert entries[-1][0] <= lower_bound(2000) + 20 * 3.0


async def test_a_slow_first_request_keeps_its_slot_until_response_plus_span() -> None:
    clock = FakeClock()
    budget = MutationBudget([(2, 10.0)], clock=clock)
    latencies = [15.0, 0.1, 0.0, 0.0, 0.0]
    entries = await send_all(budget, clock, 5, workers=2, latency=latencies.__getitem__)
    # A log of send times alone would send at 0, 0, 10, 10, 20. Here the fast request frees
    # its slot at 0.1 + 10, the slow one only at 15 + 10, however early it reached the server.
    assert [sent for sent, _ in entries] == [0.0, 0.0, 10.1, 20.1, 25.0]


async def test_an_unanswered_send_occupies_its_window_indefinitely() -> None:
    clock = FakeClock()
    budget = MutationBudget([(1, 1.0)], clock=clock)
    permit = await budget.acquire()
    got: list[float] = []
    async with anyio.create_task_group() as tg:

        async def second() -> None:
            await budget.acquire()
            got.append(clock.now())

        tg.start_soon(second)
        await clock.run_for(1000.0)
        assert got == []
        budget.release(permit)
        await clock.run_for(0.999)
        assert got == []
        await clock.run_for(0.001)
    assert got == [1001.0]


async def test_fraction_margin_holds_back_part_of_each_window() -> None:
    clock = FakeClock()
    budget = MutationBudget([(100, 10.0), (900, 900.0)], margin=0.05, clock=clock)
    assert [w.cap for w in budget.statistics().windows] == [95, 855]
    entries = await send_all(budget, clock, 96, workers=96)
    assert entries[-1][0] == 10.0


async def test_count_margin_holds_back_that_many() -> None:
    budget = MutationBudget([(10, 1.0), (3, 1.0)], margin=2, clock=FakeClock())
    assert [w.cap for w in budget.statistics().windows] == [8, 1]


@pytest.mark.parametrize("margin", [-0.1, 1.5, float("nan")])
def test_bad_margin_is_rejected(margin: float) -> None:
    with pytest.raises(MutationLimitError, match="margin"):
        MutationBudget(margin=margin)


async def test_waiters_are_served_first_come_first_served() -> None:
    clock = FakeClock()
    budget = MutationBudget([(1, 1.0)], clock=clock)
    order: list[int] = []

    async def sender(i: int) -> None:
        async with budget.slot():
            order.append(i)

    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(sender, i)
            await clock.settle()
        await clock.run_for(19.0)
    assert order == list(range(20))


async def test_slot_releases_when_the_body_raises() -> None:
    clock = FakeClock()
    budget = MutationBudget([(1, 1.0)], clock=clock)
    with pytest.raises(RuntimeError):
        async with budget.slot():
            raise RuntimeError("connection reset")
    assert budget.statistics().in_flight == 0
    assert budget.eta(1) == 1.0


async def test_release_is_idempotent_and_checks_ownership() -> None:
    clock = FakeClock()
    budget, other = MutationBudget(clock=clock), MutationBudget(clock=clock)
    permit = await budget.acquire()
    budget.release(permit)
    budget.release(permit)
    assert budget.statistics().in_flight == 0
    with pytest.raises(ValueError, match="another MutationBudget"):
        other.release(await budget.acquire())


async def test_eta_counts_the_windows_exactly() -> None:
    budget = MutationBudget(clock=FakeClock())
    assert budget.eta(0) == 0.0
    assert budget.eta(1) == 0.0
    assert budget.eta(100) == 0.0
    assert budget.eta(101) == 10.0
    assert budget.eta(900) == 80.0
    assert budget.eta(901) == 900.0
    assert budget.eta(2700) == 1880.0


async def test_eta_accounts_for_the_log_and_in_flight_mutations() -> None:
    clock = FakeClock()
    budget = MutationBudget([(2, 10.0)], clock=clock)
    first = await budget.acquire()
    clock.advance(3.0)
    second = await budget.acquire()
    budget.release(second)
    clock.advance(1.0)
    # second frees at 3 + 10 = 13; first is assumed answered now (4), freeing at 14.
    assert budget.eta(1) == 9.0
    assert budget.eta(2) == 10.0
    assert budget.eta(3) == 19.0
    budget.release(first)


@pytest.mark.parametrize("n", [1, 57, 250, 950])
async def test_eta_predicts_the_zero_latency_makespan(n: int) -> None:
    clock = FakeClock()
    budget = MutationBudget(clock=clock)
    await send_all(budget, clock, 120)
    clock.advance(3.5)
    predicted = clock.now() + budget.eta(n)
    entries = await send_all(budget, clock, n, workers=30)
    assert entries[-1][0] == predicted


async def test_statistics_snapshot() -> None:
    clock = FakeClock()
    budget = MutationBudget([(3, 10.0), (5, 100.0)], clock=clock)
    answered = [await budget.acquire() for _ in range(2)]
    for permit in answered:
        budget.release(permit)
    await budget.acquire()
    clock.advance(5.0)
    stats = budget.statistics()
    assert stats.limits == ((3, 10.0), (5, 100.0))
    assert stats.sent == (3, 3)
    assert (stats.in_flight, stats.waiting, stats.total_sent) == (1, 0, 3)
    assert (stats.paused_until, stats.rate_limited) == (None, 0)
    clock.advance(5.0)
    stats = budget.statistics()
    assert stats.sent == (1, 3)  # the answered two left the 10 s window; in flight stays
    assert [w.sent for w in stats.windows] == [0, 3]
    with pytest.raises(AttributeError):
        stats.waiting = 5  # type: ignore[misc]


async def test_statistics_count_waiting_tasks() -> None:
    clock = FakeClock()
    budget = MutationBudget([(1, 10.0)], clock=clock)
    await budget.acquire()
    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(budget.acquire)
        await clock.settle()
        assert budget.statistics().waiting == 3
        tg.cancel_scope.cancel()
    assert budget.statistics().waiting == 0


def test_repr_names_the_limits() -> None:
    assert "100/10s, 900/15m" in repr(MutationBudget())


async def test_eta_of_a_million_is_the_policy_lower_bound() -> None:
    budget = MutationBudget(clock=FakeClock())
    assert budget.eta(1_000_000) == lower_bound(1_000_000) == 999_900.0


def stepwise_eta(budget: MutationBudget, n: int) -> float:
    """The definition of eta(n): add one send at a time at the earliest moment it fits."""
    log, now = budget._log, budget.clock.now()
    log.prune(now)
    releases = list(log.releases) + [now] * log.in_flight
    t = max(now, budget.statistics().paused_until or now)
    for _ in range(n):
        for window in range(len(log.limits)):
            t = max(t, log.window_ready(window, t, releases, 0))
        releases.append(t)
    return t - now


@pytest.mark.parametrize("seed", range(6))
async def test_eta_steps_whole_window_turns_but_matches_one_by_one(seed: int) -> None:
    rng = random.Random(seed)
    clock = FakeClock()
    budget = MutationBudget([(7, 1.0), (30, 20.0), (50, 45.0)], clock=clock)
    permits = []
    for _ in range(rng.randrange(5, 60)):
        if budget.eta(1) == 0.0:
            permits.append(await budget.acquire())
        if permits and rng.random() < 0.7:
            budget.release(permits.pop(rng.randrange(len(permits))))
        clock.advance(rng.uniform(0.0, 0.6))
        if rng.random() < 0.05:
            budget.pause(None)
    for n in (1, 5, 7, 8, 31, 200):
        assert budget.eta(n) == stepwise_eta(budget, n)


async def test_sends_of_an_earlier_process_count_until_their_span_passes() -> None:
    """``preload``: mutations answered before this budget existed keep their place in every
    window (a run resumed after kill -9 must not send a burst the server refuses)."""
    clock = FakeClock(100.0)
    budget = MutationBudget([(3, 1.0), (5, 10.0)], clock=clock)
    # answered 0.5 s, 4 s and 9.5 s ago count; 10 s ago has left the longest window; the
    # future is not ours to count
    assert budget.preload([99.5, 96.0, 90.5, 90.0, 101.0]) == 3
    entries = await send_all(budget, clock, 4)
    # at 100 the 10 s window holds 3 of 5: two go at once; the third waits for 90.5 to leave
    # it (100.5); the fourth for 96.0 (106.0): the earlier sends kept their places
    assert [sent for sent, _ in entries] == [100.0, 100.0, 100.5, 106.0]
    assert budget.preload([]) == 0
