"""A mutation budget shared through Redis by every bulkops process of a project.

`MutationBudget` keeps a project's windows in one process, so two processes on one project
each believe they own the whole budget (and draw 429s). `SharedBudget` has the same interface
and keeps the window log in Redis, keyed by project id (never by API key):

    async with SharedBudget.connect("redis://host:6379/0", project_id, limits) as budget:
        async with ConsoleClient(api_key=..., budget=budget) as client:
            ...

Why a window log (not a counter or a token bucket): the server counts a mutation when it
arrives, which the client never sees. As in `bulkops.api.windows`, an entry occupies every
window from its admission until its response came back plus the span: safe for any latency,
exact about when the next send fits, and one log serves both windows (100/10 s, 900/15 min).

One Lua script (`bulkops.api.shared_log`, loaded once, called with `EVALSHA`; its docstring
lists the keys) does every step atomically on the Redis server's clock (`TIME`), so hosts whose
clocks disagree still agree: an admission drops expired entries, checks every window and
records up to `want` sends at once, or answers how long to wait; a release (one call for all
pending) sets an entry's end to the release time; a 429 sets a shared `pause` key (capped at
`max_pause`, the client's `RetryPolicy.max_server_wait`) and lowers the fullest window's cap
for every process as `MutationBudget.pause` does; every call refreshes the caller's heartbeat.

Crashed processes: a process killed with -9 never releases its entries in flight. The next
call of any process sees that owner's deadline passed and ends those entries *at the
deadline* (they count one span more): a live process calls every TTL/4, so the dead one
stopped before its deadline and its requests reached the server before; ending them at its
last beat could free them up to one TTL too early. The cost is one TTL (10 s by default) of
its slots. A process stalled past its TTL is taken for dead; its later releases move those
entries' ends forward again.

Waiting: one head waiter per process talks to Redis (the others queue locally, first come
first served); it asks for a permit for every waiter at once, and sleeps until the wait the
script returned (at most `MAX_NAP`, plus up to 1 ms of jitter). A release only brings a turn
forward when sends in flight fill a window (the script says `blocked`): only then does the
head also wake on the project's pub/sub channel. Round trips per mutation: under one
admission and one release, both batched, plus a beat per TTL/4 (`statistics().round_trips`).

Failures (`bulkops.api.shared_link`): Redis unreachable or the URL malformed at open is a
`BudgetUnavailableError` (nothing sent); a Redis error later makes every `acquire()` raise
`BudgetLostError` (stop, resume once Redis is back): no silent local fallback, no retry.
A Redis restarted since loses the log: `recent` (what the state dir sent lately) fills an
empty one at open. Closing retires the process: its entries in flight end now.
"""

from __future__ import annotations

import random
import secrets
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import anyio
import anyio.lowlevel

from bulkops.api.clock import MonotonicClock
from bulkops.api.limits import (
    DEFAULT_MUTATION_LIMITS,
    MutationLimit,
    format_mutation_limit,
    normalize_limits,
)
from bulkops.api.shared_link import BUDGET_URL_ENV, RedisLink, safe_url
from bulkops.api.shared_log import BudgetKeys, PauseOutcome, Snapshot
from bulkops.api.shared_view import SharedBudgetStatistics, SharedPermit, SharedView
from bulkops.api.windows import cap_with_margin

__all__ = [
    "BUDGET_URL_ENV",
    "MAX_NAP",
    "SharedBudget",
    "SharedBudgetStatistics",
    "SharedPermit",
    "safe_url",
]

MAX_NAP = 5.0
"""The longest the head sleeps before asking Redis again (waits can be 15 minutes long)."""
_JITTER = 0.001


@dataclass(slots=True)
class _Waiter:
    event: anyio.Event = field(default_factory=anyio.Event)
    permit: SharedPermit | None = None


