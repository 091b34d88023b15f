"""Driving bulkops from Python: ``run_job``, ``resume_run``, ``revert_run``, ``verify_run`` (and
``a``-versions).

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
- ``dry_run=True`` plans only; the result's ``changes()`` lists what would change;
- ``verify_run(run_id)`` compares the source and target of a migrate run (``bulkops verify``)
  and returns a ``VerifyResult`` (``ok``, ``differences``, ``not_compared``);
  ``export_project(out)`` writes a snapshot of the project (``bulkops export``).

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
from typing import TYPE_CHECKING, Any, ParamSpec, TypedDict, TypeVar, Unpack, cast

import anyio

from bulkops.api.budget import Budget
from bulkops.api.config import DEFAULT_READ_CONCURRENCY
from bulkops.errors import ConfigError, JobConfigError, NotConfirmedError
from bulkops.redaction import redact
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

if TYPE_CHECKING:
    from bulkops.migrate.export import ExportStatistics
    from bulkops.migrate.verify import VerifyResult

__all__ = [
    "JobResult",
    "RunOptions",
    "aexport_project",
    "aresume_run",
    "arevert_run",
    "arun_job",
    "averify_run",
    "build_job",
    "export_project",
    "resume_run",
    "revert_run",
    "run_job",
    "verify_run",
]

P = ParamSpec("P")
T = TypeVar("T")
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


class RunOptions(TypedDict, total=False):
    """Where and how to run, for every function here (each key optional).

    ``api_key``/``base_url``: the default connection (else ``STATSIG_CONSOLE_API_KEY``/``_URL``);
    ``keys``/``base_urls``: other connections by name (``{"target": ...}``); ``state_dir``;
    ``mutation_limits`` (``["100/10s", "900/15m"]``); ``concurrency`` (operations in flight per
    project); ``read_concurrency``; ``projects_file``; ``budget_url`` (share each project's
    budget through Redis); ``budgets`` (budgets to use, by connection).
    """

    api_key: str | None
    base_url: str | None
    keys: Mapping[str, str]
    base_urls: Mapping[str, str]
    state_dir: str | Path | None
    mutation_limits: Sequence[str | tuple[int, float]] | None
    concurrency: int | None
    read_concurrency: int | None
    projects_file: str | Path | None
    budget_url: str | None
    budgets: Mapping[str, Budget]


_RUN_KEYS = frozenset(RunOptions.__annotations__)


def _settings(
    options: RunOptions, *, dry_run: bool = False, projects: Sequence[str] = ()
) -> RunSettings:
    return RunSettings(
        state_dir=options.get("state_dir"),
        keys={"source": options.get("api_key"), **(options.get("keys") or {})},
        base_urls={"source": options.get("base_url"), **(options.get("base_urls") or {})},
        mutation_limits=options.get("mutation_limits"),
        limits_origin="mutation_limits=",
        concurrency=options.get("concurrency"),
        read_concurrency=options.get("read_concurrency"),
        dry_run=dry_run,
        budgets=dict(options.get("budgets") or {}),
        projects=tuple(projects),
        projects_file=options.get("projects_file"),
        budget_url=options.get("budget_url"),
    )


def _result(outcome: RunOutcome, settings: RunSettings) -> JobResult:
    counts = {k: v for k, v in (outcome.result.counts if outcome.result else {}).items() if v}
    return JobResult(
        run_id=outcome.run_id if outcome.kept else None,
        exit_code=outcome.exit_code,
        counts=counts,
        summary=outcome.summary,
        message=redact(outcome.message) if outcome.message else outcome.message,
        state_dir=settings.state().path,
    )


async def arun_job(
    job: JobLike,
    *,
    projects: Sequence[str] = (),
    dry_run: bool = False,
    confirm: Confirm = False,
    run_id: str | None = None,
    hooks: RunHooks | None = None,
    **options: Any,
) -> JobResult:
    """List, plan and (when confirmed) send a job's run; see the module docstring.

    Keyword arguments named like ``RunOptions`` keys (``api_key``, ``state_dir``,
    ``mutation_limits``...) say where and how to run, as the CLI's common flags do; the others
    are the job's options (by flag name). ``projects`` fans the job out over named projects.
    """
    run = cast(RunOptions, {k: v for k, v in options.items() if k in _RUN_KEYS})
    options = {k: v for k, v in options.items() if k not in _RUN_KEYS}
    if isinstance(job, Job) and options:
        raise JobConfigError("give a Job instance its options when you build it, not here")
    spec, built = build_job(job, options)
    settings = _settings(run, dry_run=dry_run, projects=projects)
    lifecycle = Lifecycle(settings, hooks or _ApiHooks(confirm))
    return _result(await lifecycle.start(spec, built, run_id=run_id), settings)


async def aresume_run(
    run_id: str | None = None,
    *,
    confirm: Confirm = False,
    hooks: RunHooks | None = None,
    **run: Unpack[RunOptions],
) -> JobResult:
    """Go on with a run from its journal (None: the latest unfinished run)."""
    settings = _settings(run)
    lifecycle = Lifecycle(settings, hooks or _ApiHooks(confirm))
    return _result(await lifecycle.resume(run_id), settings)


async def arevert_run(
    run_id: str,
    *,
    force: bool = False,
    dry_run: bool = False,
    confirm: Confirm = False,
    new_run_id: str | None = None,
    hooks: RunHooks | None = None,
    **run: Unpack[RunOptions],
) -> JobResult:
    """A new run undoing the DONE operations of ``run_id`` (``force``: overwrite later edits)."""
    settings = _settings(run, dry_run=dry_run)
    lifecycle = Lifecycle(settings, hooks or _ApiHooks(confirm))
    return _result(await lifecycle.revert(run_id, force=force, new_run_id=new_run_id), settings)


async def averify_run(run_id: str, **run: Unpack[RunOptions]) -> VerifyResult:
    """Compare the source and target of migrate run ``run_id`` field by field, as ``bulkops
    verify`` does: ``result.ok`` when the target holds what the source holds, else
    ``result.differences``; ``result.not_compared``: fields bulkops does not know. Reads
    ``read_concurrency`` at a time. Raises ``ConfigError`` (no such run, not a migrate run, a
    key missing), ``JournalError``, ``AuthError`` or ``ApiError``; sends nothing.
    """
    from bulkops.migrate.verify_run import verify_run as verify

    limit = run.get("read_concurrency") or DEFAULT_READ_CONCURRENCY
    return await verify(_settings(run), run_id, concurrency=limit)


async def aexport_project(
    out: str | Path,
    *,
    kinds: str | Sequence[str] | None = None,
    project: str | None = None,
    **run: Unpack[RunOptions],
) -> ExportStatistics:
    """Write a complete snapshot of the project to ``out`` (``bulkops export``): every kind, or
    ``kinds``; the default connection, or named ``project``. Streamed (memory does not grow
    with the project); ``out`` appears only once complete. Returns what was written
    (``entities``, ``id_lists``, ``ids``, ``describe()``). Raises ``ConfigError`` before any
    read (unknown kind, no key, a path that cannot be a file), ``AuthError``/``ApiError``
    (nothing written) or ``OSError``.
    """
    from bulkops.migrate.export_run import export_project as export

    limit = run.get("read_concurrency") or DEFAULT_READ_CONCURRENCY
    return await export(_settings(run), out, kinds=kinds, project=project, concurrency=limit)


def _blocking(coroutine: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """The same call, for code that is not in an event loop (scripts, Airflow tasks)."""
    name = coroutine.__name__.removeprefix("a")

    @functools.wraps(coroutine)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
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
verify_run = _blocking(averify_run)
export_project = _blocking(aexport_project)
