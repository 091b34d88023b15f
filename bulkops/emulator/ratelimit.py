"""Per-project mutation limits: sliding windows counted when a request arrives.

A window log (the arrival times of the last N admitted mutations) rather than a token bucket:
it is what "100 per 10 s" means to a client counting its own sends, so a client whose own
window log says "room" is never refused, and one that bursts past it always is.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SlidingWindows", "WindowStatistics", "retry_after_header"]


@dataclass(frozen=True)
class WindowStatistics:
    """One window: its limit, its (scaled) length and the mutations it currently holds."""

    limit: int
    seconds: float
    used: int


class SlidingWindows:
    """Admit a mutation only if every window has room; record it in all of them at once."""

    def __init__(
        self,
        limits: tuple[tuple[int, float], ...],
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._windows = [(count, seconds * time_scale, deque[float]()) for count, seconds in limits]
        self._clock = clock
        self.refused = 0

    def try_admit(self) -> float | None:
        """``None`` if admitted (and recorded), else seconds until the fullest window has room."""
        now = self._clock()
        wait = 0.0
        for count, seconds, log in self._windows:
            while log and log[0] <= now - seconds:
                log.popleft()
            if len(log) >= count:
                wait = max(wait, log[len(log) - count] + seconds - now)
        if wait > 0:
            self.refused += 1
            return wait
        for _, _, log in self._windows:
            log.append(now)
        return None

    def statistics(self) -> list[WindowStatistics]:
        now = self._clock()
        return [
            WindowStatistics(count, seconds, sum(1 for t in log if t > now - seconds))
            for count, seconds, log in self._windows
        ]


def retry_after_header(wait: float, time_scale: float = 1.0) -> str:
    """``Retry-After``: whole seconds (at least 1) as HTTP has it; when windows are scaled
    (``time_scale < 1``) a decimal rounded up to the millisecond, so fast tests stay fast."""
    if time_scale >= 1.0:
        return str(max(1, math.ceil(wait)))
    return f"{math.ceil(wait * 1000) / 1000:.3f}"
