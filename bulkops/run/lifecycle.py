"""The run lifecycle: start a job's run, resume a run, revert a run.

These are what the CLI, the demo and the Python API call; they own every rule about a run's
life, so that callers only parse, call and print (through ``RunHooks``):

- ``start_run``: a new journal (``RunMeta``), list, plan, confirm, send;
- ``resume_run``: go on from the journal: a run whose plan was never frozen (``listing``,
  ``abandoned``) is planned again, any other is sent as frozen (its PLANNED operations
  verified first); a ``complete`` run has nothing to resume;
- ``revert_run``: a new run whose plan undoes another run's DONE operations.

None of them raises for what a user can fix: the ``RunOutcome`` carries the exit code and the
message. A run that ends with a usage or fatal error before its plan was frozen is
``abandoned``; a new one is then removed from the state dir (nothing was planned nor sent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import orjson

from bulkops.api.budget import Budget
from bulkops.errors import ConfigError, JournalError, NotConfirmedError
from bulkops.run.connections import (
    DEFAULT_CONCURRENCY,
    ConnectionSettings,
    format_limits,
    key_hint,
    resolve_connections,
    resolve_limits,
    resolve_read_concurrency,
)
from bulkops.run.hooks import RunHooks
from bulkops.run.job import Job
from bulkops.run.journal import Journal
from bulkops.run.loader import is_job_path, load_job_class
from bulkops.run.meta import REVERT_JOB, RunMeta
from bulkops.run.planview import format_plan_summary, plan_summary_dict
from bulkops.run.results import PlanSummary, RunResult
from bulkops.run.revert import plan_revert
from bulkops.run.sendgate import StoppableBudget
from bulkops.run.session import Outcome, drive
from bulkops.run.statedir import StateDir, check_run_id, new_run_id
from bulkops.run.states import ExitCode, Phase

__all__ = ["RunOutcome", "RunSettings", "resume_run", "revert_run", "start_run"]


@dataclass(frozen=True)
class RunSettings:
    """How to run: what was given explicitly (flags, keyword arguments); the rest is resolved.

    ``keys``/``base_urls`` map connection names (``"source"``, ``"target"``) to explicit
    values; missing ones come from the environment (see ``bulkops.run.connections``).
    ``mutation_limits`` are ``"100/10s"`` strings or ``(count, seconds)`` pairs (None: the
    environment, else what the run stored, else the published policy); ``limits_origin`` is how
    the plan names where explicit ones came from. ``budgets`` maps connection names to budgets
    to use instead of new ones (e.g. one ``MutationBudget`` shared by several runs of one
    process); connections with the same key otherwise share one new budget.
    """

    state_dir: Path | str | None = None
    keys: Mapping[str, str | None] = field(default_factory=dict)
    base_urls: Mapping[str, str | None] = field(default_factory=dict)
    mutation_limits: Sequence[str | tuple[int, float]] | None = None
    limits_origin: str = "--mutation-limit"
    concurrency: int | None = None
    read_concurrency: int | None = None
    dry_run: bool = False
    yes: bool = False
    budgets: Mapping[str, Budget] = field(default_factory=dict)

    def state(self) -> StateDir:
        """The state dir these settings name (``BULKOPS_STATE_DIR``, else ``./.bulkops``)."""
        from bulkops.run.statedir import resolve_state_dir

        return StateDir(resolve_state_dir(self.state_dir))


@dataclass
class RunOutcome:
    """How a lifecycle call ended: the run (if one exists), the exit code and why."""

    run_id: str | None
    exit_code: ExitCode
    summary: PlanSummary | None = None
    result: RunResult | None = None
    message: str | None = None
    error: BaseException | None = None
    reverts: str | None = None
    """For a revert run: the id of the run it reverts."""
    kept: bool = True
    """False when the run was removed again (nothing was planned nor sent)."""


# -- start ---------------------------------------------------------------------------------


async def start_run(
    job_spec: str,
    job: Job,
    settings: RunSettings,
    hooks: RunHooks | None = None,
    *,
    run_id: str | None = None,
) -> RunOutcome:
    """Create a run of ``job`` (``job_spec``: a built-in name or a job file), plan and send it."""
    hooks = hooks or RunHooks()
    try:
        _check_options(job)
        conns = resolve_connections(
            ("source", *job.projects), keys=settings.keys, base_urls=settings.base_urls
        )
        limits, origin = _limits(settings)
        run_id = check_run_id(run_id) if run_id else new_run_id(job.name or job_spec)
        spec = str(Path(job_spec).resolve()) if is_job_path(job_spec) else job_spec
        meta = RunMeta.new(
            run_id,
            spec,
            job.options,
            {p: c.base_url for p, c in conns.items()},
            limits,
            settings.concurrency or DEFAULT_CONCURRENCY,
        )
        state = settings.state()
        journal, lock = state.create(run_id, meta.to_dict())
    except (ConfigError, JournalError) as exc:
        return RunOutcome(run_id, ExitCode.USAGE, message=str(exc), error=exc)
    outcome = RunOutcome(run_id, ExitCode.USAGE)
    try:
        outcome = await _execute(journal, settings, hooks, conns, (limits, origin), job, fresh=True)
        return outcome
    finally:
        journal.close()
        if not outcome.kept:  # nothing was planned nor sent: no run is left behind
            state.discard(run_id)
        lock.release()


def _limits(
    settings: RunSettings, stored: Any = None, stored_in: str = "the journal"
) -> tuple[Any, str]:
    limits, origin = resolve_limits(settings.mutation_limits, stored, stored_in=stored_in)
    return limits, settings.limits_origin if origin == "--mutation-limit" else origin


def _check_options(job: Job) -> None:
    try:
        orjson.dumps(job.options)
    except TypeError as exc:
        raise ConfigError(
            f"the options of job {job.name or type(job).__name__} are not JSON ({exc}): "
            "a run stores them in its journal"
        ) from None


# -- resume --------------------------------------------------------------------------------


async def resume_run(
    run_id: str | None, settings: RunSettings, hooks: RunHooks | None = None
) -> RunOutcome:
    """Go on with run ``run_id`` (None: the latest unfinished run) from its journal."""
    hooks = hooks or RunHooks()
    try:
        state = settings.state()
        run_id = run_id or state.latest(unfinished=True)
        journal, lock = state.open_locked(run_id)
    except (ConfigError, JournalError) as exc:
        return RunOutcome(run_id, ExitCode.USAGE, message=str(exc), error=exc)
    try:
        meta = RunMeta.from_dict(journal.meta())
        if meta.phase == Phase.COMPLETE:
            text = f"run {run_id} is complete: nothing to resume"
            hooks.event("notice", {"message": text, "run_id": run_id}, text)
            return RunOutcome(run_id, ExitCode.OK)
        replan = meta.phase in (Phase.LISTING, Phase.ABANDONED)  # nothing frozen yet
        job = None
        if replan and meta.is_revert:
            _plan_revert_into(journal, state, meta.job_options)
            replan = False
        elif replan:
            job = load_job_class(meta.job)(meta.job_options)
        conns = _stored_connections(meta, settings)
        limits, origin = _limits(settings, meta.limits)
        if [list(x) for x in limits] != meta.limits:
            journal.set_meta(limits=[list(x) for x in limits])  # the pace from now on
        hooks.event("resume", {"run_id": run_id}, f"resuming run {run_id}")
        return await _execute(journal, settings, hooks, conns, (limits, origin), job, replan=replan)
    except (ConfigError, JournalError) as exc:
        return RunOutcome(run_id, ExitCode.USAGE, message=str(exc), error=exc)
    finally:
        journal.close()
        lock.release()


def _stored_connections(meta: RunMeta, settings: RunSettings) -> dict[str, ConnectionSettings]:
    return resolve_connections(
        meta.connections,
        keys=settings.keys,
        base_urls=settings.base_urls,
        stored_urls=meta.connections,
    )


# -- revert --------------------------------------------------------------------------------


async def revert_run(
    run_id: str,
    settings: RunSettings,
    hooks: RunHooks | None = None,
    *,
    force: bool = False,
    new_run_id_: str | None = None,
) -> RunOutcome:
    """A new run undoing the DONE operations of ``run_id`` (``force``: overwrite later changes)."""
    hooks = hooks or RunHooks()
    state = settings.state()
    try:
        original, original_lock = state.open_locked(run_id)
    except (ConfigError, JournalError) as exc:
        return RunOutcome(None, ExitCode.USAGE, message=str(exc), error=exc, reverts=run_id)
    try:
        meta = RunMeta.from_dict(original.meta())
        conns = _stored_connections(meta, settings)
        limits, origin = _limits(settings, meta.limits, f"run {run_id}'s journal")
        revert_id = check_run_id(new_run_id_ or new_run_id(f"revert-{run_id}"))
    except (ConfigError, JournalError) as exc:
        return RunOutcome(None, ExitCode.USAGE, message=str(exc), error=exc, reverts=run_id)
    finally:
        original.close()
        original_lock.release()
    revert_meta = RunMeta.new(
        revert_id,
        REVERT_JOB,
        {"of": run_id, "force": force},
        meta.connections,
        limits,
        settings.concurrency or DEFAULT_CONCURRENCY,
        # The revert writes to the projects the run wrote to: checked before sending.
        project_ids=meta.project_ids,
    )
    try:
        journal, lock = state.create(revert_id, revert_meta.to_dict())
    except (ConfigError, JournalError) as exc:
        return RunOutcome(None, ExitCode.USAGE, message=str(exc), error=exc, reverts=run_id)
    try:
        _plan_revert_into(journal, state, revert_meta.job_options)
    except (ConfigError, JournalError) as exc:
        journal.close()
        lock.release()
        return RunOutcome(None, ExitCode.USAGE, message=str(exc), error=exc, reverts=run_id)
    text = f"revert run id: {revert_id}"
    hooks.event("run", {"run_id": revert_id, "reverts": run_id}, text)
    try:
        outcome = await _execute(
            journal,
            settings,
            hooks,
            conns,
            (limits, origin),
            None,
            replan=False,
            verify_planned=True,
        )
        outcome.reverts = run_id
        return outcome
    finally:
        journal.close()
        lock.release()


def _plan_revert_into(journal: Journal, state: StateDir, options: Mapping[str, Any]) -> None:
    """Freeze the revert plan of run ``options["of"]`` into ``journal`` (one transaction)."""
    original, original_lock = state.open_locked(str(options["of"]))
    try:
        journal.clear_plan()
        journal.add_plan(plan_revert(original, force=bool(options.get("force"))))
        journal.set_meta(phase=Phase.PLANNED.value)
    finally:
        original.close()
        original_lock.release()


# -- executing -----------------------------------------------------------------------------


async def _execute(
    journal: Journal,
    settings: RunSettings,
    hooks: RunHooks,
    conns: Mapping[str, ConnectionSettings],
    limits_origin: tuple[Any, str],
    job: Job | None,
    *,
    fresh: bool = False,
    replan: bool = True,
    verify_planned: bool | None = None,
) -> RunOutcome:
    """Drive the run; ``RunOutcome.kept`` is False when a fresh run is to be discarded."""
    limits, origin = limits_origin
    meta = RunMeta.from_dict(await anyio.to_thread.run_sync(journal.meta))
    run_id = meta.run_id
    said = not fresh

    def announce() -> None:
        nonlocal said
        if not said:  # a new run's id is said once: when it has a plan, or at its end
            said = True
            hooks.event("run", {"run_id": run_id}, f"run id: {run_id}")

    async def decide(summary: PlanSummary) -> bool:
        announce()
        if settings.dry_run:
            hooks.dry_run(journal, summary)
            await anyio.to_thread.run_sync(lambda: journal.set_meta(phase=Phase.DRY_RUN.value))
            return False
        hooks.event("plan", plan_summary_dict(summary), format_plan_summary(summary))
        hooks.event(
            "limits",
            {"limits": [list(x) for x in limits], "origin": origin},
            f"  mutation limits: {format_limits(limits)} ({origin})",
        )
        if summary.to_send == 0 or journal.meta().get("confirmed"):
            return True
        if not settings.yes and not await hooks.confirm(journal, summary):
            raise NotConfirmedError(
                f"declined: nothing sent; the plan is kept, `bulkops resume {run_id}` asks again",
                run_id,
            )
        await anyio.to_thread.run_sync(lambda: journal.set_meta(confirmed=True))
        return True

    concurrency = settings.concurrency or meta.concurrency or DEFAULT_CONCURRENCY
    reads = resolve_read_concurrency(settings.read_concurrency)
    outcome: Outcome = await drive(
        journal,
        _clients(conns, limits, settings.budgets),
        job=job,
        replan=replan,
        decide=decide,
        concurrency=int(concurrency),
        read_concurrency=reads,
        progress=hooks.progress,
        notify=lambda text: hooks.event("notice", {"message": text}, text),
        key_hints={name: key_hint(name) for name in conns},
        verify_planned=verify_planned,
    )
    discard = False
    exit_code = ExitCode(outcome.exit_code)
    if exit_code in (ExitCode.USAGE, ExitCode.FATAL) and journal.meta().get("phase") == "listing":
        journal.set_meta(phase=Phase.ABANDONED.value)  # nothing was sent: not a run to resume
        discard = fresh
    if not discard:
        announce()
    return RunOutcome(
        run_id,
        exit_code,
        outcome.summary,
        outcome.result,
        outcome.message,
        outcome.error,
        kept=not discard,
    )


def _clients(
    conns: Mapping[str, ConnectionSettings], limits: Any, given: Mapping[str, Budget]
) -> dict[str, Any]:
    """One ``ConsoleClient`` per connection; connections with one key share one budget."""
    from bulkops.api import ConsoleClient, MutationBudget

    budgets: dict[tuple[str, str], StoppableBudget] = {}
    clients = {}
    for name, c in conns.items():
        if name in given:
            budget = StoppableBudget(given[name])
        else:
            budget = budgets.setdefault(
                (c.base_url, c.api_key), StoppableBudget(MutationBudget(limits))
            )
        hint = "" if name == "source" else key_hint(name)
        clients[name] = ConsoleClient(
            api_key=c.api_key, base_url=c.base_url, budget=budget, key_hint=hint
        )
    return clients
