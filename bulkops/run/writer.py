"""Async access to a ``Journal`` without blocking the event loop.

Every SQLite call runs in a worker thread, one at a time. Operation updates are group-committed:
while one batch is being written, new updates queue up and go out together in the next
transaction, so a thousand concurrent operations cost a few commits, not a thousand.

``update`` returns only once its transaction is committed: the runner awaits the IN_FLIGHT row
before it sends the request. ``record`` queues an outcome (DONE, FAILED_…) without waiting for
it: losing one to a crash is safe, because the operation is then still IN_FLIGHT in the journal
and is reconciled on resume. Not waiting halves the commits an operation waits for and lets
outcomes ride in the same transactions as the next IN_FLIGHT rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from bulkops.run.journal import Journal, JournalError

__all__ = ["JournalWriter", "WriterStatistics"]

T = TypeVar("T")


@dataclass(frozen=True)
class WriterStatistics:
    """A snapshot: updates written, transactions committed, updates waiting."""

    updates: int
    commits: int
    pending: int


class _Pending:
    __slots__ = ("done", "error", "fields", "key")

    def __init__(self, key: str, fields: Mapping[str, Any], *, wait: bool) -> None:
        self.key = key
        self.fields = fields
        self.done = anyio.Event() if wait else None
        self.error: BaseException | None = None


class JournalWriter:
    """Serialises a ``Journal``'s calls onto one worker thread; group-commits updates.

    Run ``serve()`` in a task group for as long as updates are written, then ``close()``.
    """

    def __init__(self, journal: Journal, *, max_batch: int = 2000) -> None:
        self.journal = journal
        self._limiter = anyio.CapacityLimiter(1)
        self._queue: list[_Pending] = []
        self._wakeup = anyio.Event()
        self._closed = False
        self._broken: BaseException | None = None
        self._max_batch = max_batch
        self._updates = 0
        self._commits = 0

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` (a Journal method) on the journal's thread."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._limiter)

    async def update(self, key: str, **fields: Any) -> None:
        """Record an operation's new state; returns once it is committed."""
        pending = self._enqueue(key, fields, wait=True)
        assert pending.done is not None
        await pending.done.wait()
        if pending.error is not None:
            raise JournalError(f"the journal is broken: {pending.error}")

    def record(self, key: str, **fields: Any) -> None:
        """Queue an operation's outcome; it is committed with the next batch (see above)."""
        self._enqueue(key, fields, wait=False)

    def _enqueue(self, key: str, fields: Mapping[str, Any], *, wait: bool) -> _Pending:
        if self._broken is not None:
            raise JournalError(f"the journal is broken: {self._broken}")
        pending = _Pending(key, fields, wait=wait)
        self._queue.append(pending)
        self._wakeup.set()
        return pending

    async def serve(self) -> None:
        """Write queued updates until ``close()`` is called and the queue is empty."""
        while True:
            await self._wakeup.wait()
            self._wakeup = anyio.Event()
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._write(batch)
            if self._closed:
                return

    async def _write(self, batch: list[_Pending]) -> None:
        error: BaseException | None = self._broken
        if error is None:
            try:
                await self.call(self.journal.apply, [(p.key, p.fields) for p in batch])
                self._commits += 1
                self._updates += len(batch)
            except (JournalError, sqlite3.Error, OSError) as exc:  # fatal for the run
                error = self._broken = exc
        for pending in batch:
            if pending.done is not None:
                pending.error = error
                pending.done.set()

    def close(self) -> None:
        """Let ``serve()`` return once everything queued is written."""
        self._closed = True
        self._wakeup.set()

    @property
    def broken(self) -> BaseException | None:
        """The error that broke the journal, if one did (every later write fails)."""
        return self._broken

    def statistics(self) -> WriterStatistics:
        """A snapshot: updates written, commits, updates waiting."""
        return WriterStatistics(self._updates, self._commits, len(self._queue))
