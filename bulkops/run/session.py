"""Driving one run for a command: clients, signals, plan, confirmation, mutation, outcome.

``drive()`` opens one ``ConsoleClient`` per connection, (re)plans when asked, hands the plan
summary to a ``decide`` callback (print it, ask, or stop for a dry run), then mutates with
progress. SIGINT/SIGTERM stop cleanly: while planning, the plan is dropped (nothing was sent);
while mutating, no new operation starts, in-flight ones get a grace period, and the outcome
says "interrupted" (exit 3). A second signal stops at once; the journal stays consistent
because every IN_FLIGHT row was committed before its request went out.

Before planning, each connection's project id is read (``GET /project``) and recorded; a run
that is resumed (or a revert) checks the key given now belongs to the same project.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from bulkops.api.config import resolve_read_concurrency
from bulkops.errors import (
    ApiError,
    AuthError,
    ConfigError,
    NotConfirmedError,
    ServerWaitTooLongError,
)
from bulkops.run.budgets import (
    longest_span,
    make_clients,
    preload_budgets,
    resolve_budget_url,
    share_budgets,
)
from bulkops.run.connections import (
    DEFAULT_CONCURRENCY,
    SOURCE,
    ConnectionSettings,
    format_limits,
    key_hint,
)
from bulkops.run.hooks import RunHooks
from bulkops.run.identity import META_KEY, check_project_ids, read_project_id
from bulkops.run.job import Job
from bulkops.run.journal import Journal, JournalError
from bulkops.run.killpoint import with_kill_point
from bulkops.run.meta import RunMeta
from bulkops.run.planner import Scope
from bulkops.run.planview import format_duration, format_plan_summary, plan_summary_dict
from bulkops.run.progress import ProgressPrinter
from bulkops.run.recent import recent_sends
from bulkops.run.results import RunOutcome
from bulkops.run.runner import PlanSummary, Runner, RunResult
from bulkops.run.settings import RunSettings
from bulkops.run.states import ExitCode, Phase

__all__ = ["Outcome", "drive", "execute"]

Decide = Callable[[PlanSummary], Awaitable[bool]]


@dataclass
class Outcome:
    """How a driven run ended, and the exit code that says so."""

    exit_code: ExitCode
    summary: PlanSummary | None = None
    result: RunResult | None = None
    message: str | None = None
    error: BaseException | None = None
    """The exception behind ``message``, for a debug traceback."""


@dataclass
class _SignalState:
    mutating: bool = False
    stopping: bool = False
    interrupted: bool = False


async def drive(
    journal: Journal,
    clients: Mapping[str, Any],
    *,
    job: Job | None,
    replan: bool,
    decide: Decide,
    concurrency: int,
    read_concurrency: int = 16,
    progress: ProgressPrinter | None = None,
    notify: Callable[[str], None] = lambda _: None,
    key_hints: Mapping[str, str] | None = None,
    verify_planned: bool | None = None,
    scopes: Sequence[Scope] | None = None,
    budget_url: str | None = None,
    keep_budgets: Collection[str] = (),
) -> Outcome:
    """Run the phases; ``clients`` are connection objects, not yet entered.

    ``key_hints`` name, per connection, where its key comes from (for messages);
    ``verify_planned`` and ``scopes`` (what to plan) are passed to the ``Runner``; with
    ``budget_url`` the clients' budgets are shared through Redis by project id (but those of
    the connections in ``keep_budgets``).
    """
    try:
        async with contextlib.AsyncExitStack() as stack:
            opened = {name: await stack.enter_async_context(c) for name, c in clients.items()}
            entered = with_kill_point(opened)
            fanned = {scope.source for scope in scopes or () if scope.renames}
            ids, unreachable = await _check_projects(journal, entered, replan, key_hints, fanned)
            keep = (*keep_budgets, *unreachable)
            await _set_up_budgets(journal, opened, ids, keep, notify, stack, budget_url)
            runner = Runner(
                journal,
                entered,
                job=job,
                concurrency=concurrency,
                read_concurrency=read_concurrency,
                verify_planned=verify_planned,
                scopes=scopes,
                unreachable=unreachable,
            )
            return await _phases(runner, replan, decide, progress, notify)
    except Exception as group:
        exc = _leaf(group)
        if isinstance(exc, ConfigError):
            return Outcome(ExitCode.USAGE, message=str(exc), error=exc)
        if isinstance(exc, ServerWaitTooLongError):
            message = f"interrupted while listing or planning: {exc}"
            return Outcome(ExitCode.INTERRUPTED, message=message, error=exc)
        if isinstance(exc, AuthError):
            return Outcome(ExitCode.FATAL, message=str(exc), error=exc)
        if isinstance(exc, ApiError):
            message = f"the API failed while listing or planning: {exc}"
            return Outcome(ExitCode.FATAL, message=message, error=exc)
        if isinstance(exc, JournalError):
            return Outcome(ExitCode.FATAL, message=f"the journal is broken: {exc}", error=exc)
        raise


async def _check_projects(
    journal: Journal,
    clients: Mapping[str, Any],
    replan: bool,
    hints: Mapping[str, str] | None,
    fanned: Collection[str] = (),
) -> tuple[dict[str, str | None], dict[str, ApiError]]:
    """Record the connections' project ids (a new plan) or check them (a frozen one).

    A project of a fan-out run (``fanned``) that cannot be read (its key rejected, an outage)
    is returned apart: the run's other projects go on without it.
    """
    current: dict[str, str | None] = {}
    unreachable: dict[str, ApiError] = {}
    for name, conn in clients.items():
        try:
            current[name] = await read_project_id(conn)
        except ApiError as exc:
            if name not in fanned:
                raise
            unreachable[name] = exc
    meta = await anyio.to_thread.run_sync(journal.meta)
    stored = meta.get(META_KEY) or {}
    check_project_ids(str(meta.get("run_id")), stored, current, hints)
    if replan:
        known = {**stored, **{name: ident for name, ident in current.items() if ident}}
        await anyio.to_thread.run_sync(lambda: journal.set_meta(**{META_KEY: known}))
    return current, unreachable


async def _set_up_budgets(
    journal: Journal,
    clients: Mapping[str, Any],
    ids: Mapping[str, str | None],
    keep: Collection[str],
    notify: Callable[[str], None],
    stack: contextlib.AsyncExitStack,
    budget_url: str | None,
) -> None:
    """Share the budgets through Redis with ``budget_url``; in either case count what this
    state dir sent lately (``bulkops.run.recent``): in the in-process budgets, or in a shared
    log that Redis lost, and say so."""
    horizon = longest_span(clients)
    found = await anyio.to_thread.run_sync(lambda: recent_sends(journal, ids, horizon))
    if budget_url:
        counted = await share_budgets(stack, clients, ids, budget_url, keep=keep, recent=found)
    else:
        counted = preload_budgets(clients, found, keep=keep)
    named = RunMeta.from_dict(await anyio.to_thread.run_sync(journal.meta)).named
    for name, n in counted.items():
        where = "" if name == SOURCE else f" to project {named.get(name, name)}"
        notify(
            f"budget: {n} mutation(s) sent{where} in the last {format_duration(horizon)} by "
            "runs in this state dir still count against its windows"
        )


def _leaf(exc: BaseException) -> BaseException:
    """The one error inside (nested) exception groups, or the group itself."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


