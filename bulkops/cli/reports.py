"""`bulkops status` and `bulkops report`: read a run's journal (read-only, safe during a run).

bulkops status [RUN_ID] [--json]
bulkops report RUN_ID [--failed-only] [--format jsonl|csv]
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import orjson

from bulkops.cli import fail, options
from bulkops.run import (
    ConfigError,
    ExitCode,
    JournalError,
    StateDir,
    format_duration,
    run_status,
    write_report,
)

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `status` and `report` to the `bulkops` parser."""
    status = subparsers.add_parser("status", help="counts by state, 429s, elapsed, ETA of a run")
    status.add_argument("run_id", nargs="?", metavar="RUN_ID", help="default: the latest run")
    status.add_argument("--json", action="store_true", help="print JSON")
    options.add_state_dir_option(status)
    status.set_defaults(handler=cmd_status)

    report = subparsers.add_parser("report", help="one row per operation of a run")
    report.add_argument("run_id", metavar="RUN_ID")
    report.add_argument("--failed-only", action="store_true", help="only what did not succeed")
    report.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    options.add_state_dir_option(report)
    report.set_defaults(handler=cmd_report)


def cmd_status(args: argparse.Namespace) -> int:
    """`bulkops status [RUN_ID]`: counts by state, 429s, elapsed, ETA."""
    try:
        state = StateDir(options.state_dir(args))
        journal = state.open_readonly(args.run_id or state.latest())
    except (ConfigError, JournalError) as exc:
        return fail(ExitCode.USAGE, str(exc))
    try:
        status = run_status(journal)
        limits = journal.meta().get("limits")
        projects = status.get("projects") or {}
        for part in projects.values():
            part["eta_seconds"] = _eta(limits, part["remaining"])
        etas = [part["eta_seconds"] for part in projects.values()]
        status["eta_seconds"] = (
            max(etas, default=0.0) if projects and None not in etas
            else _eta(limits, status["remaining"])
        )  # fmt: skip
    finally:
        journal.close()
    if args.json:
        print(orjson.dumps(status).decode())
        return ExitCode.OK
    counts = ", ".join(f"{k} {v}" for k, v in status["counts"].items() if v) or "no operations"
    print(f"run {status['run_id']} ({status['job']}): {status['phase']}")
    print(f"  {counts}")
    print(
        f"  items {status['items']}, remaining {status['remaining']}, "
        f"429s {status['rate_limited_events']}, elapsed "
        f"{format_duration(status['elapsed_seconds'])}, ETA "
        f"{format_duration(status['eta_seconds'])}"
    )
    for name, part in (status.get("projects") or {}).items():
        shown = ", ".join(f"{k} {v}" for k, v in part["counts"].items() if v) or "no operations"
        if part.get("plan_failed"):
            shown = f"NOT PLANNED ({part['plan_failed']}); resume plans it again"
        eta = format_duration(part["eta_seconds"])
        print(f"  project {name}: {shown}; remaining {part['remaining']}, ETA {eta}")
    if status.get("process") == "gone":
        print(f"  its process is gone (killed or crashed): {status['next']}")
    return ExitCode.OK


def _eta(limits: Any, remaining: int) -> float | None:
    try:
        from bulkops.api import MutationBudget

        return MutationBudget(tuple(tuple(x) for x in limits)).eta(remaining) if limits else None
    except (ArithmeticError, TypeError, ValueError):  # an estimate only
        return None


def cmd_report(args: argparse.Namespace) -> int:
    """`bulkops report RUN_ID`: one row per operation, JSON lines or CSV."""
    try:
        journal = StateDir(options.state_dir(args)).open_readonly(args.run_id)
    except (ConfigError, JournalError) as exc:
        return fail(ExitCode.USAGE, str(exc))
    try:
        write_report(journal, sys.stdout, fmt=args.format, failed_only=args.failed_only)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        journal.close()
    return ExitCode.OK
