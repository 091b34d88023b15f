"""Concurrent reads with a deterministic result: work runs N at a time, results come in order.

Planning reads cost latency, not budget: a plan over 10,000 gates that reads each one's
overrides one after the other waits 10,000 round trips. ``plan_each`` calls ``Job.plan_item``
for up to ``concurrency`` items at once and hands the results to a sink in item order, so the
plan (and the journal) is the same whatever the latencies. Memory stays bounded: at most
``window`` items are taken and not yet handed on (a slow item holds the window, never memory).
``gather`` is the same for a whole-plan job's reads: a list in input order; ``ordered_map``
hands each result to a callback in input order as it can (an export streams them to disk).

The first error cancels the work in flight and is raised as it is (never as a group); an
exception from a job's own code names the item (``JobCodeError``).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

import anyio
from anyio.abc import TaskGroup

from bulkops.run.job import Item, Job, Operation, ReadContext, Skip, plan_entries
from bulkops.run.jobcode import guard_job_code

__all__ = ["gather", "ordered_map", "plan_each"]

T = TypeVar("T")
R = TypeVar("R")

Sink = Callable[[tuple[Operation | Skip, ...]], Awaitable[None]]


class _Slot:
    """One item's result, filled by a worker, handed on by the consumer in order."""

    __slots__ = ("done", "value")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.value: Any = None


class _FirstError:
    """The first error of the workers; it cancels the rest."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def fail(self, exc: BaseException, tg: TaskGroup) -> None:
        if self.error is None:
            self.error = exc
        tg.cancel_scope.cancel()

    def raise_if_any(self) -> None:
        if self.error is not None:
            raise self.error


async def plan_each(
    job: Job,
    items: AsyncIterable[Item],
    ctx: ReadContext,
    sink: Sink,
    *,
    concurrency: int,
    window: int | None = None,
) -> None:
    """``job.plan_item`` over ``items`` with ``concurrency`` in flight; ``sink`` gets the
    entries of each item in item order, then those of ``job.plan_end``."""
    window = max(window or 4 * concurrency, concurrency, 1)
    limiter = anyio.CapacityLimiter(max(1, concurrency))
    first = _FirstError()
    send, receive = anyio.create_memory_object_stream[_Slot](window)

    async def work(slot: _Slot, item: Item, tg: TaskGroup) -> None:
        try:
            async with limiter:
                with guard_job_code(job, f"planning item {item.key}"):
                    slot.value = plan_entries(await job.plan_item(item, ctx))
        except Exception as exc:  # noqa: BLE001 - the first error is re-raised as it is
            first.fail(exc, tg)
        finally:
            slot.done.set()

    async def take(tg: TaskGroup) -> None:
        async with send:
            async for item in items:
                slot = _Slot()
                await send.send(slot)  # waits while `window` results are not handed on yet
                tg.start_soon(work, slot, item, tg)

    async def feed(tg: TaskGroup) -> None:
        try:
            await take(tg)
        except Exception as exc:  # noqa: BLE001 - re-raised as it is
            first.fail(exc, tg)

    async with anyio.create_task_group() as tg:
        tg.start_soon(feed, tg)
        async with receive:
            async for slot in receive:
                await slot.done.wait()
                if first.error is not None:
                    break
                try:
                    await sink(slot.value)
                except Exception as exc:  # noqa: BLE001 - re-raised as it is, not as a group
                    first.fail(exc, tg)
                    break
    first.raise_if_any()
    with guard_job_code(job, "finishing its plan"):
        await sink(tuple(await job.plan_end(ctx)))


async def gather(
    fn: Callable[[T], Awaitable[R]], values: Iterable[T], *, concurrency: int
) -> list[R]:
    """``[await fn(v) for v in values]`` with ``concurrency`` calls in flight, in order."""
    pending = list(enumerate(values))
    results: list[Any] = [None] * len(pending)
    queue = iter(pending)
    first = _FirstError()

    async def worker(tg: TaskGroup) -> None:
        for index, value in queue:  # the workers share one iterator: each value is taken once
            try:
                results[index] = await fn(value)
            except Exception as exc:  # noqa: BLE001 - re-raised as it is
                first.fail(exc, tg)
                return

    async with anyio.create_task_group() as tg:
        for _ in range(min(max(1, concurrency), len(pending))):
            tg.start_soon(worker, tg)
    first.raise_if_any()
    return results


class _Pending(Generic[T]):
    """One item's call: done once ``fn`` returned."""

    __slots__ = ("done", "item", "value")

    def __init__(self, item: T) -> None:
        self.item = item
        self.value: Any = None
        self.done = anyio.Event()


async def ordered_map(
    fn: Callable[[T], Awaitable[R]],
    items: Iterable[T],
    on_result: Callable[[T, R], Any],
    *,
    limit: int = 16,
) -> None:
    """``on_result(item, await fn(item))`` for every item, in input order, ``limit`` at a time.

    ``on_result`` may be a plain function or return an awaitable (awaited before the next
    result). The first error of ``fn`` or ``on_result`` cancels the rest and is raised as is
    (not wrapped in an exception group).
    """
    window = anyio.Semaphore(max(1, limit))
    send, receive = anyio.create_memory_object_stream[_Pending[T]](math.inf)

    async def call(slot: _Pending[T]) -> None:
        slot.value = await fn(slot.item)
        slot.done.set()

    async def feed(tg: Any) -> None:
        async with send:
            for item in items:
                await window.acquire()
                slot = _Pending(item)
                tg.start_soon(call, slot)
                send.send_nowait(slot)

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(feed, tg)
            async with receive:
                async for slot in receive:
                    await slot.done.wait()
                    window.release()
                    handed = on_result(slot.item, slot.value)
                    if inspect.isawaitable(handed):
                        await handed
    except BaseExceptionGroup as group:
        raise _first(group) from None


def _first(group: BaseExceptionGroup) -> BaseException:
    """The first error inside (nested) groups that is not a cancellation."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first(exc)
        if not isinstance(exc, anyio.get_cancelled_exc_class()):
            return exc
    return group
