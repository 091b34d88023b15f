"""List → freeze → plan, into the journal: once, or once per project of a fan-out run.

A run without ``--project`` has one scope: the job's ``"source"`` is the run's default
connection, and nothing is renamed. A fan-out run (``--project a --project b``) plans the job
once per project, in parallel, each with its own job instance, items and operations: in scope
``a`` the job's ``"source"`` is connection ``a``, its items are listed as project ``a``, and its
operation keys are prefixed ``a/`` (so two projects' plans never collide and resume, status and
revert see one run). A project whose listing or planning fails (its key rejected, an outage, a
holdout it does not have) is recorded as failed and its rows are dropped; the others go on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from bulkops.errors import ApiError, BulkopsError
from bulkops.run.context import ClientReadContext, Connection
from bulkops.run.job import SOURCE, Item, Job, Operation, Skip, Source, plans_per_item
from bulkops.run.jobcode import PlanCheck, guard_job_code, job_sources
from bulkops.run.journal import Journal
from bulkops.run.ordered import plan_each

__all__ = ["PlanFailure", "Planner", "Scope"]

_BATCH = 500
Call = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Scope:
    """Where one copy of the job runs: the connection its ``"source"`` stands for."""

    source: str = SOURCE

    @property
    def renames(self) -> bool:
        """True in a fan-out run: items, keys and connections carry the project's name."""
        return self.source != SOURCE

    def connections(self, every: Mapping[str, Connection]) -> Mapping[str, Connection]:
        """The connections as the job sees them (its ``"source"`` is this scope's)."""
        return {**every, SOURCE: every[self.source]} if self.renames else every

    def project(self, name: str) -> str:
        """A connection name of the job's, as the run knows it."""
        return self.source if self.renames and name == SOURCE else name

    def key(self, key: str) -> str:
        """An operation key of the job's, as the run stores it."""
        return f"{self.source}/{key}" if self.renames else key

    def operation(self, op: Operation) -> Operation:
        """``op`` renamed into this scope (its project, key, dependencies and undo)."""
        if not self.renames:
            return op
        return dataclasses.replace(
            op,
            key=self.key(op.key),
            project=self.project(op.project),
            depends_on=tuple(self.key(d) for d in op.depends_on),
            undo=self.operation(op.undo) if op.undo is not None else None,
        )


@dataclass(frozen=True)
class PlanFailure:
    """A project of a fan-out run whose plan failed; the others were planned."""

    project: str
    error: BulkopsError

    def to_meta(self) -> dict[str, Any]:
        """How it is kept in the journal meta (``plan_failures``)."""
        code = 4 if isinstance(self.error, ApiError) else 2
        return {"message": str(self.error), "exit_code": code}


class Planner:
    """Plans ``job`` into ``journal`` for each scope; ``call`` runs journal methods off-loop."""

    def __init__(
        self,
        journal: Journal,
        connections: Mapping[str, Connection],
        call: Call,
        *,
        read_concurrency: int = 16,
    ) -> None:
        self.journal = journal
        self.connections = connections
        self._call = call
        self.read_concurrency = read_concurrency

    async def plan(
        self,
        job: Job,
        scopes: Sequence[Scope],
        unreachable: Mapping[str, BulkopsError] | None = None,
    ) -> list[PlanFailure]:
        """Plan every scope (in parallel when there are several); returns the failed ones.

        With one scope, a failure is raised as it is. With several, a failed project's rows
        are dropped and it is returned; when every project failed, the first error is raised.
        Projects in ``unreachable`` (they could not even be read) fail with their error.
        """
        if len(scopes) == 1 and not scopes[0].renames:
            await self._call(self.journal.clear_plan)
            await self.plan_scope(job, scopes[0])
            with guard_job_code(job, "describing its plan"):
                kept = dict(job.plan_meta())
            await self._call(self.journal.set_meta, **kept)
            return []
        failures: list[PlanFailure] = []

        async def one(scope: Scope) -> None:
            await self._call(self.journal.clear_plan, scope.source)
            if scope.source in (unreachable or {}):
                failures.append(PlanFailure(scope.source, (unreachable or {})[scope.source]))
                return
            try:
                await self.plan_scope(type(job)(job.options), scope)
            except BulkopsError as exc:
                failures.append(PlanFailure(scope.source, exc))
                await self._call(self.journal.clear_plan, scope.source)

        async with anyio.create_task_group() as tg:
            for scope in scopes:
                tg.start_soon(one, scope)
        if len(failures) == len(scopes):
            raise failures[0].error
        order = [s.source for s in scopes]
        return sorted(failures, key=lambda f: order.index(f.project))

    async def plan_scope(self, job: Job, scope: Scope) -> None:
        """Prepare, list and plan ``job`` in ``scope``."""
        ctx = ClientReadContext(
            scope.connections(self.connections), concurrency=self.read_concurrency
        )
        with guard_job_code(job, "preparing"):
            await job.prepare(ctx)
        for source in job_sources(job):
            await self._freeze(ctx, source, scope)
        await self._plan(job, ctx, scope)

    async def _freeze(self, ctx: ClientReadContext, source: Source, scope: Scope) -> None:
        conn = ctx.connection(source.project)
        project = scope.project(source.project)
        batch: list[Item] = []
        async for entity in conn.paginate(source.kind, **dict(source.filters)):
            ident = entity.get("id", entity.get("name"))
            batch.append(Item(source.kind, str(ident), entity, project))
            if len(batch) >= _BATCH:
                await self._call(self.journal.add_items, batch)
                batch = []
        await self._call(self.journal.add_items, batch)

    async def _plan(self, job: Job, ctx: ClientReadContext, scope: Scope) -> None:
        """Plan from the frozen items into the journal (item by item, concurrently, when the
        job plans per item), refusing a repeated operation key."""
        check = PlanCheck(job)
        entries: list[Operation | Skip] = []

        async def sink(step: tuple[Operation | Skip, ...]) -> None:
            nonlocal entries
            for entry in step:
                checked = check(entry)
                entries.append(
                    scope.operation(checked) if isinstance(checked, Operation) else checked
                )
            if len(entries) >= _BATCH:
                batch, entries = entries, []
                await self._call(self.journal.add_plan, batch)

        items = self._frozen_items(scope, job)
        with guard_job_code(job, "planning"):
            if plans_per_item(job):
                await plan_each(job, items, ctx, sink, concurrency=ctx.concurrency)
            else:
                async for entry in job.plan(items, ctx):
                    await sink((entry,))
        await self._call(self.journal.add_plan, entries)

    async def _frozen_items(self, scope: Scope, job: Job) -> AsyncIterator[Item]:
        projects = None
        if scope.renames:  # this project's items, and those of the job's own other connections
            projects = [scope.source, *job.projects]
        after = 0
        while page := await self._call(self.journal.items_page, after, _BATCH, projects=projects):
            after = page[-1][0]
            for _, item in page:
                yield item
