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
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
from anyio.abc import TaskGroup

from bulkops.errors import BulkopsError, RunInterrupted
from bulkops.run.context import Connection
from bulkops.run.dependencies import DependencyTracker
from bulkops.run.execute import FatalRunError, OperationExecutor
from bulkops.run.job import Job, JobConfigError
from bulkops.run.journal import Journal, JournalError, OpRecord
from bulkops.run.planner import Planner, Scope
from bulkops.run.results import (
    PlanSummary,
    ProjectPlan,
    RunnerStatistics,
    RunResult,
)
from bulkops.run.sendgate import stop_sending
from bulkops.run.states import FINAL_STATUSES, PENDING_STATUSES, OpStatus
from bulkops.run.tally import RunTally, eta_of, project_plans
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
        scopes: Sequence[Scope] | None = None,
        unreachable: Mapping[str, BulkopsError] | None = None,
    ) -> None:
        self.journal = journal
        self.scopes = tuple(scopes or (Scope(),))
        #: Projects of a fan-out run that could not be read: not planned, not sent to.
        self.unreachable = dict(unreachable or {})
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
        #: Per project, the unbuffered stream its workers take operations from.
        self._work: dict[str, Any] = {}
        self._feeding: set[str] = set()
        self._stop = anyio.Event()
        self._changed = anyio.Event()
        self.tally = RunTally(connections)
        self._started = time.monotonic()
        self._fatal: str | None = None
        self._ready: dict[str, list[OpRecord]] = {}
        self._deps = DependencyTracker({})
        self._rate_limited_seen = 0
        self._watch_scope = anyio.CancelScope()
        self._grace_scope = anyio.CancelScope()

    # -- list → freeze → plan ------------------------------------------------------------------

    async def freeze_and_plan(self) -> PlanSummary:
        """List every source into the journal, then plan from the frozen items (per scope)."""
        if self.job is None:
            raise JobConfigError("this run has no job to plan with")
        if not any(scope.renames for scope in self.scopes):  # a fan-out run's replan keeps
            await self._call(self.journal.set_meta, phase="listing")  # its phase meanwhile
        planner = Planner(
            self.journal, self.connections, self._call, read_concurrency=self.read_concurrency
        )
        failures = await planner.plan(self.job, self.scopes, self.unreachable)
        failed = {f.project: f.to_meta() for f in failures}
        await self._call(
            self.journal.set_meta, phase="planned", planned_at=time.time(), plan_failures=failed
        )
        self._planned_here = True
        return await self.summary()

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
            eta_seconds=eta_of(self.connections, remaining),
            projects=await self._project_plans(remaining),
            notes=tuple((await self._call(self.journal.meta)).get("plan_lines") or ()),
        )

    async def _project_plans(self, remaining: Mapping[str, int]) -> dict[str, ProjectPlan]:
        """Each project's part of a fan-out plan (empty for a run without ``--project``)."""
        if not any(scope.renames for scope in self.scopes):
            return {}
        return project_plans(self.connections, await self._call(self.journal.meta), remaining)

    # -- mutate ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop taking new operations; the ones in flight finish (bounded by the grace time)."""
        self._stop.set()
        self._notify()
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
        self.tally.load(
            await self._call(self.journal.counts),
            await self._call(self.journal.remaining_by_project),
            await self._call(self.journal.counts_by_project),
        )
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
        """One pipeline per project (its feed, its ``concurrency`` workers), so a project
        waiting for its windows never holds back another's operations."""
        projects = sorted(p for p, n in self.tally.remaining.items() if n)
        self._feeding = set(projects)
        async with anyio.create_task_group() as tg:
            async with anyio.create_task_group() as pipelines:
                for project in projects:
                    pipelines.start_soon(self._pipeline, project, tg)
            await self._fail_unresolved()
            await self._wait_in_flight(tg)

    async def _pipeline(self, project: str, tg: TaskGroup) -> None:
        send, receive = anyio.create_memory_object_stream[OpRecord](self.concurrency)
        self._work[project], work = anyio.create_memory_object_stream[OpRecord](0)
        self._ready.setdefault(project, [])
        tg.start_soon(self._feed, send, project)
        for _ in range(self.concurrency):
            tg.start_soon(self._worker, work)
        async with receive:
            async for rec in receive:
                if self._stop.is_set():
                    break
                await self._dispatch(rec)
                await self._drain_ready(project)
        self._feeding.discard(project)
        self._notify()
        while not self._stop.is_set():
            await self._drain_ready(project)
            if self._all_dispatched():
                break
            await self._wait_changed()

    def _all_dispatched(self) -> bool:
        """Every feed is done, nothing is ready, and nothing parked can still be released."""
        if self._feeding or any(self._ready.values()):
            return False
        return not self._deps.parked or not self.tally.in_flight

    async def _wait_in_flight(self, tg: TaskGroup) -> None:
        with self._grace_scope:
            while self.tally.in_flight:
                await self._wait_changed()
        tg.cancel_scope.cancel()  # what is still in flight stays IN_FLIGHT in the journal

    def _notify(self) -> None:
        """Wake every task waiting in ``_wait_changed`` (a broadcast)."""
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    async def _wait_changed(self) -> None:
        await self._changed.wait()

    async def _feed(self, send: Any, project: str) -> None:
        async with send:
            after = 0
            while not self._stop.is_set():
                page = await self._call(
                    self.journal.operations_page,
                    after,
                    PENDING_STATUSES,
                    _BATCH,
                    project=project,
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
        if rec.op.project in self.tally.halted:
            return  # left as it is for resume; the run's other projects go on
        if self._deps.park(rec):
            return
        failure = self._deps.failure(rec.op)
        if failure is not None:
            await self._fail_dependent(rec, *failure)
        else:
            self.tally.in_flight += 1
            await self._work[rec.op.project].send(rec)  # waits for a free worker

    async def _drain_ready(self, project: str) -> None:
        ready = self._ready[project]
        while ready and not self._stop.is_set():
            await self._dispatch(ready.pop(0))

    async def _worker(self, work: Any) -> None:
        async for rec in work:
            if self._stop.is_set() or rec.op.project in self.tally.halted:  # leave it for resume
                self.tally.in_flight -= 1
                self._notify()
                continue
            await self._run_one(rec)

    async def _run_one(self, rec: OpRecord) -> None:
        status = OpStatus.IN_FLIGHT
        try:
            status = await self._executor.run(rec)
        except FatalRunError as exc:
            self._halt(exc.project, "fatal", str(exc))
        except RunInterrupted as exc:
            status = rec.status
            self._halt(exc.project, "interrupted", str(exc))
        except JournalError as exc:
            self._halt(None, "fatal", str(exc))
        try:
            await self._completed(rec, status)
        finally:
            self.tally.in_flight -= 1
            self._notify()

    def _halt(self, project: str | None, kind: str, message: str) -> None:
        """Stop sending to ``project`` (None: to every project); the others go on."""
        if project is None or project not in self.connections:
            self._fatal = self._fatal or message
            self.stop()
            return
        everyone = self.tally.halt(project, kind, message)
        stop_sending(self.connections[project].budget)  # its senders waiting: not sent
        self._notify()
        if everyone:
            self.stop()

    async def _completed(self, rec: OpRecord, status: OpStatus) -> None:
        project = rec.op.project
        self.tally.moved(project, rec.status, status)
        if status not in FINAL_STATUSES and (self._stop.is_set() or project in self.tally.halted):
            return  # not sent, or unknown, because of the stop: its dependents just wait
        for waiting, failure in self._deps.complete(rec.op.key, status):
            if failure is not None:
                await self._fail_dependent(waiting, *failure)
            else:
                self._ready.setdefault(waiting.op.project, []).append(waiting)
        self._notify()

    async def _fail_dependent(self, rec: OpRecord, status: OpStatus, message: str) -> None:
        self.writer.record(rec.op.key, status=status, error="dependency", message=message)
        await self._completed(rec, status)

    async def _fail_unresolved(self) -> None:
        if self._stop.is_set():
            return
        for rec in self._deps.take_parked():
            if rec.op.project in self.tally.halted:
                continue
            message = f"waits on {', '.join(self._deps.unmet(rec.op))}: a dependency cycle"
            await self._fail_dependent(rec, OpStatus.FAILED_PERM, message)

    async def _watch_rate_limits(self) -> None:
        with self._watch_scope:
            while True:
                await self._note_rate_limits()
                if time.monotonic() - self._saved_at >= 5.0:  # so a killed session counts
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
        # a fan-out project whose plan failed is still to do: planned again by resume
        unplanned = len((await self._call(self.journal.meta)).get("plan_failures") or {})
        ending = self.tally.ending(
            counts, unplanned, stopped=self._stop.is_set(), fatal=self._fatal
        )
        await self._call(
            self.journal.set_meta,
            phase=ending.phase,
            finished_at=time.time(),
            elapsed_seconds=round(self._total_elapsed(), 3),
        )
        return ending.result(counts, time.monotonic() - self._started)

    # -- snapshots -------------------------------------------------------------------------

    def statistics(self) -> RunnerStatistics:
        """Counts by status, in flight, 429s seen, elapsed and the ETA from the budgets."""
        return self.tally.statistics(self._total_elapsed())

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await self.writer.call(functools.partial(fn, *args, **kwargs))
