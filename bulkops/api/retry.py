"""When to retry a request, and how long to wait before the next attempt.

- Safe to repeat: GET, and PUT/PATCH/DELETE (same effect when repeated). A POST is not: after
  it was sent, a dead connection or a 5xx yields ``OutcomeUnknownError`` instead of a retry.
- Our own waits are exponential backoff with *full jitter* (uniform in ``[0, base * 2**n]``,
  capped), which spreads retries of many tasks apart.
- A server-given wait (``Retry-After``, seconds or HTTP-date) is a floor: jitter is only ever
  added on top, and it is not capped at our small backoff maximum. ``Retry-After: 0``,
  negative, absent, unparsable, infinite or a date in the past means "no hint".
- But a server may not park us for hours: a wait longer than ``RetryPolicy.max_server_wait``
  (default 900 s, the API's 15-minute window) is not waited for at all. The client raises
  ``ServerWaitTooLongError`` at once, for a 429 and for a 5xx alike, without pausing anything
  (a run stops there, exit 3, to be resumed after that time).
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from dataclasses import dataclass

__all__ = [
    "IDEMPOTENT_METHODS",
    "MUTATING_METHODS",
    "RetryPolicy",
    "format_wait",
    "parse_retry_after",
]

DEFAULT_MAX_SERVER_WAIT = 900.0
"""The longest ``Retry-After`` honoured: the 15-minute window of the API's mutation limits."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or None when it gives no hint.

    Accepts delta-seconds (``"7"``, also ``"1.5"``) or an HTTP-date; ``now`` is the current
    Unix time (for tests). ``0``, negative, past dates and garbage all mean "no hint".
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    seconds: float | None
    try:
        seconds = float(text)
    except ValueError:
        seconds = _seconds_until_http_date(text, time.time() if now is None else now)
    if seconds is None:
        return None
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return seconds


def _seconds_until_http_date(text: str, now: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return when.timestamp() - now


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to retry.

    ``max_retries`` bounds retries after transport errors and 5xx (idempotent requests only);
    ``max_rate_limited`` bounds consecutive 429s before ``RateLimitedError``; backoff grows
    from ``backoff_base`` doubling per attempt up to ``backoff_max``. A server asking to wait
    longer than ``max_server_wait`` seconds (default 900, the API's 15-minute window) is not
    waited for: a 429 or 5xx raises ``ServerWaitTooLongError`` at once (nothing is paused).
    """

    max_retries: int = 4
    max_rate_limited: int = 10
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_server_wait: float = DEFAULT_MAX_SERVER_WAIT

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter wait before retry number ``attempt`` (0-based)."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** min(attempt, 60)))
        return rng.uniform(0.0, ceiling)

    def wait(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """The wait before the next attempt: never shorter than the server's ``retry_after``."""
        ours = self.backoff(attempt, rng)
        if retry_after is None:
            return ours
        return retry_after + min(ours, 0.1 * retry_after)


def format_wait(seconds: float) -> str:
    """``seconds`` for a message: ``"86400 s (24 h)"``, ``"90 s (1.5 min)"``, ``"7 s"``."""
    text = f"{seconds:.0f} s" if 10 <= seconds < 1e9 else f"{seconds:.3g} s"
    if seconds >= 3600:
        return f"{text} ({seconds / 3600:.3g} h)"
    if seconds >= 60:
        return f"{text} ({seconds / 60:.3g} min)"
    return text
