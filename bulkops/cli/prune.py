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
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bulkops.api.errors import ConfigError
from bulkops.cli import EXIT_OK, EXIT_USAGE, fail, options
from bulkops.run.journal import Journal, JournalError
from bulkops.run.lock import JournalInUseError, JournalLock
from bulkops.run.report import run_status
from bulkops.run.statedir import StateDir

__all__ = ["FINISHED_PHASES", "parse_age", "register"]

#: Phases of runs that are over: nothing to resume.
FINISHED_PHASES = frozenset({"complete", "abandoned", "dry-run"})
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_SECONDS = {"": 86400, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


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


def parse_age(text: str) -> float:
    """``"30d"`` -> seconds; a bare number is days; anything else is a ``ConfigError``."""
    match = _AGE.match(text or "")
    if not match:
        raise ConfigError(f"--older-than {text!r}: expected a number and a unit (s, m, h, d, w)")
    return float(match.group(1)) * _SECONDS[match.group(2)]


@dataclass(frozen=True)
class _Run:
    run_id: str
    path: Path
    status: dict[str, Any]
    last_active: float


def _runs(state: StateDir) -> list[_Run]:
    found = []
    for info in state.runs():
        path = state.journal_path(info.run_id)
        try:
            journal = Journal.open(path, readonly=True)
        except JournalError:
            continue
        try:
            status = run_status(journal)
            meta = journal.meta()
        finally:
            journal.close()
        stamps = [meta.get(k) for k in ("created_at", "resumed_at", "finished_at")]
        last = max([float(s) for s in stamps if isinstance(s, (int, float))] or [0.0])
        found.append(_Run(info.run_id, path, status, last))
    return found


def cmd_list(args: argparse.Namespace) -> int:
    """`bulkops list`: one line per run (id, job, phase, created, counts)."""
    try:
        state = StateDir(options.state_dir(args))
        runs = _runs(state)
    except (ConfigError, JournalError) as exc:
        return fail(EXIT_USAGE, str(exc))
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
        job, phase = _job_name(status.get("job")), status["phase"]
        print(f"{run.run_id:<{width}}  {when}  {job:<20}  {phase:<11}  {shown}")
    return EXIT_OK


def _job_name(job: Any) -> str:
    text = str(job or "?")
    return Path(text).name if "/" in text else text


def cmd_prune(args: argparse.Namespace) -> int:
    """`bulkops prune`: remove old finished runs, never one in use."""
    try:
        age = parse_age(args.older_than)
        state = StateDir(options.state_dir(args))
        runs = _runs(state)
    except (ConfigError, JournalError) as exc:
        return fail(EXIT_USAGE, str(exc))
    cutoff = time.time() - age
    verb = "would remove" if args.dry_run else "removed"
    removed = kept_in_use = 0
    for run in runs:
        phase = run.status["phase"]
        if run.last_active > cutoff:
            continue
        if phase not in FINISHED_PHASES and not args.include_unfinished:
            continue
        if not _remove(run, dry_run=args.dry_run):
            kept_in_use += 1
            print(f"kept {run.run_id}: in use by another process", file=sys.stderr)
            continue
        removed += 1
        print(f"{verb} {run.run_id} ({_job_name(run.status.get('job'))}, {phase})")
    what = "would be removed" if args.dry_run else "removed"
    print(f"{removed} run(s) {what} from {state.path}", file=sys.stderr)
    return EXIT_OK


def _remove(run: _Run, *, dry_run: bool) -> bool:
    """Delete a run's files while holding its lock; False when another process holds it."""
    lock = JournalLock(run.path)
    if dry_run:
        return not lock.is_held()
    try:
        lock.acquire(run.run_id)
    except JournalInUseError:
        return False
    try:
        for suffix in ("-wal", "-shm", ""):
            _unlink(Path(f"{run.path}{suffix}"))
        _unlink(lock.path)
    finally:
        lock.release()
    return True


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
