"""The runs of a state dir, and which old ones ``bulkops prune`` may remove.

A run may be removed when it is over (complete, abandoned, a dry run) and idle for longer than
an age, measured from its last activity; runs that could still be resumed (planned,
interrupted, incomplete, fatal) only when asked. A run some process holds (its lock is taken)
is never removed, and neither is a file that is not a bulkops journal. Removing deletes the
journal with its ``-wal``, ``-shm`` and ``.lock`` files, under the run's lock.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkops.errors import ConfigError, JournalError, JournalInUseError
from bulkops.run.journal import Journal
from bulkops.run.lock import JournalLock
from bulkops.run.report import run_status
from bulkops.run.statedir import StateDir
from bulkops.run.states import Phase

__all__ = ["FINISHED_PHASES", "PruneResult", "RunRecord", "list_runs", "parse_age", "prune_runs"]

#: Phases of runs that are over: nothing to resume.
FINISHED_PHASES = frozenset({Phase.COMPLETE, Phase.ABANDONED, Phase.DRY_RUN})
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_SECONDS = {"": 86400, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str) -> float:
    """``"30d"`` -> seconds; a bare number is days; anything else is a ``ConfigError``."""
    match = _AGE.match(text or "")
    if not match:
        raise ConfigError(f"--older-than {text!r}: expected a number and a unit (s, m, h, d, w)")
    return float(match.group(1)) * _SECONDS[match.group(2)]


@dataclass(frozen=True)
class RunRecord:
    """One run of the state dir: its status (``run_status``) and when it was last active."""

    run_id: str
    path: Path
    status: dict[str, Any]
    last_active: float

    @property
    def job_name(self) -> str:
        """The job as a short name (a job file's name, not its path)."""
        text = str(self.status.get("job") or "?")
        return Path(text).name if "/" in text else text


def list_runs(state: StateDir) -> list[RunRecord]:
    """Every readable run of ``state``, oldest first."""
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
        found.append(RunRecord(info.run_id, path, status, last))
    return found


@dataclass(frozen=True)
class PruneResult:
    """What ``prune_runs`` did with one run: removed (or would), or kept because in use."""

    run: RunRecord
    removed: bool


def prune_runs(
    state: StateDir, age: float, *, include_unfinished: bool = False, dry_run: bool = False
) -> Iterator[PruneResult]:
    """Remove (or, ``dry_run``, only name) the runs idle for longer than ``age`` seconds."""
    cutoff = time.time() - age
    for run in list_runs(state):
        if run.last_active > cutoff:
            continue
        if run.status["phase"] not in FINISHED_PHASES and not include_unfinished:
            continue
        yield PruneResult(run, _remove(run, dry_run=dry_run))


def _remove(run: RunRecord, *, dry_run: bool) -> bool:
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
