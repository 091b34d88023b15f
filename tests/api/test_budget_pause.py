"""MutationBudget under 429s and cancellation, on a FakeClock (no sleeping)."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from bulkops.api.budget import MutationBudget
from bulkops.api.clock import FakeClock

pytestmark = pytest.mark.anyio


async def spend(budget: MutationBudget, n: int) -> None:
    """n mutations answered at once."""
    for _ in range(n):
        budget.release(await budget.acquire())


async def first_send_time(budget: MutationBudget, clock: FakeClock, horizon: float) -> float:
    """Run the clock up to `horizon` seconds and return when one more send got through."""
    sent: list[float] = []
    async with anyio.create_task_group() as tg:

        async def sender() -> None:
            await budget.acquire()
            sent.append(clock.now())

        tg.start_soon(sender)
        await clock.run_for(horizon)
        tg.cancel_scope.cancel()
    assert sent, f"nothing was sent within {horizon} s"
    return sent[0]


async def test_retry_after_pauses_every_waiter_until_then() -> None:
    clock = FakeClock()
    budget = MutationBudget([(10, 1.0)], clock=clock)
    sent: list[float] = []

    async def sender() -> None:
        await budget.acquire()
        sent.append(clock.now())

    clock.advance(0.5)
    budget.pause(5.0)
    assert budget.statistics().paused_until == 5.5
    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(sender)
        await clock.run_for(4.999)
        assert sent == []
        await clock.run_for(0.001)
    assert sent == [5.5] * 3
    assert budget.statistics().rate_limited == 1


async def test_pause_reaches_a_waiter_that_is_already_timing_its_turn() -> None:
    clock = FakeClock()
    budget = MutationBudget([(1, 10.0)], clock=clock)
    await spend(budget, 1)
    sent: list[float] = []
    async with anyio.create_task_group() as tg:

        async def sender() -> None:
            await budget.acquire()
            sent.append(clock.now())

        tg.start_soon(sender)
        await clock.run_for(2.0)
        budget.pause(30.0)
        await clock.run_for(40.0)
    assert sent == [32.0]


@pytest.mark.parametrize("hint", [None, 0.0])
async def test_without_a_hint_the_window_log_says_when_the_budget_is_back(
    hint: float | None,
) -> None:
    clock = FakeClock()
    budget = MutationBudget([(10, 1.0), (100, 60.0)], clock=clock)
    await spend(budget, 5)
    clock.advance(0.25)
    budget.pause(hint)
    stats = budget.statistics()
    # The fullest window is lowered below what the server took (5 -> 3): the 5 answered at
    # t=0 must leave the 1 s window first.
    assert stats.windows[0].cap == 3
    assert stats.windows[1].cap == 100
    assert stats.paused_until == 1.0
    assert await first_send_time(budget, clock, 2.0) == 1.0


async def test_pacing_backs_off_and_recovers_after_clean_spans() -> None:
    clock = FakeClock()
    budget = MutationBudget([(10, 1.0)], clock=clock)
    await spend(budget, 10)
    budget.pause(None)
    caps = []
    for _ in range(3):
        caps.append(budget.statistics().windows[0].cap)
        clock.advance(1.0)
    clock.advance(10.0)
    caps.append(budget.statistics().windows[0].cap)
    assert caps == [8, 9, 10, 10]
    # Back at full pace: a whole window fits at once.
    assert budget.eta(10) == 0.0


async def test_repeated_429s_keep_lowering_the_pace() -> None:
    clock = FakeClock()
    budget = MutationBudget([(10, 1.0)], clock=clock)
    await spend(budget, 10)
    budget.pause(None)
    budget.pause(None)
    budget.pause(None)
    assert budget.statistics().windows[0].cap == 6
    assert budget.statistics().rate_limited == 3


async def test_a_429_with_nothing_of_ours_in_flight_waits_one_short_span() -> None:
    clock = FakeClock()
    budget = MutationBudget(clock=clock)
    budget.pause(None)
    assert budget.statistics().paused_until == 10.0
    assert budget.eta(1) == 10.0


async def test_pause_is_per_budget_other_projects_go_on() -> None:
    clock = FakeClock()
    paused, other = MutationBudget(clock=clock), MutationBudget(clock=clock)
    paused.pause(60.0)
    assert await first_send_time(other, clock, 1.0) == 0.0
    assert await first_send_time(paused, clock, 70.0) == 60.0


async def test_eta_includes_the_pause() -> None:
    clock = FakeClock()
    budget = MutationBudget(clock=clock)
    budget.pause(12.5)
    assert budget.eta(1) == 12.5
    assert budget.statistics().paused_until == 12.5
    clock.advance(13.0)
    assert budget.statistics().paused_until is None


async def test_a_cancelled_waiter_leaves_no_record() -> None:
    clock = FakeClock()
    budget = MutationBudget([(1, 10.0)], clock=clock)
    await spend(budget, 1)
    with anyio.move_on_after(0):
        await budget.acquire()
    async with anyio.create_task_group() as tg:
        tg.start_soon(budget.acquire)
        await clock.run_for(3.0)
        tg.cancel_scope.cancel()
    stats = budget.statistics()
    assert (stats.total_sent, stats.in_flight, stats.waiting) == (1, 0, 0)
    assert budget.eta(1) == 7.0


async def test_a_cancelled_request_is_not_recorded_even_with_room() -> None:
    budget = MutationBudget(clock=FakeClock())
    with anyio.CancelScope() as scope:
        scope.cancel()
        await budget.acquire()
    assert budget.statistics().total_sent == 0


async def test_a_cancelled_head_passes_its_turn_to_the_next_waiter() -> None:
    clock = FakeClock()
    budget = MutationBudget([(1, 10.0)], clock=clock)
    await spend(budget, 1)
    got: list[str] = []
    async with anyio.create_task_group() as tg:

        async def sender(name: str) -> None:
            budget.release(await budget.acquire())
            got.append(f"{name}@{clock.now():g}")

        head = anyio.CancelScope()

        async def cancellable_head() -> None:
            with head:
                await sender("head")

        tg.start_soon(cancellable_head)
        await clock.settle()
        tg.start_soon(sender, "second")
        await clock.settle()
        tg.start_soon(sender, "third")
        await clock.run_for(5.0)
        head.cancel()
        await clock.run_for(15.0)
    assert got == ["second@10", "third@20"]
    assert budget.statistics().total_sent == 3


async def test_a_waiter_cancelled_at_its_turn_leaves_no_record() -> None:
    clock = FakeClock()
    budget = MutationBudget([(2, 10.0)], clock=clock)
    await spend(budget, 2)
    second_scope = anyio.CancelScope()
    got: list[str] = []

    async def sender(name: str) -> None:
        await budget.acquire()
        got.append(name)

    async def cancellable_second() -> None:
        with second_scope:
            await sender("second")

    async with anyio.create_task_group() as tg:
        tg.start_soon(sender, "first")
        await clock.settle()
        tg.start_soon(cancellable_second)
        await clock.settle()
        clock.advance(10.0)  # both fit now: the head's timer fires
        await anyio.lowlevel.checkpoint()
        second_scope.cancel()
    assert got == ["first"]
    stats = budget.statistics()
    assert (stats.total_sent, stats.in_flight, stats.waiting) == (3, 1, 0)
    assert budget.eta(1) == 0.0
