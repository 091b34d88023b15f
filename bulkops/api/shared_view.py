"""What one process holds and knows of a shared budget: its permits, and the shared log.

`SharedPermit` is a send this process was granted (its entry `OWNER/N` in Redis).

`statistics()` and `eta()` are synchronous (a progress bar calls them), so they cannot ask
Redis. Each heartbeat reads the shared log (`Snapshot`: release times, sends in flight,
back-off, pause); `SharedView` turns it into a local `WindowLog` on this process's monotonic
clock, and keeps it current with this process's own sends and releases until the next beat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bulkops.api.budget import BudgetStatistics, window_statistics
from bulkops.api.limits import MutationLimit
from bulkops.api.shared_log import Snapshot
from bulkops.api.windows import WindowLog

__all__ = ["SharedBudgetStatistics", "SharedPermit", "SharedView"]


class SharedPermit:
    """One mutation's claim on the shared budget, from `acquire()` until `release()`."""

    __slots__ = ("_budget", "entry", "number", "released_at", "sent_at")

    def __init__(self, budget: Any, entry: str, number: int, sent_at: float) -> None:
        self._budget = budget
        self.entry = entry
        self.number = number
        self.sent_at = sent_at
        self.released_at: float | None = None

    def __repr__(self) -> str:
        state = "in flight" if self.released_at is None else f"released at {self.released_at:g}"
        return f"<SharedPermit {self.entry} sent at {self.sent_at:g}, {state}>"


@dataclass(frozen=True)
class SharedBudgetStatistics(BudgetStatistics):
    """`BudgetStatistics` of a shared budget, plus what Redis cost and who shares it.

    `windows` count every process's entries (as of the last beat, plus this process's own
    sends since); `sent` per window and `in_flight`, `waiting`, `rate_limited`, `total_sent`
    are this process's.
    """

    round_trips: int
    """Redis calls made by this process so far (admissions, release batches, beats, ...)."""
    processes: int
    """Processes with a live heartbeat on this project at the last beat (this one included)."""
    project_id: str


class SharedView:
    """The shared log as of the last beat, on the local clock, plus our own changes since."""

    def __init__(self, limits: tuple[MutationLimit, ...], margin: float) -> None:
        self._limits = limits
        self._margin = margin
        self.log = WindowLog(limits, margin)
        self.offset = 0.0
        """Server time minus local monotonic time, from the last reply."""
        self.processes = 1
        self.paused_until = -math.inf
        """Local clock time until which the project is paused (as far as we know)."""
        self.in_flight = self.total_sent = self.rate_limited = 0
        """This process's own counters."""

    def local(self, server_time: float) -> float:
        """A Redis server time on the local monotonic clock."""
        return server_time - self.offset

    def pause_until(self, local_time: float) -> None:
        """The project is paused until at least `local_time`."""
        self.paused_until = max(self.paused_until, local_time)

    def apply(self, snapshot: Snapshot, now: float) -> None:
        """A beat read the shared log at local time `now`: start over from it."""
        self.offset = offset = snapshot.server_now - now
        log = WindowLog(self._limits, self._margin)
        log.releases = sorted(r - offset for r in snapshot.releases)
        log.in_flight = snapshot.in_flight
        log.sends = self.log.sends  # our own sends (for `sent`), not in the snapshot
        log.backoff = [None if b is None else (b[0], b[1] - offset) for b in snapshot.backoff]
        self.log = log
        self.processes = snapshot.processes
        if snapshot.paused_until is not None:
            self.pause_until(self.local(snapshot.paused_until))

    def record(self, now: float) -> None:
        """We were granted a send."""
        self.log.record(now)
        self.total_sent += 1
        self.in_flight += 1

    def release(self, now: float) -> None:
        """One of ours was answered."""
        self.in_flight -= 1
        if self.log.in_flight > 0:
            self.log.release(now)

    def unrecord(self, sent_at: float) -> None:
        """One of ours was cancelled before it left."""
        self.in_flight -= 1
        self.total_sent -= 1
        if self.log.in_flight > 0:
            self.log.unrecord(sent_at)

    def back_off(self, now: float) -> None:
        """We saw a 429."""
        self.rate_limited += 1
        self.log.back_off(now)

    def eta(self, n: int, now: float) -> float:
        """Seconds until `n` more sends can have left (others' future sends not counted)."""
        return self.log.earliest(n, now, self.paused_until) - now

    def statistics(
        self,
        now: float,
        *,
        waiting: int,
        round_trips: int,
        project_id: str,
    ) -> SharedBudgetStatistics:
        """The snapshot `statistics()` returns, with this process's own counters."""
        windows = window_statistics(self.log, now)
        return SharedBudgetStatistics(
            limits=self._limits,
            sent=tuple(w.occupied for w in windows),
            windows=windows,
            in_flight=self.in_flight,
            waiting=waiting,
            paused_until=self.paused_until if self.paused_until > now else None,
            rate_limited=self.rate_limited,
            total_sent=self.total_sent,
            round_trips=round_trips,
            processes=self.processes,
            project_id=project_id,
        )
