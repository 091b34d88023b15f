"""Streaming every item of a paginated list endpoint, in order, with bounded memory.

The Console API pages with ``?limit=&page=`` and answers ``pagination.nextPage`` (a path or
null) and ``pagination.totalItems``. Rules:

- **Page size is learnt.** The first page is asked with a large ``limit`` (``page_limit``:
  the spec's maximum for the endpoint when it states one, else ``PAGE_LIMIT_CEILING``). A
  server that honours less answers fewer items while ``totalItems``/``nextPage`` say there is
  more: that count is the page size. The same ``limit`` is sent on every page, so the server
  applies the same cap and page ``n`` starts at item ``(n - 1) * page_size``. A server that
  refuses the large ``limit`` outright (400 on page 1) is asked again with
  ``FALLBACK_PAGE_LIMIT`` (100, the size bulkops always asked before), kept for every page.
- **A sliding window of pages.** Once the first page told the page size and the total, the
  pages up to the announced total are fetched ``concurrency`` at a time: as soon as one lands,
  the next is requested (see :class:`~bulkops.api.page_window.PageWindow`). Items reach the
  consumer in page order.
- **Bounded memory.** At most ``concurrency`` fetches are in flight, and at most
  ``held_pages(concurrency, page_size)`` pages are held at once (in flight, fetched and
  waiting for the consumer, and the page being handed out): ``2 * concurrency`` pages, fewer
  when pages are big, so that about ``HELD_ITEMS`` items at most are held (never fewer than 2
  pages). A slow consumer stops the fetching there.
- **The end.** A null ``nextPage`` or an empty page ends the list; a server without
  pagination metadata ends it with a page shorter than the first. After the pages the total
  announced, ``nextPage`` is still followed, one page ahead (the list may grow while read).
- **Loop guard.** A ``nextPage`` other than the page after, a page repeating an earlier
  page's items, or a list running past ``ceil(1.1 * totalItems / page_size) + 5`` pages (10 %
  growth while read, plus 5 pages; ``MAX_PAGES_WITHOUT_TOTAL`` without a usable total) raises
  ``BadResponseError`` naming the endpoint: a looping server never ends the listing (see
  :mod:`bulkops.api.page_guard`). Only the page number of a link is used, never its host.
- **Errors and cancellation.** An error fetching any page reaches the consumer in order, after
  the items of every earlier page, as the API error it is. A consumer that stops early (break,
  exception, cancel scope) stops every fetch: at once when the generator is closed
  (``aclose()``, ``contextlib.aclosing``, or a cancellation while it waits for a page), else
  when Python finalizes the abandoned generator.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bulkops.api.errors import BadResponseError, ValidationError
from bulkops.api.page_guard import (
    GROWTH_PERCENT,
    MAX_PAGES_WITHOUT_TOTAL,
    SPARE_PAGES,
    ListingGuard,
)
from bulkops.api.page_window import PageWindow

__all__ = [
    "DEFAULT_PAGE_CONCURRENCY",
    "FALLBACK_PAGE_LIMIT",
    "GROWTH_PERCENT",
    "HELD_ITEMS",
    "MAX_PAGES_WITHOUT_TOTAL",
    "PAGE_LIMIT_CEILING",
    "SPARE_PAGES",
    "SPEC_PAGE_LIMITS",
    "CheckItem",
    "FetchPage",
    "held_pages",
    "iterate_pages",
    "list_fetcher",
    "next_page_number",
    "page_limit",
]

FetchPage = Callable[[int], Awaitable[Mapping[str, Any]]]
"""Fetch page number ``n`` (1-based) and return the decoded response envelope."""

DEFAULT_PAGE_CONCURRENCY = 16
"""Pages in flight per listing. A listing costs about ``pages * (latency + serving time) /
concurrency`` until the CPU of encoding and decoding pages bounds it. Against the emulator at
20 ms (about 22 ms a page of 100 gates in all), 8 in flight listed 7.2-7.4x faster than one at
a time and 16 in flight 11.6-11.9x (``benchmarks/listing_throughput.py``, 2-core machine),
close to the CPU bound: more would mostly hold more pages. It equals the default read
concurrency, so one listing may use every read slot of its client."""

PAGE_LIMIT_CEILING = 1000
"""The ``limit`` asked of list endpoints whose spec states no maximum; the server caps it."""

FALLBACK_PAGE_LIMIT = 100
"""The ``limit`` asked again when a server refuses (400) a larger one on the first page."""

SPEC_PAGE_LIMITS: dict[str, int] = {
    "/gates/{id}/dynamic_config_references": 100,
    "/gates/{id}/experiment_references": 100,
    "/gates/{id}/gate_references": 100,
    "/release_pipeline_triggers": 100,
}
"""List endpoints whose spec states a maximum for ``limit`` (path under the base URL)."""

HELD_ITEMS = 5000
"""Items a listing holds at most once the page size is known (at least 2 pages): 32 pages of
100, 5 of 1,000, so learning a bigger page size never multiplies the memory a listing takes."""

_SPEC_PATTERNS = [
    (re.compile("^" + re.sub(r"\\\{[^/]+\\\}", "[^/]+", re.escape(template)) + "$"), limit)
    for template, limit in SPEC_PAGE_LIMITS.items()
]


def page_limit(path: str, page_size: int | None = None) -> int:
    """The ``limit`` to send to the list endpoint ``path`` (``/gates``, ``/gates/g1/...``).

    ``page_size`` None: the largest the spec allows there, else ``PAGE_LIMIT_CEILING``; an
    explicit ``page_size`` is kept, lowered to the spec's maximum when it states one.
    """
    bare = "/" + urlsplit(path).path.strip("/")
    spec_max = next((limit for pattern, limit in _SPEC_PATTERNS if pattern.match(bare)), None)
    wanted = page_size if page_size is not None else (spec_max or PAGE_LIMIT_CEILING)
    return max(1, min(wanted, spec_max) if spec_max is not None else wanted)


def list_fetcher(
    get: Callable[[Mapping[str, Any]], Awaitable[Mapping[str, Any]]],
    query: Mapping[str, Any],
    *,
    learn: bool,
) -> FetchPage:
    """A ``FetchPage`` sending ``query`` (with its ``limit``) plus ``page`` through ``get``.

    With ``learn`` (the ``limit`` is ours, not the caller's), a 400 on page 1 for a ``limit``
    above ``FALLBACK_PAGE_LIMIT`` is retried once with that limit, which every later page keeps.
    """
    limit = [query.get("limit")]

    async def fetch(page: int) -> Mapping[str, Any]:
        try:
            return await get({**query, "limit": limit[0], "page": page})
        except ValidationError:
            asked = limit[0]
            if not (learn and page == 1 and isinstance(asked, int) and asked > FALLBACK_PAGE_LIMIT):
                raise
            limit[0] = FALLBACK_PAGE_LIMIT
            return await get({**query, "limit": FALLBACK_PAGE_LIMIT, "page": page})

    return fetch


def next_page_number(meta: Mapping[str, Any], page: int) -> int | None:
    """The page ``pagination.nextPage`` points to after ``page``, or None at the end.

    A link without a usable ``page`` parameter means ``page + 1``. A number that does not
    advance is returned as it is: :func:`iterate_pages` refuses it.
    """
    nxt = meta.get("nextPage")
    if not nxt:
        return None
    values = parse_qs(urlsplit(str(nxt)).query).get("page")
    try:
        return int(values[0]) if values else page + 1
    except ValueError:
        return page + 1


CheckItem = Callable[[Any], None]
"""Raise ``BadResponseError`` for an item that cannot be what the endpoint lists."""


def _items(
    envelope: Mapping[str, Any], path: str, page: int, check: CheckItem | None = None
) -> list[dict[str, Any]]:
    data = envelope.get("data") if isinstance(envelope, Mapping) else None
    if not isinstance(data, list):
        raise BadResponseError(
            f"page {page} of the list has no 'data' array: is the URL a Console API list "
            "endpoint? Check the path and STATSIG_CONSOLE_API_URL",
            method="GET",
            path=path,
        )
    if check is not None:
        for item in data:
            check(item)
    return data


def _meta(envelope: Mapping[str, Any]) -> Mapping[str, Any] | None:
    meta = envelope.get("pagination") if isinstance(envelope, Mapping) else None
    return meta if isinstance(meta, Mapping) else None


def _total(meta: Mapping[str, Any] | None) -> int | None:
    total = meta.get("totalItems") if meta is not None else None
    if isinstance(total, (int, float)) and not isinstance(total, bool) and 0 <= total < 1e15:
        return int(total)
    return None


def _following(
    guard: ListingGuard, envelope: Mapping[str, Any], page: int, items: list[dict[str, Any]]
) -> int | None:
    """The next page to read after ``page``, or None when the list ended there; the guard
    refuses a page that would make the listing loop or skip pages."""
    if not items:
        return None
    meta = _meta(envelope)
    if meta is None or "nextPage" not in meta:
        nxt = page + 1 if len(items) >= guard.page_size else None
    else:
        nxt = next_page_number(meta, page)
    guard.check(page, items, nxt)
    return nxt


def held_pages(concurrency: int, page_size: int) -> int:
    """Pages a listing holds at most: ``2 * concurrency``, at most ``HELD_ITEMS`` items' worth
    of pages of ``page_size``, and never fewer than 2 (the page handed out and the next)."""
    by_items = HELD_ITEMS // max(1, page_size)
    return max(2, min(2 * max(1, concurrency), by_items))


async def iterate_pages(
    fetch: FetchPage,
    *,
    path: str = "",
    concurrency: int = DEFAULT_PAGE_CONCURRENCY,
    check: CheckItem | None = None,
) -> AsyncGenerator[dict[str, Any], None]:
    """Yield every item of every page, in order; see the module docstring for the rules.

    ``fetch(n)`` returns page ``n``'s envelope (it sends the same ``limit`` every time);
    ``path`` names the endpoint in errors; ``concurrency`` bounds the fetches in flight
    (``held_pages(concurrency, page_size)`` pages held at most); ``check`` judges each item
    (``bulkops.api.shapes``: an entity of a known kind). Close the generator to stop early
    at once.
    """
    envelope = await fetch(1)
    items = _items(envelope, path, 1, check)
    guard = ListingGuard(path, len(items), _total(_meta(envelope)))
    nxt = _following(guard, envelope, 1, items)
    if nxt is None:
        for item in items:
            yield item
        return
    last = guard.announced_pages  # pages up to here are read by number, in a window
    held = held_pages(concurrency, guard.page_size)
    window = PageWindow(fetch, concurrency=concurrency, held=held)
    try:
        window.plan(range(nxt, max(nxt, last) + 1))
        while True:
            for item in items:
                yield item
            if nxt is None:
                return
            page = nxt
            items = []  # the page handed out is let go before the next is taken
            envelope = await window.take(page)
            items = _items(envelope, path, page, check)
            nxt = _following(guard, envelope, page, items)
            if nxt is not None and nxt > window.highest:
                window.plan(range(nxt, nxt + 1))  # one page ahead while this one is consumed
    finally:
        await window.aclose()