class SharedBudget:
    """A project's mutation budget, shared through Redis with every process that uses it.

    `url`: `redis://[:password@]host:port/db` or `rediss://` (TLS). `project_id`: the id of
    the project (from `GET /project`), never its API key. `limits` and `margin` as for
    `MutationBudget`. `max_pause` caps a 429 pause (`RetryPolicy.max_server_wait`).
    `heartbeat_ttl`: how long after its last call a silent process is taken for dead.
    `timeout`: seconds to connect and per Redis call. `recent`: ages (s) of sends to count if
    the log is empty at open; `seeded` says how many it did.

    Open it with `async with SharedBudget.connect(...)`, `async with SharedBudget(...)`, or
    `await open()` ... `await aclose()` from the same task. Use it from one event loop.
    """

    def __init__(
        self,
        url: str,
        project_id: str,
        limits: Iterable[MutationLimit] | str = DEFAULT_MUTATION_LIMITS,
        *,
        margin: float = 0.0,
        max_pause: float = 900.0,
        heartbeat_ttl: float = 10.0,
        timeout: float = 5.0,
        namespace: str = "bulkops:budget",
        rng: random.Random | None = None,
        recent: Iterable[float] = (),
    ) -> None:
        keys = BudgetKeys.for_project(namespace, project_id)  # ConfigError for an API key
        self._recent = tuple(recent)
        self.seeded = 0
        self.project_id = project_id
        self._limits = normalize_limits(limits)
        self._max_pause = max_pause
        self._owner = secrets.token_hex(8)
        caps = tuple(cap_with_margin(count, margin) for count, _ in self._limits)
        self._link = RedisLink(
            url,
            keys,
            self._owner,
            self._limits,
            caps,
            listener=self,
            ttl=heartbeat_ttl,
            timeout=timeout,
            max_pause=max_pause,
        )
        self.url = self._link.url
        """The Redis URL, password hidden."""
        self._rng = rng or random.Random()
        self._clock = MonotonicClock()
        self._view = SharedView(self._limits, margin)  # for eta() and statistics()
        self._state = "new"
        self._waiters: deque[_Waiter] = deque()
        self._next_entry = 1
        self._blocked = False
        self._releases_seen = 0  # releases announced so far (ours and other processes')
        self._pause_landed: anyio.Event | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @classmethod
    @asynccontextmanager
    async def connect(
        cls,
        url: str,
        project_id: str,
        limits: Iterable[MutationLimit] | str = DEFAULT_MUTATION_LIMITS,
        **options: Any,
    ) -> AsyncIterator[SharedBudget]:
        """Open a shared budget for the block (`BudgetUnavailableError` if Redis is not
        there); on exit this process's entries in flight end and its heartbeat goes."""
        budget = cls(url, project_id, limits, **options)
        await budget.open()
        try:
            yield budget
        finally:
            await budget.aclose()

    async def open(self) -> None:
        """Connect, load the script, register this process; starts the background tasks."""
        if self._state != "new":
            raise RuntimeError("a SharedBudget opens once: create a new one")
        self._state = "opening"
        try:
            snapshot, self.seeded = await self._link.open(self._recent)
        except BaseException:
            self._state = "closed"
            raise
        self._on_snapshot(snapshot)
        await self._link.start()
        self._state = "open"

    async def aclose(self) -> None:
        """Retire this process from the project's budget and disconnect (idempotent)."""
        if self._state != "open":
            return
        self._state = "closed"
        self._wake_all()
        await self._link.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def limits(self) -> tuple[MutationLimit, ...]:
        """The windows, as `(count, span_seconds)` pairs."""
        return self._limits

    @property
    def clock(self) -> MonotonicClock:
        """The local clock (waits follow Redis time, so it is always the real one)."""
        return self._clock

    @property
    def owner(self) -> str:
        """This process's id in Redis (entries are `OWNER/N`; Redis clients `bulkops-OWNER`)."""
        return self._owner

    # -- the budget -----------------------------------------------------------------------

    async def acquire(self) -> SharedPermit:
        """Wait until not paused and every window has room across all processes, then record
        the send in all of them. Raises `BudgetLostError` once Redis is lost."""
        await anyio.lowlevel.checkpoint_if_cancelled()
        waiter = _Waiter()
        self._waiters.append(waiter)
        try:
            while waiter.permit is None:
                self._check_usable()
                if self._waiters[0] is waiter:
                    await self._take_turn(waiter)
                else:
                    await waiter.event.wait()
                    waiter.event = anyio.Event()
            await anyio.lowlevel.checkpoint_if_cancelled()
            return waiter.permit
        except BaseException:
            self._withdraw(waiter)
            raise

    def release(self, permit: SharedPermit) -> None:
        """The permit's response (or error) came back: its entry counts one span more."""
        if permit._budget is not self:
            raise ValueError(f"{permit!r} belongs to another budget")
        if permit.released_at is not None:
            return
        permit.released_at = now = self._clock.now()
        self._view.release(now)
        self._link.release(permit.entry)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[SharedPermit]:
        """`acquire()` on entry, `release()` on exit (also when the body raises)."""
        permit = await self.acquire()
        try:
            yield permit
        finally:
            self.release(permit)

    def pause(self, retry_after: float | None) -> None:
        """A 429 came back: pause every process of this project and back off the fullest
        window (shared); with `retry_after`, nobody sends before then (capped at max_pause)."""
        now = self._clock.now()
        hint = retry_after if retry_after is not None and retry_after > 0 else None
        if hint is not None:
            self._view.pause_until(now + min(hint, self._max_pause))
        self._view.back_off(now)
        if self._pause_landed is None or self._pause_landed.is_set():
            self._pause_landed = anyio.Event()
        self._link.pause(hint)

    def eta(self, n: int) -> float:
        """Seconds from now until `n` more mutations can have been sent by this process, from
        the shared log as of the last beat (other processes' future sends not counted)."""
        if n <= 0:
            return 0.0
        return self._view.eta(n, self._clock.now())

    def statistics(self) -> SharedBudgetStatistics:
        """A snapshot: shared window use, this process's in flight/waiting/429s, round trips."""
        return self._view.statistics(
            self._clock.now(),
            waiting=len(self._waiters),
            round_trips=self._link.round_trips,
            project_id=self.project_id,
        )

    async def flush(self) -> None:
        """Return once every release, 429 and cancelled permit reported so far is in Redis."""
        self._check_usable()
        await self._link.flush()

    def __repr__(self) -> str:
        limits = ", ".join(format_mutation_limit(limit) for limit in self._limits)
        return (
            f"<SharedBudget {self.url} project={self.project_id!r} {limits} "
            f"state={self._state} in_flight={self._view.in_flight} waiting={len(self._waiters)}>"
        )

    # -- the head of the queue ------------------------------------------------------------

    async def _take_turn(self, head: _Waiter) -> None:
        """One round trip for every waiter queued now; grant what fits, or sleep."""
        landed = self._pause_landed
        if landed is not None and not landed.is_set():
            await landed.wait()  # our own 429 reaches Redis before our next admission
            return
        now = self._clock.now()
        if self._view.paused_until > now:
            await self._nap(head, self._view.paused_until - now, blocked=False)
            return
        want = len(self._waiters)
        first = self._next_entry
        self._next_entry += want
        seen = self._releases_seen
        with anyio.CancelScope(shield=True):  # never leave an admission we did not read
            reply = await self._link.call(self._link.log.acquire(first, want))
        now = self._clock.now()
        self._view.offset = reply.server_now - now
        if reply.admitted:
            self._grant(first, reply.admitted, now)
            return
        if reply.paused and reply.wait is not None:
            self._view.pause_until(now + reply.wait)
        if reply.blocked and self._releases_seen != seen:
            return  # a release was announced meanwhile: it may have made room, ask again
        await self._nap(head, reply.wait, blocked=reply.blocked)

    def _grant(self, first: int, admitted: int, now: float) -> None:
        for number in range(first, first + admitted):
            entry = f"{self._owner}/{number}"
            if not self._waiters:  # its waiter was cancelled during the round trip
                self._link.forget(entry)
                continue
            waiter = self._waiters.popleft()
            self._view.record(now)
            waiter.permit = SharedPermit(self, entry, number, now)
            waiter.event.set()
        self._wake_head()

    async def _nap(self, head: _Waiter, wait: float | None, *, blocked: bool) -> None:
        delay = MAX_NAP if wait is None else min(wait, MAX_NAP)
        self._blocked = blocked
        try:
            with anyio.move_on_after(delay + self._rng.uniform(0.0, _JITTER)):
                await head.event.wait()
        finally:
            self._blocked = False
        if head.event.is_set():
            head.event = anyio.Event()

    def _withdraw(self, waiter: _Waiter) -> None:
        """A waiter was cancelled (or failed): leave no entry, and pass its turn on."""
        permit = waiter.permit
        if permit is not None and permit.released_at is None:
            permit.released_at = self._clock.now()
            self._view.unrecord(permit.sent_at)
            self._link.forget(permit.entry)
        elif waiter in self._waiters:
            self._waiters.remove(waiter)
        self._wake_head()

    def _wake_head(self) -> None:
        if self._waiters:
            self._waiters[0].event.set()

    def _wake_all(self) -> None:
        for waiter in self._waiters:
            waiter.event.set()
        if self._pause_landed is not None:
            self._pause_landed.set()

    def _check_usable(self) -> None:
        if self._link.lost is not None:
            raise self._link.lost
        if self._state != "open":
            raise RuntimeError(f"the shared budget is {self._state}: use it in `async with`")

    # -- what the link reports (see bulkops.api.shared_link.BudgetListener) ---------------

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        self._view.apply(snapshot, self._clock.now())

    def _on_released(self) -> None:
        # Only a head blocked by sends in flight can go earlier after a release.
        self._releases_seen += 1
        if self._blocked:
            self._wake_head()

    def _on_paused(self, outcome: PauseOutcome) -> None:
        if outcome.paused_until is not None:
            self._view.pause_until(self._view.local(outcome.paused_until))
        if self._pause_landed is not None:
            self._pause_landed.set()
        self._wake_head()

    def _on_lost(self) -> None:
        self._wake_all()
