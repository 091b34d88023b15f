"""The loop guard of a listing: a hostile ``nextPage`` or ``totalItems`` never makes it endless.

Each list is served by a fetch function of the test (no network): page ``p`` holds 10 items
with ids (or, ``same_items``, page 1's ids every time) and names ``links(p)`` next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

from bulkops.api import BadResponseError, page_guard
from bulkops.api.pagination import iterate_pages

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MISSING = object()


class List:
    """A list endpoint whose page ``p`` names ``links(p)`` next (a page number, a whole link,
    or None), announcing ``total`` items (``MISSING``: no ``totalItems`` key)."""

    def __init__(
        self,
        links: Callable[[int], int | str | None],
        *,
        total: Any = MISSING,
        same_items: bool = False,
        ids: Callable[[int, int], Any] = lambda page, i: f"g{page}-{i}",
    ) -> None:
        self.links, self.total, self.same_items, self.ids = links, total, same_items, ids
        self.fetched: list[int] = []

    async def fetch(self, page: int) -> dict[str, Any]:
        self.fetched.append(page)
        shown = 1 if self.same_items else page
        items = [{"id": self.ids(shown, i)} for i in range(10)]
        nxt = self.links(page)
        link = f"/console/v1/gates?page={nxt}&limit=1000" if isinstance(nxt, int) else nxt
        pagination: dict[str, Any] = {"nextPage": link}
        if self.total is not MISSING:
            pagination["totalItems"] = self.total
        return {"data": items, "pagination": pagination}

    async def read(self) -> list[dict[str, Any]]:
        with anyio.fail_after(10):
            return [item async for item in iterate_pages(self.fetch, path="/gates", concurrency=4)]


def ending_at(last: int) -> Callable[[int], int | None]:
    return lambda page: page + 1 if page < last else None


async def refused(listing: List, match: str) -> BadResponseError:
    with pytest.raises(BadResponseError, match=match) as info:
        await listing.read()
    assert str(info.value).startswith("GET /gates: ")
    return info.value


@pytest.mark.parametrize("total", [40, MISSING])
async def test_a_next_page_naming_the_same_page_is_refused(total: Any) -> None:
    listing = List(lambda page: 2 if page >= 2 else page + 1, total=total)
    error = await refused(listing, "page 2 of the list names page 2 as the next one")
    assert "does not advance" in str(error)


async def test_a_next_page_jumping_forward_is_refused_before_pages_are_skipped() -> None:
    listing = List(lambda page: {1: 5, 5: 2}.get(page, page + 1), total=80)
    error = await refused(listing, r"page 1 of the list names page 5 .*skips page 2 to 4")
    assert "items would be missed" in str(error)


async def test_a_jump_of_one_page_names_that_page() -> None:
    listing = List(lambda page: page + 2, total=MISSING)
    await refused(listing, r"nextPage skips page 2\)")


async def test_a_link_to_another_host_is_read_here_by_its_page_number() -> None:
    other = "http://elsewhere.invalid/console/v1/gates?page={}&limit=10"
    listing = List(lambda page: other.format(page + 1) if page < 3 else None, total=30)
    items = await listing.read()
    assert len(items) == 30 and sorted(set(listing.fetched)) == [1, 2, 3]


@pytest.mark.parametrize("total", [MISSING, None, -40, "40", True, float("nan")])
async def test_without_a_usable_total_a_page_repeating_an_earlier_one_is_refused(
    total: Any,
) -> None:
    listing = List(lambda page: page + 1, total=total, same_items=True)
    error = await refused(listing, "page 2 of the list holds the same 10 item.s. as page 1")
    assert "ignores the page asked for" in str(error)
    assert max(listing.fetched) <= 6  # page 2, and the few fetched ahead meanwhile


async def test_with_a_total_lying_high_a_repeated_page_is_refused_too() -> None:
    listing = List(lambda page: page + 1, total=10_000, same_items=True)
    await refused(listing, "page 2 of the list holds the same")


async def test_pages_of_plain_ids_are_compared_too() -> None:
    async def fetch(page: int) -> dict[str, Any]:
        return {"data": ["u1", "u2"]}  # an ID list page without pagination: always full

    with anyio.fail_after(10), pytest.raises(BadResponseError, match="same 2 item"):
        [item async for item in iterate_pages(fetch, path="/segments/s/id_list")]


async def test_pages_whose_items_have_no_ids_are_not_compared() -> None:
    async def fetch(page: int) -> dict[str, Any]:
        nxt = f"/x?page={page + 1}" if page < 3 else None
        return {"data": [{"n": 1}], "pagination": {"nextPage": nxt}}

    assert len([item async for item in iterate_pages(fetch, path="/x")]) == 3


async def test_without_a_total_a_list_never_ending_is_cut_off_at_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(page_guard, "MAX_PAGES_WITHOUT_TOTAL", 30)
    listing = List(lambda page: page + 1)  # new ids on every page, never an end
    error = await refused(listing, "no usable totalItems and page 30 still names a next page")
    assert "past the 30 pages bulkops reads at most" in str(error)
    assert max(listing.fetched) <= 31


async def test_the_cap_without_a_total_is_documented_and_generous() -> None:
    assert page_guard.MAX_PAGES_WITHOUT_TOTAL * 100 >= 10_000_000  # ID lists of millions


async def test_a_total_lying_low_cuts_the_list_off_past_its_margin() -> None:
    listing = List(ending_at(50), total=5)  # 500 items in truth
    await refused(listing, r"announced 5 items \(1 pages of 10\).*past the 6 pages allowed")


async def test_a_total_lying_high_reads_the_list_to_its_real_end() -> None:
    listing = List(ending_at(3), total=100_000)
    assert len(await listing.read()) == 30


async def test_a_fractional_total_counts_as_its_whole_part() -> None:
    listing = List(ending_at(4), total=40.5)
    assert len(await listing.read()) == 40
