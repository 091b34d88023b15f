"""Stopping a run without sending anything new: a mutation budget that can be closed.

Every mutation a ``ConsoleClient`` sends first takes a permit of its project's budget; that wait
(for a window to turn, or a 429 pause to end) is the last moment a request can still be held
back. ``StoppableBudget`` wraps any budget (the in-process ``MutationBudget``, or one shared
between processes); its ``stop_sending()`` refuses every permit from then on and wakes every
sender still waiting with ``SendStopped``, so after a Ctrl-C only the requests already on the
wire are awaited. ``track_sends()`` counts, per task, the permits granted, so the executor can
tell "never sent" (back to PLANNED) from "may have left" (IN_FLIGHT).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

import anyio

from bulkops.api.budget import Budget, BudgetStatistics
from bulkops.api.limits import MutationLimit
from bulkops.errors import SendStopped

__all__ = ["SendStopped", "SendTally", "StoppableBudget", "stop_sending", "track_sends"]


class SendTally:
    """How many permits were granted to the requests of one operation."""

    __slots__ = ("granted",)

    def __init__(self) -> None:
        self.granted = 0


_TALLY: contextvars.ContextVar[SendTally | None] = contextvars.ContextVar(
    "bulkops_send_tally", default=None
)


@contextlib.contextmanager
def track_sends() -> Iterator[SendTally]:
    """Count the permits granted inside the block (in this task) by a ``StoppableBudget``."""
    tally = SendTally()
    token = _TALLY.set(tally)
    try:
        yield tally
    finally:
        _TALLY.reset(token)


class StoppableBudget:
    """A budget that refuses new permits once ``stop_sending()`` was called.

    Everything else is the wrapped budget's (``inner``): its windows, pause, ETA, statistics.
    """

    def __init__(self, inner: Budget) -> None:
        self.inner = inner
        self._stopped = False
        self._waiting: set[anyio.CancelScope] = set()

    @property
    def limits(self) -> tuple[MutationLimit, ...]:
        """The wrapped budget's windows."""
        return self.inner.limits

    @property
    def stopped(self) -> bool:
        """True once ``stop_sending()`` was called."""
        return self._stopped

    def stop_sending(self) -> None:
        """Refuse every permit from now on; senders still waiting get ``SendStopped``."""
        self._stopped = True
        for scope in list(self._waiting):
            scope.cancel()

    async def acquire(self) -> Any:
        """The wrapped budget's ``acquire()``, but ``SendStopped`` once stopped."""
        if self._stopped:
            raise SendStopped("the run is stopping: not sent")
        permit: Any = None
        with anyio.CancelScope() as scope:
            self._waiting.add(scope)
            try:
                permit = await self.inner.acquire()
            finally:
                self._waiting.discard(scope)
        if permit is None or self._stopped:
            if permit is not None:
                self.inner.release(permit)
            raise SendStopped("the run is stopping: not sent")
        tally = _TALLY.get()
        if tally is not None:
            tally.granted += 1
        return permit

    def release(self, permit: Any) -> None:
        """Give ``permit`` back to the wrapped budget."""
        self.inner.release(permit)

    def pause(self, retry_after: float | None) -> None:
        """A 429 was seen: pause the wrapped budget."""
        self.inner.pause(retry_after)

    def eta(self, n: int) -> float:
        """The wrapped budget's ETA for ``n`` more mutations."""
        return self.inner.eta(n)

    def statistics(self) -> BudgetStatistics:
        """The wrapped budget's snapshot."""
        return self.inner.statistics()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "open"
        return f"<StoppableBudget {state} of {self.inner!r}>"


def stop_sending(budget: Budget) -> None:
    """``stop_sending()`` on ``budget`` when it can be stopped (a ``StoppableBudget``)."""
    if isinstance(budget, StoppableBudget):
        budget.stop_sending()
