"""Planning a job in a unit test: an in-memory ``ReadContext`` and ``plan_job``.

``plan_job(job, ctx)`` prepares the job, lists its sources and plans exactly as the runner
does (per-item jobs concurrently, in item order), without a journal and without sending
anything. ``ctx`` is a ``FakeReadContext`` (entities and documents held in memory, 404 as the
client raises it) or a real read context on the emulator (``emulator_read_context``).
Re-exported by ``bulkops.testing``.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bulkops.errors import NotFoundError
from bulkops.run.context import ClientReadContext
from bulkops.run.job import MISSING, SOURCE, Item, Job, Operation, ReadContext, Skip, plans_per_item
from bulkops.run.jobcode import PlanCheck, guard_job_code, job_sources
from bulkops.run.ordered import gather, plan_each

__all__ = ["FakeReadContext", "emulator_read_context", "plan_job"]

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class FakeReadContext:
    """Entities by project and kind, plus documents by path (``/gates/g1/overrides``).

    ``reads`` records every ``get`` (``"source:/gates/g1"``), so a test can assert what was read.
    """

    entities: dict[str, dict[str, dict[str, dict[str, Any]]]] = field(default_factory=dict)
    documents: dict[str, Any] = field(default_factory=dict)
    reads: builtins.list[str] = field(default_factory=builtins.list)
    concurrency: int = 4

    def add(self, kind: str, *entities: Mapping[str, Any], project: str = SOURCE) -> None:
        """Add entities of ``kind`` (each with an ``id``)."""
        store = self.entities.setdefault(project, {}).setdefault(kind, {})
        for entity in entities:
            store[str(entity["id"])] = copy.deepcopy(dict(entity))

    def put(self, path: str, data: Any, *, project: str = SOURCE) -> None:
        """What ``GET path`` answers (a sub-resource such as ``/gates/g1/overrides``)."""
        self.documents[f"{project}:{path}"] = copy.deepcopy(data)

    async def get(
        self, path: str, *, project: str = SOURCE, default: Any = MISSING, **params: Any
    ) -> Any:
        """The document ``put`` at ``path``, or the entity ``/kind/id``; 404 as the client."""
        self.reads.append(f"{project}:{path}")
        key = f"{project}:{path}"
        if key in self.documents:
            return copy.deepcopy(self.documents[key])
        parts = path.strip("/").split("/")
        if len(parts) == 2:
            entity = self.entities.get(project, {}).get(parts[0], {}).get(parts[1])
            if entity is not None:
                return copy.deepcopy(entity)
        if default is not MISSING:
            return default
        raise NotFoundError("not found", status=404, method="GET", path=path)

    async def list(
        self, kind: str, *, project: str = SOURCE, **filters: Any
    ) -> AsyncIterator[dict]:
        """The entities of ``kind`` that match ``filters`` (list fields: contains)."""
        for entity in builtins.list(self.entities.get(project, {}).get(kind, {}).values()):
            if all(_filter_matches(entity.get(k), v) for k, v in filters.items()):
                yield copy.deepcopy(entity)

    async def paged(
        self, path: str, field: str, *, project: str = SOURCE, **params: Any
    ) -> AsyncIterator[Any]:
        """The ``field`` list of the document at ``path``."""
        data = await self.get(path, project=project)
        for value in (data or {}).get(field) or ():
            yield value

    async def gather(
        self, fn: Callable[[T], Awaitable[R]], values: Iterable[T]
    ) -> builtins.list[R]:
        """``fn`` over ``values``, ``concurrency`` at a time, in order."""
        return await gather(fn, values, concurrency=self.concurrency)


def _filter_matches(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, list):
        return str(wanted) in [str(a) for a in actual]
    return str(actual) == str(wanted)


async def plan_job(job: Job, ctx: ReadContext) -> list[Operation | Skip]:
    """Prepare, list every source and plan, as the runner does (no journal, nothing sent)."""
    with guard_job_code(job, "preparing"):
        await job.prepare(ctx)
    items: list[Item] = []
    for source in job_sources(job):
        async for data in ctx.list(source.kind, project=source.project, **dict(source.filters)):
            ident = data.get("id", data.get("name"))
            items.append(Item(source.kind, str(ident), data, source.project))

    async def stream() -> AsyncIterator[Item]:
        for item in items:
            yield item

    check = PlanCheck(job)
    plan: list[Operation | Skip] = []

    async def sink(step: tuple[Operation | Skip, ...]) -> None:
        plan.extend(check(entry) for entry in step)

    with guard_job_code(job, "planning"):
        if plans_per_item(job):
            await plan_each(job, stream(), ctx, sink, concurrency=ctx.concurrency)
        else:
            async for entry in job.plan(stream(), ctx):
                await sink((entry,))
    return plan


@asynccontextmanager
async def emulator_read_context(
    base_url: str, api_key: str, *, concurrency: int = 16, **projects: tuple[str, str]
) -> AsyncIterator[ClientReadContext]:
    """A real ``ReadContext`` on a running emulator (``source``, plus ``name=(url, key)``)."""
    from bulkops.api import ConsoleClient

    clients = {SOURCE: ConsoleClient(api_key=api_key, base_url=base_url)}
    clients.update(
        {name: ConsoleClient(api_key=key, base_url=url) for name, (url, key) in projects.items()}
    )
    entered = []
    try:
        for client in clients.values():
            entered.append(await client.__aenter__())
        yield ClientReadContext(clients, concurrency=concurrency)
    finally:
        for client in entered:
            await client.aclose()
