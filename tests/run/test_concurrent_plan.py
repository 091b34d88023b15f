"""Per-item planning runs concurrently, and the plan is the same whatever the latencies."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from bulkops.errors import JobCodeError, NotFoundError
from bulkops.run.job import Item, Job, Operation, PlanStep, ReadContext, Skip, Source
from bulkops.run.ordered import gather, plan_each
from bulkops.testing import FakeReadContext, plan_job

pytestmark = pytest.mark.anyio


class SlowReads(Job):
    """Reads each gate's overrides with a random latency; one PATCH per gate it reads."""

    name = "slow-reads"

    def __init__(self, options: dict[str, Any], *, seed: int = 0, fail_on: str = "") -> None:
        super().__init__(options)
        self.rng = random.Random(seed)
        self.fail_on = fail_on
        self.in_flight = 0
        self.most_in_flight = 0

    def sources(self) -> list[Source]:
        return [Source("gates")]

    async def plan_item(self, item: Item, ctx: ReadContext) -> PlanStep:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await anyio.sleep(self.rng.uniform(0, 0.01))
            if item.id == self.fail_on:
                return {"not": "a plan"}["missing"]  # type: ignore[return-value]
            overrides = await ctx.get(f"/gates/{item.id}/overrides", default={})
        finally:
            self.in_flight -= 1
        if overrides.get("skip"):
            return Skip(item.key, "asked to skip")
        return Operation(f"gate:{item.id}", "PATCH", f"/gates/{item.id}", body={"n": item.id})


def project(n: int) -> FakeReadContext:
    ctx = FakeReadContext(concurrency=8)
    ctx.add("gates", *({"id": f"g{i:03}"} for i in range(n)))
    ctx.put("/gates/g005/overrides", {"skip": True})
    return ctx


async def test_the_plan_keeps_item_order_whatever_the_latencies() -> None:
    plans = []
    for seed in (1, 2, 3):
        plans.append(await plan_job(SlowReads({}, seed=seed), project(60)))
    keys = [getattr(e, "key", None) or e.item for e in plans[0]]  # type: ignore[union-attr]
    assert keys[:6] == ["gate:g000", "gate:g001", "gate:g002", "gate:g003", "gate:g004",
                        "source:gates:g005"]  # fmt: skip
    assert plans[0] == plans[1] == plans[2]


async def test_reads_run_up_to_the_read_concurrency_and_no_more() -> None:
    job = SlowReads({}, seed=4)
    await plan_job(job, project(60))
    assert job.most_in_flight == 8


async def test_a_job_raising_on_one_item_fails_the_plan_naming_the_item() -> None:
    with pytest.raises(JobCodeError) as caught:
        await plan_job(SlowReads({}, fail_on="g017"), project(40))
    message = str(caught.value)
    assert "planning item source:gates:g017" in message
    assert "KeyError" in message and "test_concurrent_plan.py, line" in message


async def test_an_api_error_on_one_item_is_raised_as_it_is() -> None:
    class Strict(SlowReads):
        async def plan_item(self, item: Item, ctx: ReadContext) -> PlanStep:
            await ctx.get(f"/gates/{item.id}/missing")
            return None

    with pytest.raises(NotFoundError):
        await plan_job(Strict({}), project(10))


async def test_items_taken_ahead_of_the_slowest_are_bounded_by_the_window() -> None:
    taken = 0
    release = anyio.Event()

    async def items() -> AsyncIterator[Item]:
        nonlocal taken
        for i in range(100):
            taken += 1
            yield Item("gates", f"g{i}", {})

    class FirstIsSlow(Job):
        async def plan_item(self, item: Item, ctx: ReadContext) -> PlanStep:
            if item.id == "g0":
                await release.wait()
            return None

    handed: list[int] = []

    async def sink(step: tuple[Operation | Skip, ...]) -> None:
        handed.append(len(step))

    async with anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: plan_each(FirstIsSlow({}), items(), FakeReadContext(), sink, concurrency=4)
        )
        await anyio.wait_all_tasks_blocked()
        # the window (4 x concurrency) buffered, the slot awaited, and the item being sent
        assert taken <= 4 * 4 + 2
        release.set()
    assert taken == 100 and len(handed) == 101  # every item, then plan_end


async def test_gather_keeps_input_order_and_bounds_concurrency() -> None:
    in_flight = most = 0
    rng = random.Random(7)

    async def slow(value: int) -> int:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await anyio.sleep(rng.uniform(0, 0.005))
        in_flight -= 1
        return value * 2

    assert await gather(slow, range(50), concurrency=5) == [v * 2 for v in range(50)]
    assert most == 5


async def test_whole_plan_jobs_still_plan_through_their_own_plan(tmp_path: Path) -> None:
    class Whole(Job):
        def sources(self) -> list[Source]:
            return [Source("gates")]

        async def plan(self, items: Any, ctx: ReadContext) -> AsyncIterator[Operation | Skip]:
            ids = [item.id async for item in items]
            yield Operation("all", "PATCH", "/holdouts/h", body={"gateIDs": ids})

    [op] = await plan_job(Whole({}), project(3))
    assert isinstance(op, Operation) and op.body == {"gateIDs": ["g000", "g001", "g002"]}
