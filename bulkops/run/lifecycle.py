"""The run lifecycle: start a job's run, resume a run, revert a run.

``Lifecycle(settings, hooks)`` is what the CLI, the demo and the Python API call; it owns every
rule about a run's life, so that callers only parse, call and print (through ``RunHooks``):

- ``start``: a new journal (``RunMeta``), list, plan, confirm, send;
- ``resume``: go on from the journal: a run whose plan was never frozen (``listing``,
  ``abandoned``) is planned again, any other is sent as frozen (its PLANNED operations
  verified first); a ``complete`` run has nothing to resume;
- ``revert``: a new run whose plan undoes another run's DONE operations.

One process at a time per run (``JournalLock``): a second ``run``/``resume`` of a run, or a
``revert`` of a run still going, is refused with ``JournalInUseError``; a revert holds the lock
of the run it reverts until it ends, so that run is neither resumed nor reverted twice meanwhile.

None of them raises for what a user can fix: the ``RunOutcome`` carries the exit code and the
message. A run that ends with a usage or fatal error before its plan was frozen is
``abandoned``; a new one is then removed from the state dir (nothing was planned nor sent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bulkops.errors import ConfigError, JournalError
from bulkops.run.connections import (
    DEFAULT_CONCURRENCY,
    ConnectionSettings,
    open_stored_connections,
    resolve_connections,
    resolve_limits,
)
from bulkops.run.hooks import RunHooks
from bulkops.run.job import Job
from bulkops.run.journal import Journal
from bulkops.run.loader import is_job_path, load_job_class
from bulkops.run.lock import JournalLock
from bulkops.run.meta import REVERT_JOB, RunMeta
from bulkops.run.planner import Scope
from bulkops.run.projects import ProjectsFile, check_project_name
from bulkops.run.results import RunOutcome
from bulkops.run.revert import plan_revert
from bulkops.run.session import execute
from bulkops.run.settings import RunSettings
from bulkops.run.statedir import StateDir, check_run_id
from bulkops.run.statedir import new_run_id as make_run_id
from bulkops.run.states import ExitCode, Phase

__all__ = ["Lifecycle"]


@dataclass
class Lifecycle:
    """Runs under one ``RunSettings``, shown through one ``RunHooks``."""

    settings: RunSettings = field(default_factory=RunSettings)
    hooks: RunHooks = field(default_factory=RunHooks)

    # -- start -----------------------------------------------------------------------------

    async def start(self, job_spec: str, job: Job, *, run_id: str | None = None) -> RunOutcome:
        """Create a run of ``job`` (``job_spec``: a built-in name or a job file), plan, send."""
        settings = self.settings
        try:
            _check_options(job)
            names, named, scopes = _layout(job, settings.projects)
            own = dict(job.own_connections())
            conns = resolve_connections(
                [name for name in names if name not in own],
                keys=settings.keys,
                base_urls=settings.base_urls,
                named=named,
                projects_file=ProjectsFile.find(settings.projects_file),
            )
            limits, origin = self._limits()
            run_id = check_run_id(run_id) if run_id else make_run_id(job.name or job_spec)
            spec = str(Path(job_spec).resolve()) if is_job_path(job_spec) else job_spec
            meta = RunMeta.new(
                run_id,
                spec,
                job.options,
                {**{p: c.base_url for p, c in conns.items()}, **_urls(own)},
                limits,
                settings.concurrency or DEFAULT_CONCURRENCY,
                named=named,
                scopes=[scope.source for scope in scopes if scope.renames],
            )
            state = settings.state()
            journal, lock = state.create(run_id, meta.to_dict())
        except (ConfigError, JournalError) as exc:
            return RunOutcome(run_id, ExitCode.USAGE, message=str(exc), error=exc)
        outcome = RunOutcome(run_id, ExitCode.USAGE)
        try:
            outcome = await self._execute(
                journal, conns, (limits, origin), job, fresh=True, scopes=scopes, own=own
            )
            return outcome
        finally:
            journal.close()
            if not outcome.kept:  # nothing was planned nor sent: no run is left behind
                state.discard(run_id)
            lock.release()

    # -- resume ----------------------------------------------------------------------------

    async def resume(self, run_id: str | None = None) -> RunOutcome:
        """Go on with run ``run_id`` (None: the latest unfinished run) from its journal."""
        hooks = self.hooks
        try:
            state = self.settings.state()
            run_id = run_id or state.latest(unfinished=True)
            journal, lock = state.open_locked(run_id)
        except (ConfigError, JournalError) as exc:
            return RunOutcome(run_id, ExitCode.USAGE, message=str(exc), error=exc)
        reverted: JournalLock | None = None
        try:
            meta = RunMeta.from_dict(journal.meta())
            if meta.phase == Phase.COMPLETE:
                text = f"run {run_id} is complete: nothing to resume"
                hooks.event("notice", {"message": text, "run_id": run_id}, text)
                return RunOutcome(run_id, ExitCode.OK)
            replan = meta.phase in (Phase.LISTING, Phase.ABANDONED)  # nothing frozen yet
            scopes = [Scope(name) for name in meta.scopes] or [Scope()]
            if not replan and meta.plan_failures:  # fan-out projects whose plan failed
                replan, scopes = True, [Scope(name) for name in meta.plan_failures]
                journal.set_meta(confirmed=False)  # a new part of the plan: confirm it again
            job = None
            reverted = _lock_reverted_run(state, meta)  # held while this revert goes on
            if replan and meta.is_revert:
                _plan_revert_into(journal, state, meta.job_options, locked=reverted is not None)
                replan = False
            elif replan:
                job = load_job_class(meta.job)(meta.job_options)
            conns, own = self.run_connections(meta)
            limits, origin = self._limits(meta.limits)
            if [list(x) for x in limits] != meta.limits:
                journal.set_meta(limits=[list(x) for x in limits])  # the pace from now on
            hooks.event("resume", {"run_id": run_id}, f"resuming run {run_id}")
            return await self._execute(
                journal, conns, (limits, origin), job, replan=replan, scopes=scopes, own=own
            )
        except (ConfigError, JournalError) as exc:
            return RunOutcome(run_id, ExitCode.USAGE, message=str(exc), error=exc)
        finally:
            journal.close()
            if reverted is not None:
                reverted.release()
            lock.release()

    # -- revert ----------------------------------------------------------------------------

    async def revert(
        self, run_id: str, *, force: bool = False, new_run_id: str | None = None
    ) -> RunOutcome:
        """A new run undoing the DONE operations of ``run_id`` (``force``: overwrite what
        changed since)."""
        state = self.settings.state()
        try:
            original, original_lock = state.open_locked(run_id)
        except (ConfigError, JournalError) as exc:
            return _refused(run_id, exc)
        # The run stays locked until its revert ends: no resume nor second revert meanwhile.
        try:
            meta = RunMeta.from_dict(original.meta())
            conns, own = self.run_connections(meta)
            limits, origin = self._limits(meta.limits, f"run {run_id}'s journal")
            revert_id = check_run_id(new_run_id or make_run_id(f"revert-{run_id}"))
        except (ConfigError, JournalError) as exc:
            original_lock.release()
            return _refused(run_id, exc)
        finally:
            original.close()
        try:
            return await self._revert(run_id, revert_id, meta, (conns, own), limits, origin, force)
        finally:
            original_lock.release()

    async def _revert(
        self,
        run_id: str,
        revert_id: str,
        meta: RunMeta,
        connections: tuple[dict[str, ConnectionSettings], dict[str, Any]],
        limits: Any,
        origin: str,
        force: bool,
    ) -> RunOutcome:
        """Plan and send the revert of ``run_id`` (whose lock the caller holds)."""
        state = self.settings.state()
        conns, own = connections

        revert_meta = RunMeta.new(
            revert_id,
            REVERT_JOB,
            {"of": run_id, "force": force},
            meta.connections,
            limits,
            self.settings.concurrency or DEFAULT_CONCURRENCY,
            # The revert writes to the projects the run wrote to: checked before sending.
            project_ids=meta.project_ids,
            named=meta.named,
        )
        try:
            journal, lock = state.create(revert_id, revert_meta.to_dict())
        except (ConfigError, JournalError) as exc:
            return _refused(run_id, exc)
        try:
            _plan_revert_into(journal, state, revert_meta.job_options, locked=True)
        except (ConfigError, JournalError) as exc:
            journal.close()
            lock.release()
            return _refused(run_id, exc)
        text = f"revert run id: {revert_id}"
        self.hooks.event("run", {"run_id": revert_id, "reverts": run_id}, text)
        try:
            outcome = await self._execute(
                journal, conns, (limits, origin), None, replan=False, verify_planned=True, own=own
            )
            outcome.reverts = run_id
            return outcome
        finally:
            journal.close()
            lock.release()

    # -- shared ----------------------------------------------------------------------------

    async def _execute(
        self,
        journal: Journal,
        conns: Mapping[str, ConnectionSettings],
        limits_origin: tuple[Any, str],
        job: Job | None,
        **how: Any,
    ) -> RunOutcome:
        return await execute(journal, self.settings, self.hooks, conns, limits_origin, job, **how)

    def _limits(self, stored: Any = None, stored_in: str = "the journal") -> tuple[Any, str]:
        given = self.settings.mutation_limits
        limits, origin = resolve_limits(given, stored, stored_in=stored_in)
        return limits, self.settings.limits_origin if origin == "--mutation-limit" else origin

    def run_connections(
        self, meta: RunMeta
    ) -> tuple[dict[str, ConnectionSettings], dict[str, Any]]:
        """A stored run's connections: resolved projects, and those it opens itself (files)."""
        own = open_stored_connections(meta.connections)
        conns = resolve_connections(
            [name for name in meta.connections if name not in own],
            keys=self.settings.keys,
            base_urls=self.settings.base_urls,
            stored_urls=meta.connections,
            named=meta.named,
            projects_file=ProjectsFile.find(self.settings.projects_file),
        )
        return conns, own


