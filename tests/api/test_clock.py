"""FakeClock and MonotonicClock: time moves only when told, sleepers wake in deadline order."""

from __future__ import annotations

import anyio
import pytest

from bulkops.api.clock import Clock, FakeClock, MonotonicClock

pytestmark = pytest.mark.anyio


def test_both_clocks_satisfy_the_protocol() -> None:
    assert isinstance(FakeClock(), Clock)
    assert isinstance(MonotonicClock(), Clock)


async def test_monotonic_clock_zero_sleep_returns() -> None:
    clock = MonotonicClock()
    before = clock.now()
    await clock.sleep(0)
    assert clock.now() >= before


async def test_fake_clock_does_not_move_by_itself() -> None:
    clock = FakeClock(start=5.0)
    await anyio.lowlevel.checkpoint()
    assert clock.now() == 5.0


async def test_advance_wakes_due_sleepers_in_deadline_order() -> None:
    clock = FakeClock()
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    async with anyio.create_task_group() as tg:
        tg.start_soon(sleeper, "late", 3.0)
        tg.start_soon(sleeper, "early", 1.0)
        tg.start_soon(sleeper, "never", 10.0)
        await clock.settle()
        clock.advance(3.0)
        await clock.settle()
        assert woke == ["early", "late"]
        assert clock.sleepers == 1
        tg.cancel_scope.cancel()
    assert clock.sleepers == 0


async def test_run_for_stops_at_each_deadline_so_chained_sleeps_see_their_time() -> None:
    clock = FakeClock()
    seen: list[float] = []

    async def ticker() -> None:
        for _ in range(3):
            await clock.sleep(2.0)
            seen.append(clock.now())

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        await clock.run_for(5.0)
        assert seen == [2.0, 4.0]
        assert clock.now() == 5.0
        await clock.run_for(1.0)
    assert seen == [2.0, 4.0, 6.0]


async def test_cancelled_sleeper_is_forgotten() -> None:
    clock = FakeClock()
    with anyio.move_on_after(0):
        await clock.sleep(1.0)
    assert clock.sleepers == 0
    assert clock.next_deadline() is None


async def test_autojump_moves_time_when_all_tasks_wait() -> None:
    clock = FakeClock()
    async with clock.autojump():
        await clock.sleep(100.0)
        await clock.sleep(0.5)
    assert clock.now() == 100.5


def test_time_cannot_go_back() -> None:
    with pytest.raises(ValueError, match="back in time"):
        FakeClock().advance(-1)
