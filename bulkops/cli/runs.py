"""`bulkops run`, `resume` and `revert`: journaled runs from the shell.

    bulkops run JOB [job options] [--dry-run] [--json] [--run-id ID] [--yes]
    bulkops resume [RUN_ID] [--yes]
    bulkops revert RUN_ID [--dry-run] [--force] [--yes]

Plans and reports go to stdout; progress and messages to stderr. Exit codes: 0 all done,
1 some operations failed, 2 usage/configuration (nothing sent), 3 interrupted (resume it),
4 fatal API/auth error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import anyio
import orjson

from bulkops.api.errors import ConfigError
from bulkops.cli import (
    EXIT_FAILED,
    EXIT_FATAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    fail,
    options,
)
from bulkops.run.job import Job, JobConfigError
from bulkops.run.journal import Journal, JournalError
from bulkops.run.loader import is_job_path, load_job_class
from bulkops.run.planview import (
    format_duration,
    format_plan_summary,
    plan_summary_dict,
    write_plan_diff,
)
from bulkops.run.progress import ProgressPrinter
from bulkops.run.revert import plan_revert
from bulkops.run.runner import PlanSummary
from bulkops.run.session import Outcome, drive
from bulkops.run.statedir import StateDir, check_run_id, new_run_id

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's commands to the `bulkops` parser."""
    run = subparsers.add_parser(
        "run",
        help="list, plan and run a job (journaled, resumable)",
        description="Run JOB (a built-in name or a path to a .py file). "
        "`bulkops run JOB --help` shows the job's own options.",
    )
    run.add_argument("job", metavar="JOB", nargs="?", help="built-in job name or path to a .py")
    run.add_argument("job_args", nargs=argparse.REMAINDER, metavar="...", help="job options")
    run.set_defaults(handler=cmd_run, run_parser=run)

    resume = subparsers.add_parser("resume", help="resume an interrupted or failed run")
    resume.add_argument("run_id", nargs="?", metavar="RUN_ID", help="default: latest unfinished")
    _add_common(resume, ("source", "target"))
    resume.set_defaults(handler=cmd_resume)

    revert = subparsers.add_parser("revert", help="undo the DONE operations of a run")
    revert.add_argument("run_id", metavar="RUN_ID")
    revert.add_argument("--dry-run", action="store_true", help="print the revert plan only")
    revert.add_argument("--force", action="store_true", help="overwrite entities changed since")
    revert.add_argument("--json", action="store_true", help="--dry-run output as JSON")
    revert.add_argument("--run-id", dest="new_run_id", metavar="ID", help="id of the revert run")
    _add_common(revert, ("source", "target"))
    revert.set_defaults(handler=cmd_revert)


def _add_common(parser: argparse.ArgumentParser, projects: Any, *, suppress: bool = False) -> None:
    options.add_connection_options(parser, projects, suppress=suppress)
    options.add_execution_options(parser, suppress=suppress)
    options.add_state_dir_option(parser, suppress=suppress)


# -- run -----------------------------------------------------------------------------------


def _job_parser(job_cls: type[Job], spec: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"bulkops run {spec}", description=job_cls.help or None)
    parser.add_argument("--dry-run", action="store_true", help="plan and print, send nothing")
    parser.add_argument("--json", action="store_true", help="--dry-run output as JSON")
    parser.add_argument("--run-id", metavar="ID", help="name the run (default: generated)")
    _add_common(parser, ("source", *job_cls.projects))
    job_cls.add_arguments(parser)
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    """`bulkops run JOB ...`: create a run, list, plan, confirm, mutate."""
    if not args.job or args.job in ("-h", "--help"):
        args.run_parser.print_help()
        return EXIT_USAGE if not args.job else EXIT_OK
    try:
        job_cls = load_job_class(args.job)
    except JobConfigError as exc:
        return fail(EXIT_USAGE, str(exc))
    parser = _job_parser(job_cls, args.job)
    ns = parser.parse_args(args.job_args)
    common = {
        "dry_run",
        "json",
        "run_id",
        "state_dir",
        "mutation_limit",
        "concurrency",
        "log_format",
        "yes",
    }
    projects = ("source", *job_cls.projects)
    common |= {f"{p}_{w}" for p in projects for w in ("api_key", "base_url")}
    job_options = {k: v for k, v in vars(ns).items() if k not in common}
    try:
        orjson.dumps(job_options)
        job = job_cls(job_options)
        conns = options.connection_settings(ns, projects)
        limits = options.mutation_limits(ns)
        run_id = check_run_id(ns.run_id) if ns.run_id else new_run_id(job_cls.name or args.job)
        spec = str(Path(args.job).resolve()) if is_job_path(args.job) else args.job
        meta = {
            "job": spec,
            "job_options": job_options,
            "limits": limits,
            "connections": {p: c.base_url for p, c in conns.items()},
            "concurrency": ns.concurrency or options.DEFAULT_CONCURRENCY,
            "phase": "listing",
        }
        journal, lock = StateDir(options.state_dir(ns)).create(run_id, meta)
    except (ConfigError, JobConfigError, JournalError, TypeError) as exc:
        return fail(EXIT_USAGE, str(exc))
    print(f"run id: {run_id}", file=sys.stderr)
    try:
        return _execute(journal, ns, conns, limits, job=job, replan=True)
    finally:
        journal.close()
        lock.release()


