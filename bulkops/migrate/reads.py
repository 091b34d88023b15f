"""Bounded concurrent reads whose results are handed on in input order.

Planning a migration reads one document per entity (overrides, ID lists, target lookups) and an
export writes them to disk one after the other: both want many reads in flight (reads are not
rate-limited) and a deterministic order of results (same input, same plan, same file).
``ordered_map`` runs ``fn(item)`` with at most ``limit`` calls started and not yet handed on,
and calls ``on_result(item, result)`` in the order of ``items``; memory is bounded by
``limit`` results, whatever the number of items. ``read_all`` collects the results in a list.

This is the one place the migration does concurrent per-entity reads, so that it can be swapped
for the runner's own per-item planning concurrency when that exists.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, Generic, Protocol, TypeVar

import anyio

__all__ = ["DEFAULT_READ_CONCURRENCY", "ProjectReader", "ordered_map", "read_all"]

DEFAULT_READ_CONCURRENCY = 16


class ProjectReader(Protocol):
    """What a migration reads a project through: ``ConsoleClient`` and ``SnapshotConnection``."""

    @property
    def base_url(self) -> str: ...

    async def request(
        self, method: str, path: str, json: Any = None, *, params: Mapping[str, Any] | None = None
    ) -> Any: ...

    def paginate(self, kind_or_path: str, **filters: Any) -> AsyncIterator[dict]: ...


T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T]):
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
    limit: int = DEFAULT_READ_CONCURRENCY,
) -> None:
    """``on_result(item, await fn(item))`` for every item, in input order, ``limit`` at a time.

    ``on_result`` may be a plain function or return an awaitable (awaited before the next
    result). The first error of ``fn`` or ``on_result`` cancels the rest and is raised as is
    (not wrapped in an exception group).
    """
    window = anyio.Semaphore(max(1, limit))
    send, receive = anyio.create_memory_object_stream[_Slot[T]](math.inf)

    async def call(slot: _Slot[T]) -> None:
        slot.value = await fn(slot.item)
        slot.done.set()

    async def feed(tg: Any) -> None:
        async with send:
            for item in items:
                await window.acquire()
                slot = _Slot(item)
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


async def read_all(
    fn: Callable[[T], Awaitable[R]],
    items: Iterable[T],
    *,
    limit: int = DEFAULT_READ_CONCURRENCY,
) -> list[R]:
    """``[await fn(item) for item in items]``, ``limit`` calls in flight at a time."""
    results: list[R] = []
    await ordered_map(fn, items, lambda _, value: results.append(value), limit=limit)
    return results


def _first(group: BaseExceptionGroup) -> BaseException:
    """The first error inside (nested) groups that is not a cancellation."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first(exc)
        if not isinstance(exc, anyio.get_cancelled_exc_class()):
            return exc
    return group
