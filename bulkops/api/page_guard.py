"""``ListingGuard``: the rules a paginated list must keep, so that a looping server ends.

A listing follows ``pagination.nextPage``; a broken or hostile server can make that endless
(a link back to an earlier page, the same page handed out under every number, a count that
grows without end). The guard refuses, as a ``BadResponseError`` naming the endpoint:

- a ``nextPage`` that is not the page after this one: back or the same page would loop, a
  jump forward would skip pages (and their items) without a word;
- a page holding exactly the items of an earlier page (by their ids, or the values of a list
  of ids): the server ignores the page asked for;
- a list running past ``ceil(totalItems * (1 + GROWTH_PERCENT / 100) / page_size) +
  SPARE_PAGES`` pages, or past ``MAX_PAGES_WITHOUT_TOTAL`` pages when no usable
  ``totalItems`` was given (absent, negative, not a number).

Only the page number of a ``nextPage`` link is used: its host and path are never requested,
so a link to another host neither leaves the configured base URL nor carries the key away.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bulkops.api.errors import BadResponseError

__all__ = [
    "GROWTH_PERCENT",
    "MAX_PAGES_WITHOUT_TOTAL",
    "SPARE_PAGES",
    "ListingGuard",
    "page_fingerprint",
]

GROWTH_PERCENT = 10
SPARE_PAGES = 5
"""The guard allows ``ceil(totalItems * (1 + GROWTH_PERCENT / 100) / page_size) +
SPARE_PAGES`` pages: a list may grow while it is read, but not without end."""

MAX_PAGES_WITHOUT_TOTAL = 100_000
"""Pages a list without a usable ``totalItems`` may run to: 10 million items in pages of 100
(an ID list of millions of IDs still fits), yet a server that never stops naming a next page
is cut off instead of read forever."""


def page_fingerprint(items: Sequence[Any]) -> int | None:
    """A hash of the ids on a page (an entity's ``id``, or the item itself for a list of ids),
    or None when some item has neither: such pages are not compared."""
    keys: list[str] = []
    for item in items:
        key = item.get("id") if isinstance(item, Mapping) else item
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            return None
        keys.append(str(key))
    return hash(tuple(keys)) if keys else None


@dataclass
class ListingGuard:
    """What the first page of the list at ``path`` told (``page_size``, ``total``), and the
    pages seen so far; :meth:`check` each page in order before following its ``nextPage``."""

    path: str
    page_size: int
    total: int | None
    _seen: dict[int, int] = field(default_factory=dict)  # page fingerprint -> page number

    @property
    def announced_pages(self) -> int:
        """Pages the first page's ``totalItems`` adds up to (0 when it gave none)."""
        if self.total is None or self.page_size <= 0:
            return 0
        return math.ceil(self.total / self.page_size)

    @property
    def max_pages(self) -> int:
        """The most pages this list may run to (see the module docstring)."""
        if self.total is None or self.page_size <= 0:
            return MAX_PAGES_WITHOUT_TOTAL
        grown = self.total * (100 + GROWTH_PERCENT)
        return -(-grown // (100 * self.page_size)) + SPARE_PAGES  # exact integer ceiling

    def check(self, page: int, items: Sequence[Any], nxt: int | None) -> None:
        """Refuse page ``page`` (holding ``items``, naming ``nxt`` next) when it breaks a rule."""
        self._check_new(page, items)
        if nxt is not None:
            self._check_next(page, nxt)

    def _check_new(self, page: int, items: Sequence[Any]) -> None:
        mark = page_fingerprint(items)
        if mark is None:
            return
        earlier = self._seen.setdefault(mark, page)
        if earlier != page:
            raise self._error(
                f"page {page} of the list holds the same {len(items)} item(s) as page "
                f"{earlier}: the server ignores the page asked for, so the listing would "
                "never end; retry later, and report it if it persists"
            )

    def _check_next(self, page: int, nxt: int) -> None:
        if nxt <= page:
            raise self._error(
                f"page {page} of the list names page {nxt} as the next one (pagination."
                "nextPage does not advance), so the listing would never end: the server's "
                "paging is broken; retry later, and report it if it persists"
            )
        if nxt > page + 1:
            raise self._error(
                f"page {page} of the list names page {nxt} as the next one (pagination."
                f"nextPage skips page {page + 1}{'' if nxt == page + 2 else f' to {nxt - 1}'})"
                ", so items would be missed: the server's paging is broken; retry later, "
                "and report it if it persists"
            )
        limit = self.max_pages
        if nxt <= limit:
            return
        if self.total is None:
            raise self._error(
                f"the list gave no usable totalItems and page {page} still names a next page, "
                f"past the {limit} pages bulkops reads at most without one: the server's "
                "paging loops; retry later, and report it if it persists"
            )
        raise self._error(
            f"the list announced {self.total} items ({self.announced_pages} pages of "
            f"{self.page_size}), but page {page} still names a next page, past the {limit} "
            f"pages allowed for a list that grows while it is read (+{GROWTH_PERCENT} % + "
            f"{SPARE_PAGES} pages): the server's paging loops, or the list grows faster "
            "than it can be read; retry later"
        )

    def _error(self, message: str) -> BadResponseError:
        return BadResponseError(message, method="GET", path=self.path)