def _refused(run_id: str, exc: Exception) -> RunOutcome:
    """A revert of ``run_id`` that did not start (nothing sent)."""
    return RunOutcome(None, ExitCode.USAGE, message=str(exc), error=exc, reverts=run_id)


def _urls(own: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(conn.base_url) for name, conn in own.items()}


def _layout(
    job: Job, projects: Sequence[str]
) -> tuple[tuple[str, ...], dict[str, str], list[Scope]]:
    """The run's connections, which of them are named projects, and the scopes to plan.

    Without ``projects``: ``source`` (and the job's extra connections). With them: one
    connection and one scope per project (a job that also writes to a target takes one).
    """
    names = [check_project_name(p) for p in dict.fromkeys(projects)]
    named = {c: check_project_name(str(job.options[o])) for c, o in job.project_options.items()
             if job.options.get(o)}  # fmt: skip
    if not names:
        return ("source", *job.projects), named, [Scope()]
    if len(names) > 1 and job.projects:
        raise ConfigError(
            f"job {job.name} writes to {', '.join(job.projects)} as well: it runs on one source "
            f"project at a time (one --project); run it once per project"
        )
    clash = sorted(set(names) & {"source", *job.projects})
    if clash:
        raise ConfigError(f"--project {clash[0]}: that name is taken by a connection of the job")
    named.update({name: name for name in names})
    return (*names, *job.projects), named, [Scope(name) for name in names]


