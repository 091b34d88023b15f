"""Driving bulkops from Python: ``run_job``, ``resume_run``, ``revert_run`` (and ``a``-versions).

For Airflow, Dagster, a notebook or a CI script: the same journal, budget, confirmation and
exit codes as the CLI, with keyword arguments instead of flags::

    import bulkops

    result = bulkops.run_job(
        "overrides", kind="gates", where=["tag=qa"], add_passing=["qa-1"], confirm=True
    )
    print(result.run_id, result.exit_code, result.counts)

- ``job``: a built-in name (``"overrides"``), a path to a job file, a ``Job`` subclass or a
  ``Job`` instance; job options are keyword arguments named like the flags (``add_passing`` for
  ``--add-passing``); unknown or missing ones raise ``JobConfigError`` naming them;
- connections: ``api_key``/``base_url`` (else ``STATSIG_CONSOLE_API_KEY``/``_URL``), and for a
  job with a target, ``keys={"target": ...}``/``base_urls={"target": ...}`` (else
  ``STATSIG_TARGET_CONSOLE_API_KEY``/``_URL``);
- ``confirm``: nothing is sent unless it is True, or a callable that gets the plan summary and
  returns True (the plan is kept either way: ``resume_run(run_id, confirm=True)`` sends it);
- ``dry_run=True`` plans only; the result's ``changes()`` lists what would change.

The ``a``-versions are coroutines for code already in an event loop (a notebook cell:
``await bulkops.arun_job(...)``). Nothing here prints; events go to the ``bulkops.run`` logger.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec

import anyio

from bulkops.api.budget import Budget
from bulkops.errors import ConfigError, JobConfigError, NotConfirmedError
from bulkops.run.hooks import LoggingHooks, RunHooks
from bulkops.run.job import Job
from bulkops.run.journal import Journal
from bulkops.run.lifecycle import Lifecycle
from bulkops.run.loader import load_job_class
from bulkops.run.planview import iter_plan_changes
from bulkops.run.report import iter_report_rows
from bulkops.run.results import PlanSummary, RunOutcome
from bulkops.run.settings import RunSettings
from bulkops.run.states import ExitCode

__all__ = [
    "JobResult",
    "aresume_run",
    "arevert_run",
    "arun_job",
    "build_job",
    "resume_run",
    "revert_run",
    "run_job",
]

P = ParamSpec("P")
Confirm = bool | Callable[[PlanSummary], bool]
JobLike = str | type[Job] | Job


@dataclass(frozen=True)
class JobResult:
    """How a run ended: its id, the exit code (as the CLI's), counts, and why when it failed."""

    run_id: str | None
    exit_code: ExitCode
    counts: Mapping[str, int] = field(default_factory=dict)
    summary: PlanSummary | None = None
    message: str | None = None
    state_dir: Path | None = None

    @property
    def ok(self) -> bool:
        """True when the run did all it planned (exit code 0)."""
        return self.exit_code == ExitCode.OK

    def changes(self) -> list[dict[str, Any]]:
        """What the plan changes, one row per entity and field (as ``--dry-run --json``)."""
        return self._read(lambda journal: list(iter_plan_changes(journal)))

    def report(self, *, failed_only: bool = False) -> list[dict[str, Any]]:
        """One row per operation (as ``bulkops report``)."""
        return self._read(lambda journal: list(iter_report_rows(journal, failed_only=failed_only)))

    def _read(self, what: Callable[[Journal], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        if self.run_id is None or self.state_dir is None:
            return []
        from bulkops.run.statedir import StateDir

        journal = StateDir(self.state_dir).open_readonly(self.run_id)
        try:
            return what(journal)
        finally:
            journal.close()


class _ApiHooks(LoggingHooks):
    """Logs events; confirms by the ``confirm`` argument."""

    def __init__(self, confirm: Confirm) -> None:
        super().__init__()
        self._confirm = confirm

    async def confirm(self, journal: Journal, summary: PlanSummary) -> bool:
        answer = self._confirm(summary) if callable(self._confirm) else self._confirm
        if inspect.isawaitable(answer):
            answer = await answer
        if not answer:
            run_id = journal.meta()["run_id"]
            raise NotConfirmedError(
                "nothing sent: pass confirm=True (or a callable returning True) to send the "
                f"plan; it is kept: resume_run({run_id!r}, confirm=True) sends it",
                run_id,
            )
        return True


def build_job(job: JobLike, options: Mapping[str, Any] | None = None) -> tuple[str, Job]:
    """``(spec, job)`` from a built-in name, a job file, a ``Job`` class or instance.

    ``options`` are the job's options by flag name (``add_passing`` for ``--add-passing``);
    what is not given takes the flag's default. A ``Job`` instance is used as it is.
    """
    if isinstance(job, Job):
        return job.name or type(job).__name__, job
    job_cls = load_job_class(job) if isinstance(job, str) else job
    spec = job if isinstance(job, str) else (job_cls.name or job_cls.__name__)
    return spec, job_cls(_job_options(job_cls, dict(options or {})))


def _job_options(job_cls: type[Job], given: dict[str, Any]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog=job_cls.name or job_cls.__name__, add_help=False)
    job_cls.add_arguments(parser)
    actions = {a.dest: a for a in parser._actions}
    unknown = sorted(set(given) - set(actions))
    if unknown:
        known = ", ".join(sorted(actions)) or "none"
        raise JobConfigError(
            f"job {job_cls.name or job_cls.__name__} has no option {unknown[0]!r}; "
            f"its options: {known}"
        )
    options: dict[str, Any] = {}
    for dest, action in actions.items():
        if dest in given:
            value = given[dest]
            if isinstance(action, argparse._AppendAction) and isinstance(value, str):
                value = [value]
            options[dest] = value
        elif action.required:
            flag = action.option_strings[0] if action.option_strings else dest
            raise JobConfigError(f"job {job_cls.name}: option {dest!r} ({flag}) is required")
        else:
            options[dest] = action.default
    return options


def _settings(
    *,
    api_key: str | None,
    base_url: str | None,
    keys: Mapping[str, str] | None,
    base_urls: Mapping[str, str] | None,
    state_dir: str | Path | None,
    mutation_limits: Sequence[str | tuple[int, float]] | None,
    concurrency: int | None,
    read_concurrency: int | None,
    dry_run: bool,
    budgets: Mapping[str, Budget] | None,
) -> RunSettings:
    return RunSettings(
        state_dir=state_dir,
        keys={"source": api_key, **(keys or {})},
        base_urls={"source": base_url, **(base_urls or {})},
        mutation_limits=mutation_limits,
        limits_origin="mutation_limits=",
        concurrency=concurrency,
        read_concurrency=read_concurrency,
        dry_run=dry_run,
        budgets=dict(budgets or {}),
    )


def _result(outcome: RunOutcome, settings: RunSettings) -> JobResult:
    counts = {k: v for k, v in (outcome.result.counts if outcome.result else {}).items() if v}
    return JobResult(
        run_id=outcome.run_id if outcome.kept else None,
        exit_code=outcome.exit_code,
        counts=counts,
        summary=outcome.summary,
        message=outcome.message,
        state_dir=settings.state().path,
    )


async def arun_job(
    job: JobLike,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    keys: Mapping[str, str] | None = None,
    base_urls: Mapping[str, str] | None = None,
    state_dir: str | Path | None = None,
    mutation_limits: Sequence[str | tuple[int, float]] | None = None,
    concurrency: int | None = None,
    read_concurrency: int | None = None,
    dry_run: bool = False,
    confirm: Confirm = False,
    run_id: str | None = None,
    budgets: Mapping[str, Budget] | None = None,
    hooks: RunHooks | None = None,
    **options: Any,
) -> JobResult:
    """List, plan and (when confirmed) send a job's run; see the module docstring."""
    if isinstance(job, Job) and options:
        raise JobConfigError("give a Job instance its options when you build it, not here")
    spec, built = build_job(job, options)
    settings = _settings(
        api_key=api_key,
        base_url=base_url,
        keys=keys,
        base_urls=base_urls,
        state_dir=state_dir,
        mutation_limits=mutation_limits,
        concurrency=concurrency,
        read_concurrency=read_concurrency,
        dry_run=dry_run,
        budgets=budgets,
    )
    lifecycle = Lifecycle(settings, hooks or _ApiHooks(confirm))
    return _result(await lifecycle.start(spec, built, run_id=run_id), settings)


async def aresume_run(
    run_id: str | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    keys: Mapping[str, str] | None = None,
    base_urls: Mapping[str, str] | None = None,
    state_dir: str | Path | None = None,
    mutation_limits: Sequence[str | tuple[int, float]] | None = None,
    concurrency: int | None = None,
    confirm: Confirm = False,
    hooks: RunHooks | None = None,
) -> JobResult:
    """Go on with a run from its journal (None: the latest unfinished run)."""
    settings = _settings(
        api_key=api_key,
        base_url=base_url,
        keys=keys,
        base_urls=base_urls,
        state_dir=state_dir,
        mutation_limits=mutation_limits,
        concurrency=concurrency,
        read_concurrency=None,
        dry_run=False,
        budgets=None,
    )
    lifecycle = Lifecycle(settings, hooks or _ApiHooks(confirm))
    return _result(await lifecycle.resume(run_id), settings)


async def arevert_run(
    run_id: str,
    *,
    force: bool = False,
    dry_run: bool = False,
    api_key: str | None = None,
    base_url: str | None = None,
    keys: Mapping[str, str] | None = None,
    base_urls: Mapping[str, str] | None = None,
    state_dir: str | Path | None = None,
    mutation_limits: Sequence[str | tuple[int, float]] | None = None,
    concurrency: int | None = None,
    confirm: Confirm = False,
    new_run_id: str | None = None,
    hooks: RunHooks | None = None,
) -> JobResult:
    """A new run undoing the DONE operations of ``run_id`` (``force``: overwrite later edits)."""
    settings = _settings(
        api_key=api_key,
        base_url=base_url,
        keys=keys,
        base_urls=base_urls,
        state_dir=state_dir,
        mutation_limits=mutation_limits,
        concurrency=concurrency,
        read_concurrency=None,
        dry_run=dry_run,
        budgets=None,
    )
    lifecycle = Lifecycle(settings, hooks or _ApiHooks(confirm))
    return _result(await lifecycle.revert(run_id, force=force, new_run_id=new_run_id), settings)


def _blocking(coroutine: Callable[P, Awaitable[JobResult]]) -> Callable[P, JobResult]:
    """The same call, for code that is not in an event loop (scripts, Airflow tasks)."""
    name = coroutine.__name__.removeprefix("a")

    @functools.wraps(coroutine)
    def call(*args: P.args, **kwargs: P.kwargs) -> JobResult:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return anyio.run(functools.partial(coroutine, *args, **kwargs))
        raise ConfigError(
            f"{name}() was called inside a running event loop (a notebook, an async app): "
            f"use `await bulkops.{coroutine.__name__}(...)` there"
        )

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``{coroutine.__name__}`` for code that is not in an event loop."
    return call


run_job = _blocking(arun_job)
resume_run = _blocking(aresume_run)
revert_run = _blocking(arevert_run)
