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
import traceback
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
from bulkops.cli.runlog import JobParser, announcer, debugging, emit, wants_json
from bulkops.run.confirm import preview_lines
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
from bulkops.run.sendgate import StoppableBudget
from bulkops.run.session import Outcome, drive
from bulkops.run.statedir import StateDir, check_run_id, new_run_id
from bulkops.run.states import OpStatus

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


def _job_parser(job_cls: type[Job], spec: str, log_json: bool) -> argparse.ArgumentParser:
    parser = JobParser(prog=f"bulkops run {spec}", description=job_cls.help or None)
    parser.json_errors = log_json
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
    log_json = wants_json(args.job_args)
    debugging()
    try:
        job_cls = load_job_class(args.job)
    except JobConfigError as exc:
        return fail(EXIT_USAGE, str(exc), log_json=log_json)
    parser = _job_parser(job_cls, args.job, log_json)
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
        limits, origin = options.limits_and_origin(ns)
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
        state = StateDir(options.state_dir(ns))
        journal, lock = state.create(run_id, meta)
    except (ConfigError, JobConfigError, JournalError, TypeError) as exc:
        return fail(EXIT_USAGE, str(exc), log_json=log_json)
    discard = False
    try:
        code, discard = _execute(journal, ns, conns, (limits, origin), job=job, fresh=True)
        return code
    finally:
        journal.close()
        if discard:  # nothing was planned nor sent: a usage error leaves no run behind
            state.discard(run_id)
        lock.release()


def _execute(
    journal: Journal,
    ns: argparse.Namespace,
    conns: dict[str, options.ConnectionSettings],
    limits_origin: tuple[Any, str],
    *,
    job: Job | None,
    fresh: bool = False,
    replan: bool = True,
    verify_planned: bool | None = None,
) -> tuple[int, bool]:
    """Drive the run; returns the exit code and whether the run is to be discarded."""
    from bulkops.api import ConsoleClient

    limits, origin = limits_origin
    budgets: dict[str, StoppableBudget] = {}
    clients = {}
    for name, c in conns.items():
        budget = budgets.setdefault(c.base_url + c.api_key, StoppableBudget(limits))
        hint = "" if name == "source" else options.key_hint(name)
        clients[name] = ConsoleClient(
            api_key=c.api_key, base_url=c.base_url, budget=budget, key_hint=hint
        )
    run_id = journal.meta()["run_id"]
    log_json = getattr(ns, "log_format", None) == "json"
    dry_run = bool(getattr(ns, "dry_run", False))
    announce = announcer(log_json, run_id, fresh)

    async def decide(summary: PlanSummary) -> bool:
        announce()
        if dry_run:
            write_plan_diff(journal, summary, sys.stdout, as_json=bool(getattr(ns, "json", False)))
            await anyio.to_thread.run_sync(lambda: journal.set_meta(phase="dry-run"))
            return False
        emit(log_json, "plan", plan_summary_dict(summary), format_plan_summary(summary))
        shown = options.format_limits(limits)
        emit(
            log_json,
            "limits",
            {"limits": [list(x) for x in limits], "origin": origin},
            f"  mutation limits: {shown} ({origin})",
        )
        if summary.to_send == 0 or journal.meta().get("confirmed"):
            return True
        if getattr(ns, "yes", False):
            await anyio.to_thread.run_sync(lambda: journal.set_meta(confirmed=True))
            return True
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise _NeedsYes(run_id)
        for line in await anyio.to_thread.run_sync(lambda: list(preview_lines(journal))):
            print(line, file=sys.stderr)
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
            notify=lambda text: emit(log_json, "notice", {"message": text}, text),
            key_hints={name: options.key_hint(name) for name in conns},
            verify_planned=verify_planned,
        )
    )
    discard = False
    if outcome.exit_code in (EXIT_USAGE, EXIT_FATAL) and journal.meta().get("phase") == "listing":
        journal.set_meta(phase="abandoned")  # nothing was sent: not a run to resume
        discard = fresh
    if not discard:
        announce()
    return _finish(outcome, run_id, log_json, dry_run), discard


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
    if outcome.error is not None and debugging():
        traceback.print_exception(outcome.error, file=sys.stderr)
    if outcome.message and outcome.exit_code in (EXIT_USAGE, EXIT_FATAL):
        fail(outcome.exit_code, outcome.message, log_json=log_json)
    result = outcome.result
    if result is not None:
        counts = {k: v for k, v in result.counts.items() if v}
        done = ", ".join(f"{v} {k}" for k, v in counts.items()) or "nothing to send"
        text = f"finished: {done}"
        text += f" in {format_duration(result.elapsed)}"
        emit(
            log_json,
            "finished",
            {"run_id": run_id, "counts": counts, "exit_code": outcome.exit_code},
            text,
        )
        if result.failed:
            hint = f"see the failures: bulkops report {run_id} --failed-only"
            emit(log_json, "hint", {"message": hint, "run_id": run_id}, hint)
    if outcome.exit_code == EXIT_INTERRUPTED:
        hint = f"interrupted: resume with `bulkops resume {run_id}`"
        emit(log_json, "hint", {"message": hint, "run_id": run_id}, hint)
    elif (
        outcome.exit_code == EXIT_FAILED
        and result is not None
        and result.counts.get(OpStatus.FAILED_TEMP, 0) + result.counts.get(OpStatus.IN_FLIGHT, 0)
    ):
        hint = f"retry what failed temporarily: bulkops resume {run_id}"
        emit(log_json, "hint", {"message": hint, "run_id": run_id}, hint)
    return outcome.exit_code


