"""ordered_map and gather: bounded concurrency, results in input order, errors as they are."""

import anyio
import anyio.lowlevel
import pytest

from bulkops.run.ordered import gather, ordered_map


@pytest.mark.anyio
async def test_results_come_in_input_order_whatever_the_completion_order() -> None:
    async def slow_for_small(n: int) -> int:
        await anyio.sleep((10 - n) * 0.002)
        return n * n

    assert await gather(slow_for_small, range(10), concurrency=4) == [n * n for n in range(10)]


@pytest.mark.anyio
async def test_no_more_than_limit_calls_are_started_and_not_handed_on() -> None:
    started, handed, peak = 0, 0, 0

    async def read(n: int) -> int:
        nonlocal started, peak
        started += 1
        peak = max(peak, started - handed)
        await anyio.lowlevel.checkpoint()
        return n

    def keep(_: int, __: int) -> None:
        nonlocal handed
        handed += 1

    await ordered_map(read, range(100), keep, limit=5)
    assert handed == 100 and peak <= 5


@pytest.mark.anyio
async def test_the_first_error_is_raised_as_is() -> None:
    async def read(n: int) -> int:
        if n == 3:
            raise LookupError("no 3")
        return n

    with pytest.raises(LookupError, match="no 3"):
        await gather(read, range(10), concurrency=3)
