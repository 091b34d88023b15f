"""The window log behind `MutationBudget`: who counts against which window, and until when.

Every window `(limit, span)` of a project's policy is checked against one log of our sends.
An entry occupies every window from the moment it is recorded (just before the request is
sent) until its response came back plus the window's span; while it is in flight it occupies
them indefinitely. The server counts a mutation at a moment between our send and its response
that we never see, so this is exact on the safe side for any latency.

Why a log of our own and not aiolimiter: aiolimiter is a leaky bucket whose burst equals its
rate, so `AsyncLimiter(900, 900)` admits a full bucket at once and then refills continuously,
~1,720 requests in one 15-minute interval; stacking `AsyncLimiter(100, 10)` on top of it records
a send in the outer limiter while the inner one may still make it wait, so the two never agree
on when a send happened (aiolimiter issues #298 and #240). A log of response times is exact,
small (one float per answered mutation of the longest window) and lets us model latency.

This module holds the arithmetic only (no waiting, no tasks); `bulkops.api.budget` queues the
senders on top of it.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Sequence

from bulkops.api.limits import MutationLimit, MutationLimitError

__all__ = ["BACKOFF_FACTOR", "RECOVERY_STEP", "WindowLog", "cap_with_margin"]

_INF = math.inf
# After a 429, the window we suspect is lowered to this share of what the server accepted from
# us, and recovers by RECOVERY_STEP of its limit per span without another 429.
BACKOFF_FACTOR = 0.9
RECOVERY_STEP = 0.1
# eta() drops simulated entries older than the longest span once this many accumulated.
_TRIM_AT = 4096


def cap_with_margin(count: int, margin: float) -> int:
    """What we allow ourselves of `count`: a fraction below 1 or a whole count held back."""
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


class WindowLog:
    """Sends and responses of one project, checked against all of its windows at once.

    Times are clock readings (seconds). `record(now)` and `release(now)` keep the log;
    `ready_at(now)` answers when one more send fits, `earliest(n, now)` when `n` more can have
    been sent. After a 429, `back_off(now)` lowers the fullest window's cap, which then
    recovers step by step.
    """

    def __init__(self, limits: Sequence[MutationLimit], margin: float = 0.0) -> None:
        self.limits = tuple(limits)
        self.base_caps = tuple(cap_with_margin(count, margin) for count, _ in self.limits)
        self.max_span = max(span for _, span in self.limits)
        self.min_span = min(span for _, span in self.limits)
        self.releases: list[float] = []  # response times, ascending; one per answered send
        self.sends: deque[float] = deque()  # send times, ascending, for statistics
        self.in_flight = 0
        # Back-off after a 429: per window, the lowered cap and when it was set.
        self.backoff: list[tuple[int, float] | None] = [None] * len(self.limits)

    # -- keeping the log ------------------------------------------------------------------

    def record(self, now: float) -> None:
        """A send leaves now: it occupies every window until released plus the span."""
        self.in_flight += 1
        self.sends.append(now)

    def preload(self, answered: Sequence[float]) -> None:
        """Count sends answered at these (past) times, as if this log had recorded them."""
        self.releases = sorted([*self.releases, *answered])

    def unrecord(self, sent_at: float) -> None:
        """Forget a send that was recorded but never left (its sender was cancelled)."""
        self.in_flight -= 1
        index = bisect.bisect_left(self.sends, sent_at)
        if index < len(self.sends) and self.sends[index] == sent_at:
            del self.sends[index]

    def release(self, now: float) -> float:
        """A response came back now; returns the time logged (never before an earlier one)."""
        if self.releases and now < self.releases[-1]:
            now = self.releases[-1]
        self.in_flight -= 1
        self.releases.append(now)
        return now

    def prune(self, now: float) -> None:
        """Drop what no window counts any more, and back-offs that have fully recovered."""
        expired = _expired(self.releases, now, self.max_span)
        if expired:
            del self.releases[:expired]
        horizon = now - self.max_span
        while self.sends and self.sends[0] <= horizon:
            self.sends.popleft()
        for window, backoff in enumerate(self.backoff):
            if backoff is not None and self.cap_segment(window, now)[1] == _INF:
                self.backoff[window] = None

    # -- questions ------------------------------------------------------------------------

    def occupied(self, window: int, now: float) -> int:
        """Our mutations that count against `window` at `now` (in flight or answered lately)."""
        return self.in_flight + _answered_within(self.releases, now, self.limits[window][1])

    def sent(self, window: int, now: float) -> int:
        """Mutations sent within the last span of `window`."""
        return len(self.sends) - bisect.bisect_right(self.sends, now - self.limits[window][1])

    def cap(self, window: int, t: float) -> int:
        """What we allow ourselves in `window` at time `t` (margin and back-off applied)."""
        return self.cap_segment(window, t)[0]

    def cap_segment(self, window: int, t: float) -> tuple[int, float]:
        """The cap at time t, and until when it stays so."""
        base = self.base_caps[window]
        backoff = self.backoff[window]
        if backoff is None:
            return base, _INF
        lowered, since = backoff
        count, span = self.limits[window]
        step = max(1, math.ceil(count * RECOVERY_STEP))
        turns = math.floor((t - since) / span) if t > since else 0
        if since + (turns + 1) * span <= t:  # the division rounded down across a boundary
            turns += 1
        cap = lowered + step * turns
        if cap >= base:
            return base, _INF
        return cap, since + (turns + 1) * span

    def room(self, now: float) -> int:
        """How many more sends fit into every window at `now` (0 if any window is full)."""
        self.prune(now)
        return max(0, _room(self, now, self.releases, self.in_flight))

    def ready_at(self, now: float, not_before: float = -_INF) -> float:
        """The earliest time >= now (and >= `not_before`) at which one more send fits."""
        self.prune(now)
        t = max(now, not_before)
        for window in range(len(self.limits)):
            t = max(t, self.window_ready(window, t, self.releases, self.in_flight))
        return t

    def earliest(self, n: int, now: float, not_before: float = -_INF) -> float:
        """The time at which `n` more sends can have left, all answered at once (no latency).

        Entries in flight are taken as answered now. Steps one window turn at a time (every
        send that fits at a moment is taken at once), so it costs O(n / limit) turns.
        """
        self.prune(now)
        releases = list(self.releases)
        releases.extend([now] * self.in_flight)
        t, left = max(now, not_before), n
        while True:
            for window in range(len(self.limits)):
                t = max(t, self.window_ready(window, t, releases, 0))
            take = min(left, max(1, _room(self, t, releases, 0)))
            releases.extend([t] * take)
            left -= take
            if left <= 0 or not math.isfinite(t):
                return t
            if len(releases) > _TRIM_AT:
                del releases[: _expired(releases, t, self.max_span)]

    def window_ready(
        self, window: int, start: float, releases: list[float], in_flight: int
    ) -> float:
        """Earliest time >= start at which one more send fits into `window`.

        At time t the window holds `in_flight` + #{r in releases: r > t - span} entries
        (`releases` ascending), so index arithmetic answers "when".
        """
        span = self.limits[window][1]
        t = start
        while True:
            cap, cap_until = self.cap_segment(window, t)
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

    def suspect_window(self, now: float) -> int:
        """The window that looks fullest by our log (ties: the shortest span)."""

        def fullness(window: int) -> tuple[float, float]:
            return (self.occupied(window, now) / self.cap(window, now), -self.limits[window][1])

        return max(range(len(self.limits)), key=fullness)

    def back_off(self, now: float) -> tuple[int, int]:
        """A 429 came back: lower the fullest window's cap below what the server accepted.

        Returns `(window, occupied)`: the suspect window and our entries in it at `now`.
        """
        window = self.suspect_window(now)
        occupied = self.occupied(window, now)
        lowered = max(1, min(self.cap(window, now) - 1, int((occupied - 1) * BACKOFF_FACTOR)))
        self.backoff[window] = (lowered, now)
        return window, occupied


# An answered entry r counts against a window of `span` at t while r + span > t. The sums are
# compared as such (not r > t - span): in floating point the two can disagree by one ulp, and
# `window_ready` (which adds) and the room count (which bisects) must never disagree.


def _expired(releases: list[float], t: float, span: float) -> int:
    return bisect.bisect_right(releases, t, key=lambda r: r + span)


def _answered_within(releases: list[float], t: float, span: float) -> int:
    return len(releases) - _expired(releases, t, span)


def _room(log: WindowLog, t: float, releases: list[float], in_flight: int) -> int:
    return min(
        log.cap(window, t) - in_flight - _answered_within(releases, t, span)
        for window, (_, span) in enumerate(log.limits)
    )
