"""Helpers of the migration tests: plan a migrate job between two snapshots, in memory."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
from bulkops.jobs.migrate import Migrate

from bulkops.migrate.plan import MigrationPlan
from bulkops.migrate.sample import migration_sample
from bulkops.migrate.snapshot_source import SnapshotConnection
from bulkops.run.context import ClientReadContext
from bulkops.run.job import Item, Operation, Skip

SNAPSHOT = "bulkops-snapshot/1"


def empty() -> dict[str, Any]:
    return {"format": SNAPSHOT, "entities": {}}


def context(
    source: Mapping[str, Any], target: Mapping[str, Any] | None = None
) -> ClientReadContext:
    return ClientReadContext(
        {
            "source": SnapshotConnection(copy.deepcopy(dict(source))),
            "target": SnapshotConnection(copy.deepcopy(dict(target or empty()))),
        }
    )


async def plan_steps(job: Migrate, ctx: ClientReadContext) -> list[Operation | Skip]:
    """Prepare, list the job's sources and plan, as the runner does (without a journal)."""
    await job.prepare(ctx)
    items = [
        Item(source.kind, str(entity["id"]), entity, source.project)
        for source in job.sources()
        async for entity in ctx.list(source.kind, project=source.project, **dict(source.filters))
    ]

    async def stream() -> AsyncIterator[Item]:
        for item in items:
            yield item

    return [step async for step in job.plan(stream(), ctx)]


def plan(
    source: Mapping[str, Any] | None = None,
    target: Mapping[str, Any] | None = None,
    **options: Any,
) -> tuple[list[Operation | Skip], MigrationPlan]:
    """Plan ``migrate --to prod`` from ``source`` (default: the sample) into ``target``."""
    job = Migrate({"to": "prod", **options})
    ctx = context(source if source is not None else migration_sample(), target)
    steps = anyio.run(plan_steps, job, ctx)
    assert job.result is not None
    return steps, job.result


def ops(steps: list[Operation | Skip]) -> list[Operation]:
    return [s for s in steps if isinstance(s, Operation)]


def skips(steps: list[Operation | Skip]) -> list[Skip]:
    return [s for s in steps if isinstance(s, Skip)]


def by_key(steps: list[Operation | Skip]) -> dict[str, Operation]:
    return {o.key: o for o in ops(steps)}
