"""The per-project mutation budget: exact sliding windows that stay safe under any latency.

The Console API counts mutations per project in several sliding windows at once (by default
100 per 10 s and 900 per 15 min). `MutationBudget` checks every window and records a send in
all of them in one step, and only then lets the request go:

    budget = MutationBudget()                  # DEFAULT_MUTATION_LIMITS
    permit = await budget.acquire()            # right before sending a POST/PATCH/PUT/DELETE
    try:
        response = await send(...)
    finally:
        budget.release(permit)                 # the response (or an error) came back
    # on a 429: budget.pause(retry_after)      # every waiter of the project pauses

    async with budget.slot():                  # the same, as a context manager
        ...

The window arithmetic (and why it is a log of our own rather than aiolimiter) lives in
`bulkops.api.windows`: a send occupies every window from the moment it leaves until its
response came back plus the window's span, which is safe for any latency and costs one
latency per window turn.

Waiting: senders queue first come, first served. Only the head of the queue watches the
clock, sleeping until the exact moment the log says the next send fits (the response time of
the entry that must leave plus its span). When it wakes it grants permits to every queued
sender that fits at that moment in one step, so a burst of 100 leaves in one pass of the
event loop instead of one task hand-off per send.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import anyio.lowlevel

from bulkops.api.clock import Clock, MonotonicClock
from bulkops.api.limits import (
    DEFAULT_MUTATION_LIMITS,
    MutationLimit,
    format_mutation_limit,
    normalize_limits,
)
from bulkops.api.windows import BACKOFF_FACTOR, RECOVERY_STEP, WindowLog

__all__ = [
    "BACKOFF_FACTOR",
    "RECOVERY_STEP",
    "Budget",
    "BudgetStatistics",
    "MutationBudget",
    "Permit",
    "WindowStatistics",
    "window_statistics",
]

_INF = math.inf


class Permit:
    """One mutation's claim on the budget, from `acquire()` until `release()`."""

    __slots__ = ("_budget", "number", "released_at", "sent_at")

    def __init__(self, budget: MutationBudget, number: int, sent_at: float) -> None:
        self._budget = budget
        self.number = number
        self.sent_at = sent_at
        self.released_at: float | None = None

    def __repr__(self) -> str:
        state = "in flight" if self.released_at is None else f"released at {self.released_at:g}"
        return f"<Permit #{self.number} sent at {self.sent_at:g}, {state}>"


@dataclass(frozen=True)
class WindowStatistics:
    """One window of the budget at the moment of the snapshot."""

    limit: int
    span: float
    cap: int
    """What we allow ourselves now: the limit minus the safety margin and any 429 back-off."""
    occupied: int
    """Our mutations that still count against this window (in flight or answered < span ago)."""
    sent: int
    """Mutations sent within the last `span` seconds."""


@dataclass(frozen=True)
class BudgetStatistics:
    """A snapshot of a `MutationBudget` (for progress bars, logs and tests)."""

    limits: tuple[MutationLimit, ...]
    sent: tuple[int, ...]
    """Per window, our mutations that count against it now (same order as `limits`)."""
    windows: tuple[WindowStatistics, ...]
    in_flight: int
    waiting: int
    paused_until: float | None
    """Clock time until which every sender of the project waits after a 429, or None."""
    rate_limited: int
    """How many 429 answers were reported through `pause()`."""
    total_sent: int


class Budget(Protocol):
    """What a client needs of a project's mutation budget.

    ``MutationBudget`` (in process) satisfies it; so does a budget shared between processes,
    and ``bulkops.run``'s stoppable wrapper. ``acquire()`` returns an opaque permit that is
    handed back to ``release()``.
    """

    @property
    def limits(self) -> tuple[MutationLimit, ...]:
        """The windows, as ``(count, span_seconds)`` pairs."""
        ...

    async def acquire(self) -> Any:
        """Wait until a mutation may be sent; returns its permit."""
        ...

    def release(self, permit: Any) -> None:
        """The permit's response (or error) came back."""
        ...

    def pause(self, retry_after: float | None) -> None:
        """A 429 was seen: pause every sender of the project."""
        ...

    def eta(self, n: int) -> float:
        """Seconds until ``n`` more mutations can have been sent."""
        ...

    def statistics(self) -> BudgetStatistics:
        """A snapshot of the windows, pause and counts."""
        ...