async def _phases(
    runner: Runner,
    replan: bool,
    decide: Decide,
    progress: ProgressPrinter | None,
    notify: Callable[[str], None],
) -> Outcome:
    state = _SignalState()
    async with anyio.create_task_group() as tg:
        planning = anyio.CancelScope()
        if threading.current_thread() is threading.main_thread():  # signals reach only it
            tg.start_soon(_watch_signals, runner, planning, state, notify)
        summary: PlanSummary | None = None
        with planning:
            summary = await runner.freeze_and_plan() if replan else await runner.summary()
            if not await decide(summary):
                tg.cancel_scope.cancel()
                return Outcome(ExitCode.OK, summary)
            state.mutating = True  # from here on, a signal stops the runner instead
            notify(f"sending {summary.to_send} operation(s); Ctrl-C stops cleanly")
        if summary is None or planning.cancel_called:
            tg.cancel_scope.cancel()
            return Outcome(ExitCode.INTERRUPTED, message="interrupted before anything was sent")
        if progress is not None:
            tg.start_soon(progress.follow, runner)
        result = await runner.mutate()
        if progress is not None:
            progress.show(runner.statistics())
            progress.close()
        tg.cancel_scope.cancel()
    return Outcome(ExitCode(result.exit_code), summary, result, message=result.message)


async def _watch_signals(
    runner: Runner,
    planning: anyio.CancelScope,
    state: _SignalState,
    notify: Callable[[str], None],
) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            state.interrupted = True
            if not state.mutating:
                planning.cancel()
            elif not state.stopping:
                state.stopping = True
                notify("stopping: waiting for requests in flight (press Ctrl-C again to stop now)")
                runner.stop()
            else:
                runner.abort()


# -- executing -----------------------------------------------------------------------------


async def execute(
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
    scopes: Sequence[Scope] | None = None,
    own: Mapping[str, Any] | None = None,
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
    try:
        reads = resolve_read_concurrency(settings.read_concurrency)
    except ConfigError as exc:
        return RunOutcome(run_id, ExitCode.USAGE, message=str(exc), error=exc, kept=not fresh)
    outcome: Outcome = await drive(
        journal,
        {**make_clients(conns, limits, settings.budgets, reads), **(own or {})},
        job=job,
        replan=replan,
        decide=decide,
        concurrency=int(concurrency),
        read_concurrency=reads,
        progress=hooks.progress,
        notify=lambda text: hooks.event("notice", {"message": text}, text),
        key_hints={name: c.key_source or key_hint(name) for name, c in conns.items()},
        verify_planned=verify_planned,
        scopes=scopes,
        budget_url=resolve_budget_url(settings.budget_url),
        keep_budgets=(*settings.budgets, *(own or {})),
    )
    discard = False
    exit_code = ExitCode(outcome.exit_code)
    if exit_code in (ExitCode.USAGE, ExitCode.FATAL) and journal.meta().get("phase") == "listing":
        journal.set_meta(phase=Phase.ABANDONED.value)  # nothing was sent: not a run to resume
        discard = fresh
    if not discard:
        announce()
    message = outcome.message
    failures = journal.meta().get("plan_failures") or {}
    if failures and not discard:
        unplanned = "; ".join(f"project {p}: {f['message']}" for p, f in failures.items())
        message = "; ".join(m for m in (message, f"not planned: {unplanned}") if m)
        if exit_code == ExitCode.OK:
            exit_code = ExitCode.FAILED
    return RunOutcome(
        run_id,
        exit_code,
        outcome.summary,
        outcome.result,
        message,
        outcome.error,
        kept=not discard,
    )
