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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from bulkops.errors import ApiError, AuthError, ConfigError
from bulkops.run.identity import META_KEY, check_project_ids, read_project_ids
from bulkops.run.job import Job
from bulkops.run.journal import Journal, JournalError
from bulkops.run.killpoint import with_kill_point
from bulkops.run.progress import ProgressPrinter
from bulkops.run.runner import PlanSummary, Runner, RunResult
from bulkops.run.states import ExitCode

__all__ = ["Outcome", "drive"]

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
) -> Outcome:
    """Run the phases; ``clients`` are connection objects, not yet entered.

    ``key_hints`` name, per connection, where its key comes from (for messages);
    ``verify_planned`` is passed to the ``Runner``.
    """
    try:
        async with contextlib.AsyncExitStack() as stack:
            opened = {name: await stack.enter_async_context(c) for name, c in clients.items()}
            entered = with_kill_point(opened)
            await _check_projects(journal, entered, replan, key_hints)
            runner = Runner(
                journal,
                entered,
                job=job,
                concurrency=concurrency,
                read_concurrency=read_concurrency,
                verify_planned=verify_planned,
            )
            return await _phases(runner, replan, decide, progress, notify)
    except Exception as group:
        exc = _leaf(group)
        if isinstance(exc, ConfigError):
            return Outcome(ExitCode.USAGE, message=str(exc), error=exc)
        if isinstance(exc, AuthError):
            return Outcome(ExitCode.FATAL, message=str(exc), error=exc)
        if isinstance(exc, ApiError):
            message = f"the API failed while listing or planning: {exc}"
            return Outcome(ExitCode.FATAL, message=message, error=exc)
        if isinstance(exc, JournalError):
            return Outcome(ExitCode.FATAL, message=f"the journal is broken: {exc}", error=exc)
        raise


async def _check_projects(
    journal: Journal, clients: Mapping[str, Any], replan: bool, hints: Mapping[str, str] | None
) -> None:
    """Record the connections' project ids (a new plan) or check them (a frozen one)."""
    current = await read_project_ids(clients)
    meta = await anyio.to_thread.run_sync(journal.meta)
    if not replan:
        check_project_ids(str(meta.get("run_id")), meta.get(META_KEY), current, hints)
        return
    known = {name: ident for name, ident in current.items() if ident}
    await anyio.to_thread.run_sync(lambda: journal.set_meta(**{META_KEY: known}))


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
    return Outcome(ExitCode(result.exit_code), summary, result, message=result.fatal)


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
