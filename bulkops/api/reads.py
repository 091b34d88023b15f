"""``ReadPacer``: how one client's reads (GET) share the connection and back off together.

Reads are not metered by the Console API; latency is their whole cost, so many run at once.
Three rules keep that polite:

- at most ``concurrency`` reads in flight (an anyio ``CapacityLimiter``; default 16, see
  :func:`bulkops.api.config.resolve_read_concurrency`);
- when a read is answered 429 or 5xx, every read of the client pauses (``pause(seconds)``:
  the server's ``Retry-After`` when it gave one, else full-jitter backoff) and then they all go
  on; reads already on the wire finish, nothing new is sent before the pause ends;
- optionally at most ``per_second`` reads started per second (an ``aiolimiter`` rate).

Reads never touch the project's ``MutationBudget``. Nothing else serializes them: the client's
connection pool holds at least ``concurrency`` connections for reads on top of the mutations
the budget can have in flight (see ``ConsoleClient``).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
from aiolimiter import AsyncLimiter

from bulkops.api.clock import Clock

__all__ = ["ReadPacer", "ReadStatistics"]


@dataclass(frozen=True)
class ReadStatistics:
    """A snapshot of a client's reads."""

    concurrency: int
    """Reads allowed in flight at once."""
    in_flight: int
    """Reads on the wire now."""
    waiting: int
    """Reads waiting for a free slot."""
    pauses: int
    """Times a 429 or 5xx answer to a read paused every read."""
    paused_until: float | None
    """Clock time until which no read is sent, or None."""


class ReadPacer:
    """At most ``concurrency`` reads in flight, a shared pause, an optional rate per second."""

    def __init__(self, concurrency: int, *, clock: Clock, per_second: float | None = None) -> None:
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._clock = clock
        self._rate = AsyncLimiter(per_second, 1.0) if per_second else None
        self._paused_until = -math.inf
        self._pauses = 0
        self._in_flight = 0

    @property
    def concurrency(self) -> int:
        """Reads allowed in flight at once."""
        return int(self._limiter.total_tokens)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one read slot while the request is on the wire (after any pause ended)."""
        async with self._limiter:
            await self._wait_out_pause()
            if self._rate is not None:
                await self._rate.acquire()
                await self._wait_out_pause()
            self._in_flight += 1
            try:
                yield
            finally:
                self._in_flight -= 1

    def pause(self, seconds: float) -> None:
        """A read was answered 429 or 5xx: send no read for ``seconds`` from now."""
        self._pauses += 1
        self._paused_until = max(self._paused_until, self._clock.now() + max(0.0, seconds))

    def statistics(self) -> ReadStatistics:
        """A snapshot: limit, in flight, waiting, pauses so far, the running pause."""
        now = self._clock.now()
        return ReadStatistics(
            concurrency=self.concurrency,
            in_flight=self._in_flight,
            waiting=self._limiter.statistics().tasks_waiting,
            pauses=self._pauses,
            paused_until=self._paused_until if self._paused_until > now else None,
        )

    async def _wait_out_pause(self) -> None:
        # A pause may be extended while we sleep (another read drew a 429): look again.
        while (left := self._paused_until - self._clock.now()) > 0:
            await self._clock.sleep(left)
