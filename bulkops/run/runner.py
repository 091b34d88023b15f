"""The pipeline: list → freeze → plan → mutate, journaled at every step.

``Runner.freeze_and_plan()`` streams every ``Job.sources()`` list into the journal before any
mutation, then feeds the frozen items (read back from the journal) to ``Job.plan()`` and stores
every ``Operation`` and ``Skip``. ``Runner.mutate()`` then executes what is not final yet with
bounded concurrency: a feeder task streams operations out of the journal through a small memory
object stream, ``concurrency`` worker tasks take operations from an unbuffered stream (so a
send waits for a free worker: that is the bound on operations in flight, with no task spawned
per operation), and an operation waits for its ``depends_on`` to be DONE/SKIPPED (a failed
dependency fails it). Per-operation errors are
recorded and never cancel the run; only fatal ones (key rejected, journal broken) stop it.

``stop()`` sends nothing new: operations not taken by a worker stay PLANNED, and the ones still
waiting for a budget permit go back to what they were (a ``StoppableBudget`` refuses them), so
IN_FLIGHT only ever means "the request may have left". A plan made in an earlier session is
verified before sending (see ``verify_planned``); errors in the job's own code are reported as
``JobCodeError`` naming the job and the line, before anything is sent.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
from anyio.abc import TaskGroup

from bulkops.run.context import ClientReadContext, Connection
from bulkops.run.dependencies import DependencyTracker
from bulkops.run.execute import FatalRunError, OperationExecutor
from bulkops.run.job import Item, Job, JobConfigError, Operation, Skip, plans_per_item
from bulkops.run.jobcode import PlanCheck, guard_job_code
from bulkops.run.journal import Journal, JournalError, OpRecord
from bulkops.run.ordered import plan_each
from bulkops.run.results import PlanSummary, RunnerStatistics, RunResult
from bulkops.run.sendgate import stop_sending
from bulkops.run.states import FINAL_STATUSES, PENDING_STATUSES, OpStatus
from bulkops.run.writer import JournalWriter

__all__ = ["PlanSummary", "RunResult", "Runner", "RunnerStatistics"]

_BATCH = 500


class Runner:
    """Runs one journaled run. ``connections`` maps names ("source", ...) to clients.

    ``verify_planned``: read each PLANNED operation's ``Check`` right before sending it and
    mark it SKIPPED when its effect is already there. None (the default) does so when the plan
    was not made by this ``Runner`` (a resumed run: the state may have moved since).
    """

    def __init__(
        self,
        journal: Journal,
        connections: Mapping[str, Connection],
        *,
        job: Job | None = None,
        concurrency: int = 16,
        attempts: int = 3,
        grace_seconds: float = 10.0,
        verify_planned: bool | None = None,
        read_concurrency: int = 16,
    ) -> None:
        self.journal = journal
        self.read_concurrency = max(1, read_concurrency)
        self.connections = connections
        self.job = job
        self.concurrency = max(1, concurrency)
        self.grace_seconds = grace_seconds
        self.verify_planned = verify_planned
        self.writer = JournalWriter(journal)
        self._executor = OperationExecutor(connections, self.writer, attempts=attempts)
        self._planned_here = False
        self._elapsed_before = 0.0
        self._saved_at = 0.0
        self._work: Any = None  # the unbuffered stream the workers take operations from
        self._stop = anyio.Event()
        self._changed = anyio.Event()
        self._counts: Counter[str] = Counter()
        self._remaining: dict[str, int] = {}
        self._active = 0
        self._started = time.monotonic()
        self._fatal: str | None = None
        self._ready: list[OpRecord] = []
        self._deps = DependencyTracker({})
        self._rate_limited_seen = 0
        self._watch_scope = anyio.CancelScope()
        self._grace_scope = anyio.CancelScope()

    # -- list → freeze → plan ------------------------------------------------------------------

    async def freeze_and_plan(self) -> PlanSummary:
        """List every source into the journal, then plan from the frozen items."""
        if self.job is None:
            raise JobConfigError("this run has no job to plan with")
        job = self.job
        ctx = ClientReadContext(self.connections, concurrency=self.read_concurrency)
        with guard_job_code(job, "preparing"):
            await job.prepare(ctx)
        await self._call(self.journal.clear_plan)
        await self._call(self.journal.set_meta, phase="listing")
        with guard_job_code(job, "listing its sources"):
            sources = list(job.sources())
        for source in sources:
            conn = ctx.connection(source.project)
            batch: list[Item] = []
            async for entity in conn.paginate(source.kind, **dict(source.filters)):
                ident = entity.get("id", entity.get("name"))
                batch.append(Item(source.kind, str(ident), entity, source.project))
                if len(batch) >= _BATCH:
                    await self._call(self.journal.add_items, batch)
                    batch = []
            await self._call(self.journal.add_items, batch)
        await self._plan(job, ctx)
        await self._call(self.journal.set_meta, phase="planned", planned_at=time.time())
        self._planned_here = True
        return await self.summary()

    async def _plan(self, job: Job, ctx: ClientReadContext) -> None:
        """Plan from the frozen items into the journal (item by item, concurrently, when the
        job plans per item), refusing a repeated operation key."""
        check = PlanCheck(job)
        entries: list[Operation | Skip] = []

        async def sink(step: tuple[Operation | Skip, ...]) -> None:
            nonlocal entries
            entries.extend(check(entry) for entry in step)
            if len(entries) >= _BATCH:
                batch, entries = entries, []
                await self._call(self.journal.add_plan, batch)

        with guard_job_code(job, "planning"):
            if plans_per_item(job):
                items = self._frozen_items()
                await plan_each(job, items, ctx, sink, concurrency=ctx.concurrency)
            else:
                async for entry in job.plan(self._frozen_items(), ctx):
                    await sink((entry,))
        await self._call(self.journal.add_plan, entries)

    async def _frozen_items(self) -> AsyncIterator[Item]:
        after = 0
        while page := await self._call(self.journal.items_page, after, _BATCH):
            after = page[-1][0]
            for _, item in page:
                yield item

    async def summary(self) -> PlanSummary:
        """The plan's summary, with the ETA the budgets compute for what is left to send."""
        counts = await self._call(self.journal.counts)
        items = await self._call(self.journal.item_count)
        served = await self._call(self.journal.served_items)
        skips = await self._call(self.journal.skip_count)
        remaining = await self._call(self.journal.remaining_by_project)
        return PlanSummary(
            items=items,
            operations=sum(v for k, v in counts.items() if k != OpStatus.BLOCKED),
            to_send=sum(remaining.values()),
            already_fine=max(0, items - served),
            skipped=skips - counts[OpStatus.BLOCKED],
            blocked=counts[OpStatus.BLOCKED],
            eta_seconds=self._eta(remaining),
        )

    # -- mutate ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop taking new operations; the ones in flight finish (bounded by the grace time)."""
        self._stop.set()
        self._changed.set()
        for conn in self.connections.values():
            stop_sending(conn.budget)  # waiting for a permit: not sent
        deadline = anyio.current_time() + self.grace_seconds
        self._grace_scope.deadline = min(self._grace_scope.deadline, deadline)

    def abort(self) -> None:
        """Stop now: operations still in flight stay IN_FLIGHT (reconciled on resume)."""
        self.stop()
        self._grace_scope.cancel()

    async def mutate(self) -> RunResult:
        """Execute every operation that is not final yet; returns how it ended."""
        self._started = time.monotonic()
        verify = self.verify_planned
        self._executor.verify_planned = not self._planned_here if verify is None else verify
        meta = await self._call(self.journal.meta)
        self._elapsed_before = float(meta.get("elapsed_seconds") or 0.0)
        self._counts = Counter(await self._call(self.journal.counts))
        self._remaining = await self._call(self.journal.remaining_by_project)
        self._deps = DependencyTracker(await self._call(self.journal.dependency_statuses))
        await self._call(
            self.journal.set_meta,
            phase="running",
            resumed_at=time.time(),
            elapsed_before=round(self._elapsed_before, 3),
        )
        async with anyio.create_task_group() as outer:
            outer.start_soon(self.writer.serve)
            outer.start_soon(self._watch_rate_limits)
            try:
                await self._dispatch_all()
            except JournalError as exc:
                self._fatal = f"the journal is broken: {exc}"
            finally:
                self.writer.close()  # serve() returns once everything queued is written
                self._watch_scope.cancel()
        if self.writer.broken is not None and not self._fatal:
            self._fatal = f"the journal is broken: {self.writer.broken}"
        return await self._finish()

    async def _dispatch_all(self) -> None:
        send, receive = anyio.create_memory_object_stream[OpRecord](self.concurrency)
        self._work, work = anyio.create_memory_object_stream[OpRecord](0)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._feed, send)
            for _ in range(self.concurrency):
                tg.start_soon(self._worker, work)
            async with receive:
                async for rec in receive:
                    if self._stop.is_set():
                        break
                    await self._dispatch(rec)
                    await self._drain_ready()
                while (self._deps.parked or self._ready) and not self._stop.is_set():
                    await self._drain_ready()
                    if not self._active and not self._ready:
                        break
                    await self._wait_changed()
                await self._fail_unresolved()
            await self._wait_in_flight(tg)

    async def _wait_in_flight(self, tg: TaskGroup) -> None:
        with self._grace_scope:
            while self._active:
                await self._wait_changed()
        tg.cancel_scope.cancel()  # what is still in flight stays IN_FLIGHT in the journal

    async def _wait_changed(self) -> None:
        await self._changed.wait()
        self._changed = anyio.Event()

    async def _feed(self, send: Any) -> None:
        async with send:
            after = 0
            while not self._stop.is_set():
                page = await self._call(
                    self.journal.operations_page, after, PENDING_STATUSES, _BATCH
                )
                if not page:
                    return
                after = page[-1].seq
                for rec in page:
                    try:
                        await send.send(rec)
                    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                        return  # the dispatcher stopped taking operations

    async def _dispatch(self, rec: OpRecord) -> None:
        if self._deps.park(rec):
            return
        failure = self._deps.failure(rec.op)
        if failure is not None:
            await self._fail_dependent(rec, *failure)
        else:
            self._active += 1
            await self._work.send(rec)  # waits for a free worker

    async def _drain_ready(self) -> None:
        while self._ready and not self._stop.is_set():
            await self._dispatch(self._ready.pop(0))

    async def _worker(self, work: Any) -> None:
        async for rec in work:
            if self._stop.is_set():  # taken after a stop: leave it for resume
                self._active -= 1
                self._changed.set()
                continue
            await self._run_one(rec)

    async def _run_one(self, rec: OpRecord) -> None:
        status = OpStatus.IN_FLIGHT
        try:
            status = await self._executor.run(rec)
        except (FatalRunError, JournalError) as exc:
            self._fatal = self._fatal or str(exc)
            self.stop()
        try:
            await self._completed(rec, status)
        finally:
            self._active -= 1
            self._changed.set()

    async def _completed(self, rec: OpRecord, status: OpStatus) -> None:
        self._counts[rec.status] -= 1
        self._counts[status] += 1
        if status in FINAL_STATUSES:
            project = rec.op.project
            self._remaining[project] = max(0, self._remaining.get(project, 0) - 1)
        elif self._stop.is_set():
            return  # not sent, or unknown, because of the stop: its dependents just wait
        for waiting, failure in self._deps.complete(rec.op.key, status):
            if failure is not None:
                await self._fail_dependent(waiting, *failure)
            else:
                self._ready.append(waiting)
        self._changed.set()

    async def _fail_dependent(self, rec: OpRecord, status: OpStatus, message: str) -> None:
        self.writer.record(rec.op.key, status=status, error="dependency", message=message)
        await self._completed(rec, status)

    async def _fail_unresolved(self) -> None:
        if self._stop.is_set():
            return
        for rec in self._deps.take_parked():
            message = f"waits on {', '.join(self._deps.unmet(rec.op))}: a dependency cycle"
            await self._fail_dependent(rec, OpStatus.FAILED_PERM, message)

    async def _watch_rate_limits(self) -> None:
        with self._watch_scope:
            await self._watch_rate_limits_forever()

    async def _watch_rate_limits_forever(self) -> None:
        while True:
            await self._note_rate_limits()
            if time.monotonic() - self._saved_at >= 5.0:  # so a killed session still counts
                await self._save_elapsed()
            await anyio.sleep(1.0)

    async def _save_elapsed(self) -> None:
        self._saved_at = time.monotonic()
        await self._call(self.journal.set_meta, elapsed_seconds=round(self._total_elapsed(), 3))

    def _total_elapsed(self) -> float:
        """Time spent sending, summed over every session of the run."""
        return self._elapsed_before + time.monotonic() - self._started

    async def _note_rate_limits(self) -> None:
        """Journal the 429s the budgets saw since the last look (one event per look)."""
        seen = 0
        for conn in self.connections.values():
            seen += conn.budget.statistics().rate_limited
        if seen > self._rate_limited_seen:
            detail = {"count": seen - self._rate_limited_seen}
            self._rate_limited_seen = seen
            await self._call(self.journal.add_event, "rate_limited", None, detail)

    async def _finish(self) -> RunResult:
        await self._note_rate_limits()
        counts = dict(await self._call(self.journal.counts))
        left = sum(counts.get(s, 0) for s in PENDING_STATUSES)
        interrupted = self._stop.is_set() and not self._fatal and left > 0
        phase = (
            "fatal"
            if self._fatal
            else "interrupted"
            if interrupted
            else ("incomplete" if left else "complete")
        )
        await self._call(
            self.journal.set_meta,
            phase=phase,
            finished_at=time.time(),
            elapsed_seconds=round(self._total_elapsed(), 3),
        )
        return RunResult(counts, interrupted, self._fatal, time.monotonic() - self._started)

    # -- snapshots -------------------------------------------------------------------------

    def statistics(self) -> RunnerStatistics:
        """Counts by status, in flight, 429s seen, elapsed and the ETA from the budgets."""
        paused = None
        rate_limited = 0
        for conn in self.connections.values():
            stats = conn.budget.statistics()
            rate_limited += stats.rate_limited
            until = stats.paused_until
            if until is not None and (paused is None or until > paused):
                paused = until
        remaining = sum(self._counts.get(s, 0) for s in PENDING_STATUSES)
        return RunnerStatistics(
            counts=dict(self._counts),
            in_flight=self._active,
            remaining=remaining,
            rate_limited=rate_limited,
            paused_until=paused,
            elapsed=self._total_elapsed(),
            eta_seconds=self._eta(self._remaining),
        )

    def _eta(self, remaining: Mapping[str, int]) -> float | None:
        etas = []
        for project, n in remaining.items():
            conn = self.connections.get(project)
            if conn is None or not n:
                continue
            try:
                etas.append(float(conn.budget.eta(n)))
            except (ArithmeticError, TypeError, ValueError):  # an ETA is informative only
                return None
        return max(etas, default=0.0)

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await self.writer.call(functools.partial(fn, *args, **kwargs))
