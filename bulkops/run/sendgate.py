"""Stopping a run without sending anything new: a mutation budget that can be closed.

Every mutation a ``ConsoleClient`` sends first takes a permit of its project's budget; that wait
(for a window to turn, or a 429 pause to end) is the last moment a request can still be held
back. ``StoppableBudget`` is a ``MutationBudget`` whose ``stop_sending()`` refuses every permit
from then on and wakes every sender still waiting with ``SendStopped``, so after a Ctrl-C only
the requests already on the wire are awaited. ``track_sends()`` counts, per task, the permits
granted, so the executor can tell "never sent" (back to PLANNED) from "may have left"
(IN_FLIGHT).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator

import anyio

from bulkops.api.budget import MutationBudget, Permit
from bulkops.api.clock import Clock
from bulkops.api.limits import DEFAULT_MUTATION_LIMITS, MutationLimit
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
    """Count the permits granted inside the block (in this task) to a ``StoppableBudget``."""
    tally = SendTally()
    token = _TALLY.set(tally)
    try:
        yield tally
    finally:
        _TALLY.reset(token)


class StoppableBudget(MutationBudget):
    """A ``MutationBudget`` that refuses new permits once ``stop_sending()`` was called."""

    def __init__(
        self,
        limits: Iterable[MutationLimit] | str = DEFAULT_MUTATION_LIMITS,
        *,
        margin: float = 0.0,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(limits, margin=margin, clock=clock)
        self._stopped = False
        self._waiting: set[anyio.CancelScope] = set()

    @property
    def stopped(self) -> bool:
        """True once ``stop_sending()`` was called."""
        return self._stopped

    def stop_sending(self) -> None:
        """Refuse every permit from now on; senders still waiting get ``SendStopped``."""
        self._stopped = True
        for scope in list(self._waiting):
            scope.cancel()

    async def acquire(self) -> Permit:
        """Like ``MutationBudget.acquire()``, but raises ``SendStopped`` once stopped."""
        if self._stopped:
            raise SendStopped
        permit: Permit | None = None
        with anyio.CancelScope() as scope:
            self._waiting.add(scope)
            try:
                permit = await super().acquire()
            finally:
                self._waiting.discard(scope)
        if permit is None or self._stopped:
            if permit is not None:
                self.release(permit)
            raise SendStopped
        tally = _TALLY.get()
        if tally is not None:
            tally.granted += 1
        return permit


def stop_sending(budget: object) -> None:
    """``stop_sending()`` on ``budget`` when it is a ``StoppableBudget`` (else nothing)."""
    if isinstance(budget, StoppableBudget):
        budget.stop_sending()
