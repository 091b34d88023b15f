"""`bulkops run`, `resume` and `revert`: journaled runs from the shell.

    bulkops run JOB [job options] [--dry-run] [--json] [--run-id ID] [--yes]
    bulkops resume [RUN_ID] [--yes]
    bulkops revert RUN_ID [--dry-run] [--force] [--yes]

Plans and reports go to stdout; progress and messages to stderr. Exit codes: 0 all done,
1 some operations failed, 2 usage/configuration (nothing sent), 3 interrupted (resume it),
4 fatal API/auth error, 5 internal error (a bug; see ``bulkops.cli.guard``).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import Any

import anyio

from bulkops.cli import fail, options
from bulkops.cli.runhooks import CliHooks
from bulkops.cli.runlog import JobParser, debugging, emit, wants_json
from bulkops.run import (
    ExitCode,
    Job,
    JobConfigError,
    Lifecycle,
    RunOutcome,
    format_duration,
    load_job_class,
)

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

#: Options every run command has; the rest of a job's parsed options are the job's own.
_COMMON = {
    "dry_run",
    "json",
    "run_id",
    "state_dir",
    "mutation_limit",
    "concurrency",
    "read_concurrency",
    "project",
    "projects_file",
    "budget_url",
    "log_format",
    "yes",
}


def _job_parser(job_cls: type[Job], spec: str, log_json: bool) -> argparse.ArgumentParser:
    parser = JobParser(prog=f"bulkops run {spec}", description=job_cls.help or None)
    parser.json_errors = log_json
    parser.add_argument("--dry-run", action="store_true", help="plan and print, send nothing")
    parser.add_argument("--json", action="store_true", help="--dry-run output as JSON")
    parser.add_argument("--run-id", metavar="ID", help="name the run (default: generated)")
    parser.add_argument(
        "--project",
        action="append",
        metavar="NAME",
        help="run on this named project (repeatable: on each, in parallel, in one run); its key: "
        "STATSIG_<NAME>_CONSOLE_API_KEY or the projects file",
    )
    _add_common(parser, ("source", *job_cls.projects))
    job_cls.add_arguments(parser)
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    """`bulkops run JOB ...`: create a run, list, plan, confirm, mutate."""
    if args.job in ("-h", "--help"):
        args.run_parser.print_help()
        return ExitCode.OK
    if not (args.job or "").strip():
        if args.job is None:
            args.run_parser.print_help()
        return fail(ExitCode.USAGE, "no JOB given: a built-in job name or a path to a .py file")
    log_json = wants_json(args.job_args)
    debugging()
    try:
        job_cls = load_job_class(args.job)
    except JobConfigError as exc:
        return fail(ExitCode.USAGE, str(exc), log_json=log_json)
    ns = _job_parser(job_cls, args.job, log_json).parse_args(args.job_args)
    projects = ("source", *job_cls.projects)
    common = _COMMON | {f"{p}_{w}" for p in projects for w in ("api_key", "base_url")}
    job_options = {k: v for k, v in vars(ns).items() if k not in common}
    hooks = CliHooks(log_json, as_json=bool(ns.json))
    try:
        job = job_cls(job_options)
    except JobConfigError as exc:
        return fail(ExitCode.USAGE, str(exc), log_json=log_json)
    lifecycle = Lifecycle(options.run_settings(ns, projects), hooks)
    outcome = anyio.run(lambda: lifecycle.start(args.job, job, run_id=ns.run_id))
    return _finish(outcome, log_json)


def _finish(outcome: RunOutcome, log_json: bool) -> int:
    """Say how the run ended (errors, counts, what to do next); return its exit code."""
    run_id = outcome.run_id
    if outcome.error is not None and debugging():
        traceback.print_exception(outcome.error, file=sys.stderr)
    message = outcome.message if outcome.exit_code != ExitCode.OK else None
    if message and outcome.exit_code == ExitCode.FATAL and outcome.kept and run_id:
        message += f" (the run is kept: `bulkops resume {run_id}` once that is fixed)"
    if message and outcome.exit_code in (ExitCode.FAILED, ExitCode.INTERRUPTED):
        fail(outcome.exit_code, message, log_json=log_json)  # counts and hints follow
        message = None
    result = outcome.result
    if result is not None:
        counts = {k: v for k, v in result.counts.items() if v}
        done = ", ".join(f"{v} {k}" for k, v in counts.items()) or "nothing to send"
        text = f"finished: {done} in {format_duration(result.elapsed)}"
        data = {"run_id": run_id, "counts": counts, "exit_code": int(outcome.exit_code)}
        emit(log_json, "finished", data, text)
        if result.failed:
            hint = f"see the failures: bulkops report {run_id} --failed-only"
            emit(log_json, "hint", {"message": hint, "run_id": run_id}, hint)
    if outcome.exit_code == ExitCode.INTERRUPTED:
        hint = f"interrupted: resume with `bulkops resume {run_id}`"
        emit(log_json, "hint", {"message": hint, "run_id": run_id}, hint)
    elif (
        outcome.exit_code == ExitCode.FAILED
        and result is not None
        and result.counts.get("FAILED_TEMP", 0) + result.counts.get("IN_FLIGHT", 0)
    ):
        hint = f"retry what failed temporarily: bulkops resume {run_id}"
        emit(log_json, "hint", {"message": hint, "run_id": run_id}, hint)
    if message:  # a usage or fatal error: its one line comes last
        fail(outcome.exit_code, message, log_json=log_json)
    return int(outcome.exit_code)


# -- resume / revert -----------------------------------------------------------------------


def cmd_resume(args: argparse.Namespace) -> int:
    """`bulkops resume [RUN_ID]`: go on with a run from its journal."""
    log_json = getattr(args, "log_format", None) == "json"
    debugging()
    lifecycle = Lifecycle(options.run_settings(args), CliHooks(log_json))
    outcome = anyio.run(lambda: lifecycle.resume(args.run_id))
    return _finish(outcome, log_json)


def cmd_revert(args: argparse.Namespace) -> int:
    """`bulkops revert RUN_ID`: a new journaled run undoing RUN_ID's DONE operations."""
    log_json = getattr(args, "log_format", None) == "json"
    debugging()
    lifecycle = Lifecycle(options.run_settings(args), CliHooks(log_json, as_json=bool(args.json)))
    outcome = anyio.run(
        lambda: lifecycle.revert(args.run_id, force=args.force, new_run_id=args.new_run_id)
    )
    return _finish(outcome, log_json)
