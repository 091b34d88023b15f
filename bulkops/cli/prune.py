"""`bulkops list` and `bulkops prune`: the runs in the state dir, and removing old ones.

    bulkops list [--json]
    bulkops prune [--older-than 30d] [--dry-run] [--include-unfinished]

``prune`` removes the journals (with their ``-wal``, ``-shm`` and ``.lock`` files) of runs that
are over (complete, abandoned, dry runs) and older than the age, measured from their last
activity. Runs that could still be resumed (planned, interrupted, incomplete, fatal) are kept
unless ``--include-unfinished``; a run some process holds (its lock is taken) is never removed,
and neither is a file that is not a bulkops journal.
"""

from __future__ import annotations

import argparse
import sys
import time

import orjson

from bulkops.cli import fail, options
from bulkops.run import (
    ConfigError,
    ExitCode,
    JournalError,
    StateDir,
    list_runs,
    parse_age,
    prune_runs,
)

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `list` and `prune` to the `bulkops` parser."""
    listing = subparsers.add_parser("list", help="the runs in the state dir, oldest first")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    options.add_state_dir_option(listing)
    listing.set_defaults(handler=cmd_list)

    prune = subparsers.add_parser(
        "prune",
        help="remove the journals of old finished runs and dry runs",
        description="Remove the journals (and their -wal/-shm/.lock files) of runs that are over "
        "(complete, abandoned, dry runs) and older than --older-than. A run in use is never "
        "removed.",
    )
    prune.add_argument(
        "--older-than",
        default="30d",
        metavar="AGE",
        help="only runs idle for longer than AGE (s, m, h, d, w; default 30d; 0 for all)",
    )
    prune.add_argument("--dry-run", action="store_true", help="say what would go, remove nothing")
    prune.add_argument(
        "--include-unfinished",
        action="store_true",
        help="also runs that could be resumed (planned, interrupted, incomplete, fatal)",
    )
    options.add_state_dir_option(prune)
    prune.set_defaults(handler=cmd_prune)


def cmd_list(args: argparse.Namespace) -> int:
    """`bulkops list`: one line per run (id, job, phase, created, counts)."""
    try:
        state = StateDir(options.state_dir(args))
        runs = list_runs(state)
    except (ConfigError, JournalError) as exc:
        return fail(ExitCode.USAGE, str(exc))
    if not runs and not args.json:
        print(f"no runs in {state.path}", file=sys.stderr)
    width = max((len(run.run_id) for run in runs), default=0)
    for run in runs:
        status = run.status
        counts = {k: v for k, v in status["counts"].items() if v}
        created = status.get("created_at")
        if args.json:
            row = {k: status.get(k) for k in ("run_id", "job", "phase", "created_at")}
            print(orjson.dumps({**row, "counts": counts}).decode())
            continue
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(created)) if created else "?"
        shown = ", ".join(f"{k} {v}" for k, v in counts.items()) or "no operations"
        print(f"{run.run_id:<{width}}  {when}  {run.job_name:<20}  {status['phase']:<11}  {shown}")
    return ExitCode.OK


def cmd_prune(args: argparse.Namespace) -> int:
    """`bulkops prune`: remove old finished runs, never one in use."""
    try:
        age = parse_age(args.older_than)
        state = StateDir(options.state_dir(args))
        results = list(
            prune_runs(state, age, include_unfinished=args.include_unfinished, dry_run=args.dry_run)
        )
    except (ConfigError, JournalError) as exc:
        return fail(ExitCode.USAGE, str(exc))
    verb = "would remove" if args.dry_run else "removed"
    removed = 0
    for result in results:
        run = result.run
        if not result.removed:
            print(f"kept {run.run_id}: in use by another process", file=sys.stderr)
            continue
        removed += 1
        print(f"{verb} {run.run_id} ({run.job_name}, {run.status['phase']})")
    what = "would be removed" if args.dry_run else "removed"
    print(f"{removed} run(s) {what} from {state.path}", file=sys.stderr)
    return ExitCode.OK