def _check_options(job: Job) -> None:
    try:
        orjson.dumps(job.options)
    except TypeError as exc:
        raise ConfigError(
            f"the options of job {job.name or type(job).__name__} are not JSON ({exc}): "
            "a run stores them in its journal"
        ) from None


def _plan_revert_into(
    journal: Journal, state: StateDir, options: Mapping[str, Any], *, locked: bool = False
) -> None:
    """Freeze the revert plan of run ``options["of"]`` into ``journal`` (one transaction);
    ``locked``: the caller holds that run's lock."""
    run_id = str(options["of"])
    original = state.open_readonly(run_id) if locked else None
    lock = None
    if original is None:
        original, lock = state.open_locked(run_id)
    try:
        journal.clear_plan()
        journal.add_plan(plan_revert(original, force=bool(options.get("force"))))
        journal.set_meta(phase=Phase.PLANNED.value)
    finally:
        original.close()
        if lock is not None:
            lock.release()


def _lock_reverted_run(state: StateDir, meta: RunMeta) -> JournalLock | None:
    """For a revert run, the lock of the run it reverts (None: not a revert, or that run's
    journal is gone); JournalInUseError while another process holds it."""
    if not meta.is_revert:
        return None
    run_id = str(meta.job_options.get("of"))
    path = state.journal_path(run_id)
    if not path.exists():
        return None
    lock = JournalLock(path)
    lock.acquire(run_id)
    return lock