def _execute(
    journal: Journal,
    ns: argparse.Namespace,
    conns: dict[str, options.ConnectionSettings],
    limits: Any,
    *,
    job: Job | None,
    replan: bool,
) -> int:
    from bulkops.api import ConsoleClient, MutationBudget

    budgets: dict[str, MutationBudget] = {}
    clients = {}
    for name, c in conns.items():
        budget = budgets.setdefault(c.base_url + c.api_key, MutationBudget(limits))
        clients[name] = ConsoleClient(api_key=c.api_key, base_url=c.base_url, budget=budget)
    run_id = journal.meta()["run_id"]
    log_json = getattr(ns, "log_format", None) == "json"
    dry_run = bool(getattr(ns, "dry_run", False))

    async def decide(summary: PlanSummary) -> bool:
        if dry_run:
            write_plan_diff(journal, summary, sys.stdout, as_json=bool(getattr(ns, "json", False)))
            await anyio.to_thread.run_sync(lambda: journal.set_meta(phase="dry-run"))
            return False
        _emit(log_json, "plan", plan_summary_dict(summary), format_plan_summary(summary))
        if summary.to_send == 0 or journal.meta().get("confirmed"):
            return True
        if getattr(ns, "yes", False):
            await anyio.to_thread.run_sync(lambda: journal.set_meta(confirmed=True))
            return True
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise _NeedsYes(run_id)
        answer = await anyio.to_thread.run_sync(input, "send these mutations? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise _Declined(run_id)
        await anyio.to_thread.run_sync(lambda: journal.set_meta(confirmed=True))
        return True

    mode = "json" if log_json else ("bar" if sys.stderr.isatty() else "text")
    concurrency = getattr(ns, "concurrency", None) or journal.meta().get("concurrency") or 16
    progress = ProgressPrinter(sys.stderr, mode=mode)
    outcome = anyio.run(
        lambda: drive(
            journal,
            clients,
            job=job,
            replan=replan,
            decide=decide,
            concurrency=int(concurrency),
            progress=progress,
            notify=lambda text: _emit(log_json, "notice", {"message": text}, text),
        )
    )
    if outcome.exit_code in (EXIT_USAGE, EXIT_FATAL) and journal.meta().get("phase") == "listing":
        journal.set_meta(phase="abandoned")  # nothing was sent: not a run to resume
    return _finish(outcome, run_id, log_json, dry_run)


class _NeedsYes(ConfigError):
    """The plan was not confirmed: nothing is sent (exit 2)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(
            "nothing sent: confirm the plan with --yes (no terminal to ask on); to run this "
            f"plan as it is: bulkops resume {run_id} --yes"
        )


class _Declined(ConfigError):
    """The user answered no at the prompt: nothing is sent (exit 2), the plan is kept."""

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"declined: nothing sent; the plan is kept, `bulkops resume {run_id}` asks again"
        )


def _finish(outcome: Outcome, run_id: str, log_json: bool, dry_run: bool) -> int:
    if outcome.message and outcome.exit_code in (EXIT_USAGE, EXIT_FATAL):
        print(f"bulkops: {outcome.message}", file=sys.stderr)
    result = outcome.result
    if result is not None:
        counts = {k: v for k, v in result.counts.items() if v}
        done = ", ".join(f"{v} {k}" for k, v in counts.items()) or "nothing to send"
        text = f"finished: {done}"
        text += f" in {format_duration(result.elapsed)}"
        _emit(
            log_json,
            "finished",
            {"run_id": run_id, "counts": counts, "exit_code": outcome.exit_code},
            text,
        )
        if result.failed:
            print(f"see the failures: bulkops report {run_id} --failed-only", file=sys.stderr)
    if outcome.exit_code == EXIT_INTERRUPTED:
        print(f"interrupted: resume with `bulkops resume {run_id}`", file=sys.stderr)
    elif (
        outcome.exit_code == EXIT_FAILED
        and result is not None
        and result.counts.get("FAILED_TEMP", 0) + result.counts.get("IN_FLIGHT", 0)
    ):
        print(f"retry what failed temporarily: bulkops resume {run_id}", file=sys.stderr)
    return outcome.exit_code


def _emit(log_json: bool, event: str, data: dict[str, Any], text: str) -> None:
    if log_json:
        print(orjson.dumps({"event": event, **data}).decode(), file=sys.stderr)
    else:
        print(text, file=sys.stderr)


# -- resume / revert -----------------------------------------------------------------------


def cmd_resume(args: argparse.Namespace) -> int:
    """`bulkops resume [RUN_ID]`: go on with a run from its journal."""
    try:
        state = StateDir(options.state_dir(args))
        run_id = args.run_id or state.latest(unfinished=True)
        journal, lock = state.open_locked(run_id)
    except (ConfigError, JournalError) as exc:
        return fail(EXIT_USAGE, str(exc))
    try:
        meta = journal.meta()
        if meta.get("phase") == "complete":
            print(f"run {run_id} is complete: nothing to resume", file=sys.stderr)
            return EXIT_OK
        replan = meta.get("phase") in ("listing", "abandoned")  # nothing frozen yet
        if replan and meta.get("job") == "revert":
            _plan_revert_into(journal, state, meta["job_options"])
            replan = False
        job = load_job_class(meta["job"])(meta.get("job_options") or {}) if replan else None
        conns = options.connection_settings(args, meta["connections"], meta["connections"])
        limits = options.mutation_limits(args, meta.get("limits"))
        print(f"resuming run {run_id}", file=sys.stderr)
        return _execute(journal, args, conns, limits, job=job, replan=replan)
    except (ConfigError, JobConfigError) as exc:
        return fail(EXIT_USAGE, str(exc))
    finally:
        journal.close()
        lock.release()


def _plan_revert_into(journal: Journal, state: StateDir, options: dict[str, Any]) -> None:
    """Freeze the revert plan of run ``options["of"]`` into ``journal`` (one transaction)."""
    original, original_lock = state.open_locked(options["of"])
    try:
        journal.clear_plan()
        journal.add_plan(plan_revert(original, force=bool(options.get("force"))))
        journal.set_meta(phase="planned")
    finally:
        original.close()
        original_lock.release()


def cmd_revert(args: argparse.Namespace) -> int:
    """`bulkops revert RUN_ID`: a new journaled run undoing RUN_ID's DONE operations."""
    state = StateDir(options.state_dir(args))
    try:
        original, original_lock = state.open_locked(args.run_id)
    except (ConfigError, JournalError) as exc:
        return fail(EXIT_USAGE, str(exc))
    try:
        meta = original.meta()
        conns = options.connection_settings(args, meta["connections"], meta["connections"])
        limits = options.mutation_limits(args, meta.get("limits"))
        run_id = check_run_id(args.new_run_id or new_run_id(f"revert-{args.run_id}"))
    except (ConfigError, JournalError) as exc:
        return fail(EXIT_USAGE, str(exc))
    finally:
        original.close()
        original_lock.release()
    try:
        journal, lock = state.create(
            run_id,
            {
                "job": "revert",
                "job_options": {"of": args.run_id, "force": args.force},
                "connections": meta["connections"],
                "limits": limits,
                "phase": "listing",
                "concurrency": args.concurrency or options.DEFAULT_CONCURRENCY,
            },
        )
    except (ConfigError, JournalError) as exc:
        return fail(EXIT_USAGE, str(exc))
    try:
        _plan_revert_into(journal, state, journal.meta()["job_options"])
    except (ConfigError, JournalError) as exc:
        journal.close()
        lock.release()
        return fail(EXIT_USAGE, str(exc))
    print(f"revert run id: {run_id}", file=sys.stderr)
    try:
        return _execute(journal, args, conns, limits, job=None, replan=False)
    finally:
        journal.close()
        lock.release()