def window_statistics(log: WindowLog, now: float) -> tuple[WindowStatistics, ...]:
    """Each window of ``log`` at ``now`` (old entries pruned first)."""
    log.prune(now)
    return tuple(
        WindowStatistics(
            limit=count,
            span=span,
            cap=log.cap(i, now),
            occupied=log.occupied(i, now),
            sent=log.sent(i, now),
        )
        for i, (count, span) in enumerate(log.limits)
    )


class _Waiter:
    """A queued sender: woken through `event`, handed its permit in `permit`."""

    __slots__ = ("event", "permit")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.permit: Permit | None = None


class MutationBudget:
    """Exact sliding-window mutation budget for one project, shared by all of its senders.

    `limits` is a sequence of `(count, span_seconds)` pairs (or `"100/10s"` strings), all
    enforced at once. `margin` holds part of every window back: a fraction below 1 (0.05 keeps
    5 % of each limit unused) or a whole number of mutations per window (2 keeps 2 unused).
    `clock` is injectable (`FakeClock` in tests); the default is the monotonic clock.

    Waiters are served first come, first served; a waiter that is cancelled leaves no trace.
    Use one budget from one event loop (it is not thread-safe).
    """

    def __init__(
        self,
        limits: Iterable[MutationLimit] | str = DEFAULT_MUTATION_LIMITS,
        *,
        margin: float = 0.0,
        clock: Clock | None = None,
    ) -> None:
        self._log = WindowLog(normalize_limits(limits), margin)
        self._margin = margin
        self._clock: Clock = clock if clock is not None else MonotonicClock()
        self._waiters: deque[_Waiter] = deque()
        self._paused_until = -_INF
        self._rate_limited = 0
        self._total_sent = 0
        self._numbers = itertools.count(1)
        self._head_deadline = _INF  # when the sleeping head of the queue will look again

    @property
    def limits(self) -> tuple[MutationLimit, ...]:
        """The windows, as `(count, span_seconds)` pairs."""
        return self._log.limits

    @property
    def clock(self) -> Clock:
        """The clock that times this budget."""
        return self._clock

    async def acquire(self) -> Permit:
        """Wait until not paused and every window has room, then record the send in all of them.

        Call it right before sending the mutation, and `release()` the permit when its
        response (or an error) came back.
        """
        await anyio.lowlevel.checkpoint_if_cancelled()
        now = self._clock.now()
        if not self._waiters and self._ready_at(now) <= now:
            permit = self._record(now)
            await anyio.lowlevel.cancel_shielded_checkpoint()
            return permit
        waiter = _Waiter()
        self._waiters.append(waiter)
        try:
            while waiter.permit is None:
                if self._waiters[0] is waiter:
                    now = self._clock.now()
                    ready_at = self._ready_at(now)
                    if ready_at <= now:
                        self._grant(now)
                        continue
                    await self._sleep_or_wake(waiter, ready_at - now)
                else:
                    await waiter.event.wait()
                if waiter.event.is_set():
                    waiter.event = anyio.Event()
            return waiter.permit
        except BaseException:
            self._withdraw(waiter)
            raise

    def release(self, permit: Permit) -> None:
        """The permit's response (or error) came back: its slots free up one span from now."""
        if permit._budget is not self:
            raise ValueError(f"{permit!r} belongs to another MutationBudget")
        if permit.released_at is not None:
            return
        now = self._clock.now()
        permit.released_at = self._log.release(now)
        # A release only matters to the head when it brings its turn forward (it usually
        # does not: the entry that must expire first is an older one), so the head is not
        # woken a hundred times per window turn just to go back to sleep.
        if self._waiters and self._ready_at(now) < self._head_deadline:
            self._wake_head()

    def preload(self, answered: Iterable[float]) -> int:
        """Count mutations sent before this budget existed (an earlier process on the same
        project), answered at these clock times, in every window until their span passes;
        returns how many still count. Call it before the first ``acquire``."""
        now = self._clock.now()
        counted = [t for t in answered if now - self._log.max_span < t <= now]
        self._log.preload(counted)  # only ever later turns: a sleeping head looks again anyway
        return len(counted)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Permit]:
        """`acquire()` on entry, `release()` on exit (also when the body raises)."""
        permit = await self.acquire()
        try:
            yield permit
        finally:
            self.release(permit)

    def pause(self, retry_after: float | None) -> None:
        """A 429 came back: pause every sender of this project, and back off the pacing.

        With `retry_after` (seconds, > 0) nobody sends before that time. Without a hint, the
        senders wait until our own window log says the budget is back, with the window that
        looked fullest lowered to 90 % of what the server had accepted from us; it recovers
        by 10 % of its limit for every span that passes without another 429.
        """
        now = self._clock.now()
        self._rate_limited += 1
        window, occupied = self._log.back_off(now)
        if retry_after is not None and retry_after > 0:
            back = now + retry_after
        elif occupied == 0:
            # Nothing of ours counts: someone else spends this project's budget.
            back = now + self._log.min_span
        else:
            back = self._log.window_ready(window, now, self._log.releases, self._log.in_flight)
        if math.isfinite(back):
            self._paused_until = max(self._paused_until, back)
        self._wake_head()

    def eta(self, n: int) -> float:
        """Seconds from now until `n` more mutations can have been sent (0.0 for n <= 0).

        Exact window arithmetic over the log, the pause and the current back-off, assuming
        the mutations in flight and the `n` new ones are answered at once (zero latency), and
        not counting tasks that are already waiting. Costs one step per window turn, so
        `eta(1_000_000)` is quick.
        """
        if n <= 0:
            return 0.0
        now = self._clock.now()
        return self._log.earliest(n, now, self._paused_until) - now

    def statistics(self) -> BudgetStatistics:
        """A snapshot: per-window use, in flight, waiting, pause, 429s seen, total sent."""
        now = self._clock.now()
        log = self._log
        windows = window_statistics(log, now)
        return BudgetStatistics(
            limits=log.limits,
            sent=tuple(w.occupied for w in windows),
            windows=windows,
            in_flight=log.in_flight,
            waiting=len(self._waiters),
            paused_until=self._paused_until if self._paused_until > now else None,
            rate_limited=self._rate_limited,
            total_sent=self._total_sent,
        )

    def __repr__(self) -> str:
        limits = ", ".join(format_mutation_limit(limit) for limit in self._log.limits)
        return (
            f"<MutationBudget {limits} margin={self._margin!r} in_flight={self._log.in_flight} "
            f"waiting={len(self._waiters)}>"
        )

    # -- internals ------------------------------------------------------------------------

    def _ready_at(self, now: float) -> float:
        return self._log.ready_at(now, self._paused_until)

    def _record(self, now: float) -> Permit:
        self._log.record(now)
        self._total_sent += 1
        return Permit(self, next(self._numbers), now)

    def _grant(self, now: float) -> None:
        """Hand a permit to every queued sender that fits now, in order; wake the new head."""
        if self._paused_until <= now:
            for _ in range(self._log.room(now)):
                if not self._waiters:
                    break
                waiter = self._waiters.popleft()
                waiter.permit = self._record(now)
                waiter.event.set()
        self._wake_head()

    def _withdraw(self, waiter: _Waiter) -> None:
        """A queued sender was cancelled: leave no trace, and pass its turn on."""
        permit = waiter.permit
        if permit is not None:  # granted, but cancelled before it could send
            self._log.unrecord(permit.sent_at)
            self._total_sent -= 1
        else:
            self._waiters.remove(waiter)
        self._wake_head()

    def _wake_head(self) -> None:
        if self._waiters:
            self._waiters[0].event.set()

    async def _sleep_or_wake(self, waiter: _Waiter, delay: float) -> None:
        """Sleep `delay` on the clock, or less if something changed (release, pause, cancel)."""
        wake = waiter.event
        self._head_deadline = self._clock.now() + delay
        try:
            if not math.isfinite(delay):
                await wake.wait()
                return
            async with anyio.create_task_group() as tg:

                async def timer() -> None:
                    await self._clock.sleep(delay)
                    wake.set()

                tg.start_soon(timer)
                await wake.wait()
                tg.cancel_scope.cancel()
        finally:
            self._head_deadline = _INF
