"""The per-project mutation budget: exact sliding windows that stay safe under any latency.

The Console API counts mutations per project in several sliding windows at once (by default
100 per 10 s and 900 per 15 min). `MutationBudget` keeps every window as a log of our own
sends, checks all windows and records a send in all of them in one step, and only then lets
the request go:

    budget = MutationBudget()                  # DEFAULT_MUTATION_LIMITS
    permit = await budget.acquire()            # right before sending a POST/PATCH/PUT/DELETE
    try:
        response = await send(...)
    finally:
        budget.release(permit)                 # the response (or an error) came back
    # on a 429: budget.pause(retry_after)      # every waiter of the project pauses

    async with budget.slot():                  # the same, as a context manager
        ...

Why a window log and not aiolimiter: aiolimiter is a leaky bucket whose burst equals its rate,
so `AsyncLimiter(900, 900)` admits a full bucket at once and then refills continuously,
~1,720 requests in one 15-minute interval; stacking `AsyncLimiter(100, 10)` on top of it records
a send in the outer limiter while the inner one may still make it wait, so the two never agree
on when a send happened (aiolimiter issues #298 and #240). A log of send/response times per
window is exact, small (one float per mutation of the longest window) and lets us model latency.

Latency: the server counts a mutation when it arrives, at a moment between our send and its
response that we never see. A send therefore occupies every window from the moment we send it
until its response came back plus the window's span; until the response comes back it occupies
the windows indefinitely. That is exact on the safe side for any latency, and costs one latency
per window turn.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.lowlevel

from bulkops.api.clock import Clock, MonotonicClock
from bulkops.api.limits import (
    DEFAULT_MUTATION_LIMITS,
    MutationLimit,
    MutationLimitError,
    format_mutation_limit,
    normalize_limits,
)

__all__ = ["BudgetStatistics", "MutationBudget", "Permit", "WindowStatistics"]

_INF = math.inf
# After a 429, the window we suspect is lowered to this share of what the server accepted from
# us, and recovers by RECOVERY_STEP of its limit per span without another 429.
BACKOFF_FACTOR = 0.9
RECOVERY_STEP = 0.1


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
        self._limits = normalize_limits(limits)
        self._base_caps = tuple(_cap_with_margin(count, margin) for count, _ in self._limits)
        self._margin = margin
        self._clock: Clock = clock if clock is not None else MonotonicClock()
        self._max_span = max(span for _, span in self._limits)
        self._releases: list[float] = []  # response times, ascending; an entry per answered send
        self._sends: deque[float] = deque()  # send times, ascending, for statistics
        self._in_flight = 0
        self._waiters: deque[anyio.Event] = deque()
        self._paused_until = -_INF
        self._rate_limited = 0
        self._total_sent = 0
        self._numbers = itertools.count(1)
        # Back-off after a 429: per window, the lowered cap and when it was set.
        self._backoff: list[tuple[int, float] | None] = [None] * len(self._limits)

    @property
    def limits(self) -> tuple[MutationLimit, ...]:
        """The windows, as `(count, span_seconds)` pairs."""
        return self._limits

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
        if not self._waiters and self._ready_at(self._clock.now()) <= self._clock.now():
            permit = self._record()
            await anyio.lowlevel.cancel_shielded_checkpoint()
            return permit
        wake = anyio.Event()
        self._waiters.append(wake)
        try:
            while True:
                if self._waiters[0] is wake:
                    now = self._clock.now()
                    ready_at = self._ready_at(now)
                    if ready_at <= now:
                        self._waiters.popleft()
                        self._wake_head()
                        return self._record()
                    await self._sleep_or_wake(wake, ready_at - now)
                else:
                    await wake.wait()
                wake = self._renew(wake)
        except BaseException:
            was_head = bool(self._waiters) and self._waiters[0] is wake
            self._waiters.remove(wake)
            if was_head:
                self._wake_head()
            raise

    def release(self, permit: Permit) -> None:
        """The permit's response (or error) came back: its slots free up one span from now."""
        if permit._budget is not self:
            raise ValueError(f"{permit!r} belongs to another MutationBudget")
        if permit.released_at is not None:
            return
        now = self._clock.now()
        if self._releases and now < self._releases[-1]:
            now = self._releases[-1]
        permit.released_at = now
        self._in_flight -= 1
        self._releases.append(now)
        self._wake_head()

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
        window = self._suspect_window(now)
        occupied = self._occupied(window, now)
        cap_now = self._cap(window, now)
        lowered = max(1, min(cap_now - 1, int((occupied - 1) * BACKOFF_FACTOR)))
        self._backoff[window] = (lowered, now)
        if retry_after is not None and retry_after > 0:
            back = now + retry_after
        elif occupied == 0:
            # Nothing of ours counts: someone else spends this project's budget.
            back = now + min(span for _, span in self._limits)
        else:
            back = self._window_ready(window, now, self._releases, self._in_flight)
        if math.isfinite(back):
            self._paused_until = max(self._paused_until, back)
        self._wake_head()

    def eta(self, n: int) -> float:
        """Seconds from now until `n` more mutations can have been sent (0.0 for n <= 0).

        Exact window arithmetic over the log, the pause and the current back-off, assuming
        the mutations in flight and the `n` new ones are answered at once (zero latency), and
        not counting tasks that are already waiting.
        """
        if n <= 0:
            return 0.0
        now = self._clock.now()
        self._prune(now)
        releases = list(self._releases)
        releases.extend([now] * self._in_flight)
        t = max(now, self._paused_until)
        for _ in range(n):
            for window in range(len(self._limits)):
                t = max(t, self._window_ready(window, t, releases, 0))
            releases.append(t)
        return t - now

    def statistics(self) -> BudgetStatistics:
        """A snapshot: per-window use, in flight, waiting, pause, 429s seen, total sent."""
        now = self._clock.now()
        self._prune(now)
        windows = tuple(
            WindowStatistics(
                limit=count,
                span=span,
                cap=self._cap(i, now),
                occupied=self._occupied(i, now),
                sent=len(self._sends) - bisect.bisect_right(self._sends, now - span),
            )
            for i, (count, span) in enumerate(self._limits)
        )
        return BudgetStatistics(
            limits=self._limits,
            sent=tuple(w.occupied for w in windows),
            windows=windows,
            in_flight=self._in_flight,
            waiting=len(self._waiters),
            paused_until=self._paused_until if self._paused_until > now else None,
            rate_limited=self._rate_limited,
            total_sent=self._total_sent,
        )

    def __repr__(self) -> str:
        limits = ", ".join(format_mutation_limit(limit) for limit in self._limits)
        return (
            f"<MutationBudget {limits} margin={self._margin!r} in_flight={self._in_flight} "
            f"waiting={len(self._waiters)}>"
        )

    # The window arithmetic. An entry occupies window i from its send until its release time
    # r plus span_i (forever while in flight); `releases` is ascending, so at time t window i
    # holds in_flight + #{r > t - span_i} entries, and index arithmetic answers "when".

    def _ready_at(self, now: float) -> float:
        self._prune(now)
        t = max(now, self._paused_until)
        for window in range(len(self._limits)):
            t = max(t, self._window_ready(window, t, self._releases, self._in_flight))
        return t

    def _window_ready(
        self, window: int, start: float, releases: list[float], in_flight: int
    ) -> float:
        """Earliest time >= start at which one more send fits into `window`."""
        span = self._limits[window][1]
        t = start
        while True:
            cap, cap_until = self._cap_segment(window, t)
            room = cap - 1 - in_flight  # answered entries that may still count
            if room >= 0:
                must_expire = len(releases) - room
                if must_expire <= 0:
                    return t
                t_free = max(t, releases[must_expire - 1] + span)
                if t_free < cap_until:
                    return t_free
            if not math.isfinite(cap_until):
                return _INF
            t = cap_until

    def _cap_segment(self, window: int, t: float) -> tuple[int, float]:
        """The cap at time t, and until when it stays so."""
        base = self._base_caps[window]
        backoff = self._backoff[window]
        if backoff is None:
            return base, _INF
        lowered, since = backoff
        span = self._limits[window][1]
        step = max(1, math.ceil(self._limits[window][0] * RECOVERY_STEP))
        turns = math.floor((t - since) / span) if t > since else 0
        cap = lowered + step * turns
        if cap >= base:
            return base, _INF
        return cap, since + (turns + 1) * span

    def _cap(self, window: int, t: float) -> int:
        return self._cap_segment(window, t)[0]

    def _occupied(self, window: int, now: float) -> int:
        span = self._limits[window][1]
        expired = bisect.bisect_right(self._releases, now - span)
        return self._in_flight + len(self._releases) - expired

    def _suspect_window(self, now: float) -> int:
        """The window that looks fullest by our log (ties: the shortest span)."""

        def fullness(window: int) -> tuple[float, float]:
            return (self._occupied(window, now) / self._cap(window, now), -self._limits[window][1])

        return max(range(len(self._limits)), key=fullness)

    def _record(self) -> Permit:
        now = self._clock.now()
        self._in_flight += 1
        self._total_sent += 1
        self._sends.append(now)
        return Permit(self, self._total_sent, now)

    def _prune(self, now: float) -> None:
        horizon = now - self._max_span
        expired = bisect.bisect_right(self._releases, horizon)
        if expired:
            del self._releases[:expired]
        while self._sends and self._sends[0] <= horizon:
            self._sends.popleft()
        for window, backoff in enumerate(self._backoff):
            if backoff is not None and self._cap_segment(window, now)[1] == _INF:
                self._backoff[window] = None

    # Waiting: only the head of the FIFO queue watches the clock; the others wait their turn.

    def _wake_head(self) -> None:
        if self._waiters:
            self._waiters[0].set()

    def _renew(self, wake: anyio.Event) -> anyio.Event:
        if not wake.is_set():
            return wake
        fresh = anyio.Event()
        self._waiters[self._waiters.index(wake)] = fresh
        return fresh

    async def _sleep_or_wake(self, wake: anyio.Event, delay: float) -> None:
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


def _cap_with_margin(count: int, margin: float) -> int:
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not margin >= 0:
        raise MutationLimitError(
            f"margin must be a fraction below 1 (0.05 = 5 %) or a whole count, got {margin!r}"
        )
    if margin < 1:
        reserve = math.ceil(count * margin - 1e-9)
    elif float(margin).is_integer():
        reserve = int(margin)
    else:
        raise MutationLimitError(
            f"margin {margin!r}: use a fraction below 1 (0.05 = 5 %) or a whole count such as 2"
        )
    return max(1, count - reserve)
