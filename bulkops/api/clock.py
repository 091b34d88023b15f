"""Clocks for timing logic: the real one, and a fake one that tests move by hand.

Code that waits on time (the mutation budget, retry backoff) takes a `Clock`, so tests can check
its behaviour without sleeping:

    clock = FakeClock()
    budget = MutationBudget([(2, 10.0)], clock=clock)
    ...
    await clock.run_for(10.0)     # time passes; sleepers wake in deadline order

`MonotonicClock` is the default everywhere and wraps `time.monotonic` and `anyio.sleep`.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol, runtime_checkable

import anyio
import anyio.lowlevel

__all__ = ["Clock", "FakeClock", "MonotonicClock", "wait_all_tasks_blocked"]


@runtime_checkable
class Clock(Protocol):
    """What timing logic needs from time: a monotonic reading and a way to wait."""

    def now(self) -> float:
        """Seconds on a monotonic scale (only differences are meaningful)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` have passed on this clock."""
        ...


class MonotonicClock:
    """The real clock: `time.monotonic()` and `anyio.sleep()`."""

    def now(self) -> float:
        """Seconds from `time.monotonic()`."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Sleep for real (`anyio.sleep`); a zero or negative wait is a plain checkpoint."""
        await anyio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "MonotonicClock()"


async def wait_all_tasks_blocked() -> None:
    """Return once every other task of the event loop is blocked waiting on something.

    anyio's own `wait_all_tasks_blocked` polls every 0.1 s of real time on asyncio; this one
    only yields to the loop, so a test that moves a `FakeClock` a thousand times stays fast.
    Tasks blocked on network I/O count as blocked too: only use it where time, not I/O, is
    what the tasks wait for.
    """
    try:
        import asyncio

        loop = asyncio.get_running_loop()
    except RuntimeError:
        await anyio.wait_all_tasks_blocked()
        return
    this_task = asyncio.current_task(loop)
    while True:
        await asyncio.sleep(0)
        if getattr(loop, "_ready", None):
            continue  # callbacks are pending (e.g. anyio delivering a cancellation)
        for task in asyncio.all_tasks(loop):
            if task is this_task:
                continue
            waiter = getattr(task, "_fut_waiter", None)
            if waiter is None or waiter.done():
                break
        else:
            return


class FakeClock:
    """A clock that only moves when told to; for tests of timing logic without sleeping.

    - `advance(seconds)` moves time at once and wakes every sleeper whose deadline has passed,
      in deadline order (they run after the caller yields, and all see the new time).
    - `await run_for(seconds)` moves time step by step, stopping at each sleeper's deadline in
      order and letting the woken tasks run until every task is blocked again, so a task that
      wakes at t=3 and sleeps 2 more seconds wakes again at t=5 within the same call.
    - `async with clock.autojump():` moves time to the next deadline whenever every task is
      blocked (like trio's autojump clock); only for tests where tasks wait on time alone, and
      not together with `settle()`/`run_for()`, which would wait for the jumping task.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._order = itertools.count()
        self._sleeper_added: anyio.Event | None = None

    def now(self) -> float:
        """The current fake time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Block until the clock has been moved `seconds` past now."""
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        if math.isinf(seconds):
            await anyio.sleep_forever()
            return
        event = anyio.Event()
        entry = (self._now + seconds, next(self._order), event)
        heapq.heappush(self._sleepers, entry)
        if self._sleeper_added is not None:
            self._sleeper_added.set()
        try:
            await event.wait()
        finally:
            if not event.is_set():
                self._sleepers.remove(entry)
                heapq.heapify(self._sleepers)

    def next_deadline(self) -> float | None:
        """The earliest deadline of a sleeping task, or None if nobody sleeps."""
        return self._sleepers[0][0] if self._sleepers else None

    @property
    def sleepers(self) -> int:
        """How many tasks sleep on this clock right now."""
        return len(self._sleepers)

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` and wake the sleepers that are due, earliest first."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back in time (advance({seconds!r}))")
        self._now += seconds
        self._wake_due()

    async def run_for(self, seconds: float) -> None:
        """Let `seconds` pass, waking sleepers one deadline at a time and letting them run."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back in time (run_for({seconds!r}))")
        end = self._now + seconds
        await wait_all_tasks_blocked()
        while self._sleepers and self._sleepers[0][0] <= end:
            self._now = max(self._now, self._sleepers[0][0])
            self._wake_due()
            await wait_all_tasks_blocked()
        self._now = end

    async def settle(self) -> None:
        """Let every task run until all are blocked, without moving time."""
        await wait_all_tasks_blocked()

    @asynccontextmanager
    async def autojump(self) -> AsyncIterator[FakeClock]:
        """Within the block, jump to the next deadline whenever every task is blocked."""
        async with anyio.create_task_group() as tg:

            async def jump() -> None:
                while True:
                    await wait_all_tasks_blocked()
                    deadline = self.next_deadline()
                    if deadline is None:
                        added = self._sleeper_added = anyio.Event()
                        await added.wait()
                        continue
                    self._now = max(self._now, deadline)
                    self._wake_due()

            tg.start_soon(jump)
            try:
                yield self
            finally:
                tg.cancel_scope.cancel()

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, event = heapq.heappop(self._sleepers)
            event.set()

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now!r}, sleepers={len(self._sleepers)})"