# -- resume / revert -----------------------------------------------------------------------


def cmd_resume(args: argparse.Namespace) -> int:
    """`bulkops resume [RUN_ID]`: go on with a run from its journal."""
    log_json = getattr(args, "log_format", None) == "json"
    debugging()
    try:
        state = StateDir(options.state_dir(args))
        run_id = args.run_id or state.latest(unfinished=True)
        journal, lock = state.open_locked(run_id)
    except (ConfigError, JournalError) as exc:
        return fail(EXIT_USAGE, str(exc), log_json=log_json)
    try:
        meta = journal.meta()
        if meta.get("phase") == "complete":
            text = f"run {run_id} is complete: nothing to resume"
            emit(log_json, "notice", {"message": text, "run_id": run_id}, text)
            return EXIT_OK
        replan = meta.get("phase") in ("listing", "abandoned")  # nothing frozen yet
        if replan and meta.get("job") == "revert":
            _plan_revert_into(journal, state, meta["job_options"])
            replan = False
        job = load_job_class(meta["job"])(meta.get("job_options") or {}) if replan else None
        conns = options.connection_settings(args, meta["connections"], meta["connections"])
        limits, origin = options.limits_and_origin(args, meta.get("limits"))
        if [list(x) for x in limits] != meta.get("limits"):
            journal.set_meta(limits=limits)  # what this run is paced at from now on
        emit(log_json, "resume", {"run_id": run_id}, f"resuming run {run_id}")
        return _execute(journal, args, conns, (limits, origin), job=job, replan=replan)[0]
    except (ConfigError, JobConfigError) as exc:
        return fail(EXIT_USAGE, str(exc), log_json=log_json)
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
    log_json = getattr(args, "log_format", None) == "json"
    debugging()
    state = StateDir(options.state_dir(args))
    try:
        original, original_lock = state.open_locked(args.run_id)
    except (ConfigError, JournalError) as exc:
        return fail(EXIT_USAGE, str(exc), log_json=log_json)
    try:
        meta = original.meta()
        conns = options.connection_settings(args, meta["connections"], meta["connections"])
        limits, origin = options.limits_and_origin(
            args, meta.get("limits"), stored_in=f"run {args.run_id}'s journal"
        )
        run_id = check_run_id(args.new_run_id or new_run_id(f"revert-{args.run_id}"))
    except (ConfigError, JournalError) as exc:
        return fail(EXIT_USAGE, str(exc), log_json=log_json)
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
                # The revert writes to the projects the run wrote to: checked before sending.
                "project_ids": meta.get("project_ids") or {},
            },
        )
    except (ConfigError, JournalError) as exc:
        return fail(EXIT_USAGE, str(exc), log_json=log_json)
    try:
        _plan_revert_into(journal, state, journal.meta()["job_options"])
    except (ConfigError, JournalError) as exc:
        journal.close()
        lock.release()
        return fail(EXIT_USAGE, str(exc), log_json=log_json)
    emit(
        log_json,
        "run",
        {"run_id": run_id, "reverts": args.run_id},
        f"revert run id: {run_id}",
    )
    try:
        return _execute(
            journal, args, conns, (limits, origin), job=None, replan=False, verify_planned=True
        )[0]
    finally:
        journal.close()
        lock.release()
