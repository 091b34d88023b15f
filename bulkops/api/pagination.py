"""Streaming every item of a paginated list endpoint, in order, with bounded memory.

The Console API pages with ``?limit=&page=`` and answers ``pagination.nextPage`` (a path or
null) and ``pagination.totalItems``. The server may cap ``limit`` below what we asked, so the
page size is learnt from the first page, never assumed. Rules:

- stop when ``nextPage`` is null, when a page is empty, or (for servers without pagination
  metadata) when a page is shorter than the first one;
- once ``totalItems`` is known, the remaining pages are fetched ``concurrency`` at a time and
  yielded in page order; at most ``concurrency`` pages are held in memory;
- after the pages ``totalItems`` announced, the last page's ``nextPage`` is still followed
  (the list may have grown while we read it).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio

from bulkops.api.errors import BadResponseError

__all__ = ["FetchPage", "iterate_pages", "next_page_number"]

FetchPage = Callable[[int], Awaitable[Mapping[str, Any]]]
"""Fetch page number ``n`` (1-based) and return the decoded response envelope."""


def next_page_number(meta: Mapping[str, Any], page: int) -> int | None:
    """The page after ``page`` according to ``pagination.nextPage``, or None at the end."""
    nxt = meta.get("nextPage")
    if not nxt:
        return None
    values = parse_qs(urlsplit(str(nxt)).query).get("page")
    try:
        number = int(values[0]) if values else page + 1
    except ValueError:
        number = page + 1
    return number if number > page else page + 1


def _items(envelope: Mapping[str, Any], path: str, page: int) -> list[dict[str, Any]]:
    data = envelope.get("data") if isinstance(envelope, Mapping) else None
    if not isinstance(data, list):
        raise BadResponseError(
            f"page {page} of the list has no 'data' array: is the URL a Console API list "
            "endpoint? Check the path and STATSIG_CONSOLE_API_URL",
            method="GET",
            path=path,
        )
    return data


def _total(meta: Mapping[str, Any]) -> int | None:
    total = meta.get("totalItems")
    if isinstance(total, (int, float)) and not isinstance(total, bool) and total >= 0:
        return int(total)
    return None


async def _fetch_batch(fetch: FetchPage, pages: range) -> list[Mapping[str, Any]]:
    results: list[Mapping[str, Any]] = [{} for _ in pages]

    async def one(index: int, number: int) -> None:
        results[index] = await fetch(number)

    async with anyio.create_task_group() as tg:
        for index, number in enumerate(pages):
            tg.start_soon(one, index, number)
    return results


def _following(
    envelope: Mapping[str, Any], page: int, items: list[dict[str, Any]], page_size: int
) -> int | None:
    """The next page to read after ``page``, or None when the list ended there."""
    if not items:
        return None
    meta = envelope.get("pagination")
    if isinstance(meta, Mapping) and "nextPage" in meta:
        return next_page_number(meta, page)
    return page + 1 if len(items) >= page_size else None


async def iterate_pages(
    fetch: FetchPage, *, path: str = "", concurrency: int = 4
) -> AsyncIterator[dict[str, Any]]:
    """Yield every item of every page, in order; see the module docstring for the rules."""
    page = 1
    envelope = await fetch(page)
    items = _items(envelope, path, page)
    page_size = len(items)
    for item in items:
        yield item
    while (following := _following(envelope, page, items, page_size)) is not None:
        meta = envelope.get("pagination")
        total = _total(meta) if isinstance(meta, Mapping) else None
        last = math.ceil(total / page_size) if total is not None and concurrency > 1 else 0
        stop = max(last, following) + 1
        for start in range(following, stop, concurrency):
            numbers = range(start, min(start + concurrency, stop))
            if len(numbers) == 1:
                envelopes = [await fetch(start)]
            else:
                envelopes = await _fetch_batch(fetch, numbers)
            for page, envelope in zip(numbers, envelopes):
                items = _items(envelope, path, page)
                for item in items:
                    yield item
                if _following(envelope, page, items, page_size) is None:
                    return
