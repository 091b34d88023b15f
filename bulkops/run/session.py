"""Driving one run for a command: clients, signals, plan, confirmation, mutation, outcome.

``drive()`` opens one ``ConsoleClient`` per connection, (re)plans when asked, hands the plan
summary to a ``decide`` callback (print it, ask, or stop for a dry run), then mutates with
progress. SIGINT/SIGTERM stop cleanly: while planning, the plan is dropped (nothing was sent);
while mutating, no new operation starts, in-flight ones get a grace period, and the outcome
says "interrupted" (exit 3). A second signal stops at once; the journal stays consistent
because every IN_FLIGHT row was committed before its request went out.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from bulkops.api.errors import ApiError, AuthError, ConfigError
from bulkops.run.job import Job, JobConfigError
from bulkops.run.journal import Journal, JournalError
from bulkops.run.progress import ProgressPrinter
from bulkops.run.runner import PlanSummary, Runner, RunResult

__all__ = ["Outcome", "drive"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_FATAL = 0, 1, 2, 3, 4

Decide = Callable[[PlanSummary], Awaitable[bool]]


@dataclass
class Outcome:
    """How a driven run ended, and the exit code that says so."""

    exit_code: int
    summary: PlanSummary | None = None
    result: RunResult | None = None
    message: str | None = None


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
    progress: ProgressPrinter | None = None,
    notify: Callable[[str], None] = lambda _: None,
) -> Outcome:
    """Run the phases; ``clients`` are connection objects, not yet entered."""
    try:
        async with contextlib.AsyncExitStack() as stack:
            entered = {name: await stack.enter_async_context(c) for name, c in clients.items()}
            runner = Runner(journal, entered, job=job, concurrency=concurrency)
            return await _phases(runner, replan, decide, progress, notify)
    except Exception as group:
        exc = _leaf(group)
        if isinstance(exc, (JobConfigError, ConfigError)):
            return Outcome(EXIT_USAGE, message=str(exc))
        if isinstance(exc, AuthError):
            return Outcome(EXIT_FATAL, message=f"{exc}: check the API key")
        if isinstance(exc, ApiError):
            return Outcome(EXIT_FATAL, message=f"the API failed while listing or planning: {exc}")
        if isinstance(exc, JournalError):
            return Outcome(EXIT_FATAL, message=f"the journal is broken: {exc}")
        raise


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
                return Outcome(EXIT_OK, summary)
            state.mutating = True  # from here on, a signal stops the runner instead
            notify(f"sending {summary.to_send} operation(s); Ctrl-C stops cleanly")
        if summary is None or planning.cancel_called:
            tg.cancel_scope.cancel()
            return Outcome(EXIT_INTERRUPTED, message="interrupted before anything was sent")
        if progress is not None:
            tg.start_soon(progress.follow, runner)
        result = await runner.mutate()
        if progress is not None:
            progress.show(runner.statistics())
            progress.close()
        tg.cancel_scope.cancel()
    return Outcome(result.exit_code, summary, result, message=result.fatal)


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
