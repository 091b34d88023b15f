"""The state dir: where run journals live, how runs are named, found and locked.

``--state-dir``, else ``BULKOPS_STATE_DIR``, else ``./.bulkops/`` (created 0700). Each run is
``<run id>.journal`` (0600) plus ``<run id>.journal.lock`` held by the process running it.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkops.api.errors import ConfigError
from bulkops.errors import shown
from bulkops.run.journal import Journal, JournalError, journal_path
from bulkops.run.lock import JournalLock
from bulkops.run.states import UNFINISHED_PHASES

__all__ = [
    "DEFAULT_STATE_DIR",
    "ENV_STATE_DIR",
    "RunInfo",
    "StateDir",
    "new_run_id",
    "resolve_state_dir",
]

ENV_STATE_DIR = "BULKOPS_STATE_DIR"
DEFAULT_STATE_DIR = ".bulkops"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def resolve_state_dir(value: str | os.PathLike[str] | None = None) -> Path:
    """The state dir from the argument, else ``BULKOPS_STATE_DIR``, else ``./.bulkops``."""
    return Path(value or os.environ.get(ENV_STATE_DIR) or DEFAULT_STATE_DIR)


def new_run_id(job_name: str) -> str:
    """A fresh, sortable run id such as ``20240601-120501-attach-holdout-3f9a``."""
    slug = re.sub(r"[^A-Za-z0-9-]+", "-", Path(job_name).stem).strip("-")[:40] or "run"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}-{secrets.token_hex(2)}"


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if usable as a file name, else raise ConfigError."""
    if not _RUN_ID.match(run_id):
        raise ConfigError(
            f"run id {run_id!r} is not usable: use letters, digits, '.', '_' and '-' "
            "(at most 128, starting with a letter or digit)"
        )
    return run_id


@dataclass(frozen=True)
class RunInfo:
    """What ``bulkops status`` lists about a run without opening it for writing."""

    run_id: str
    job: str
    phase: str
    created_at: float


class StateDir:
    """The runs under one state dir."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def journal_path(self, run_id: str) -> Path:
        """The journal file of ``run_id`` in this state dir."""
        return journal_path(self.path, check_run_id(run_id))

    def _unusable(self, reason: str) -> ConfigError:
        return ConfigError(
            f"cannot use state dir {shown(self.path)}: {reason} (--state-dir / {ENV_STATE_DIR})"
        )

    def _ensure(self) -> None:
        """Create the dir (0700) if missing; ConfigError when it cannot be a writable dir."""
        try:
            if self.path.exists() and not self.path.is_dir():
                raise self._unusable("not a directory")
            if not self.path.exists():
                self.path.mkdir(parents=True, mode=0o700)
                os.chmod(self.path, 0o700)
        except FileExistsError:
            if not self.path.is_dir():  # another process made it meanwhile: fine if a dir
                raise self._unusable("not a directory") from None
        except OSError as exc:
            raise self._unusable(exc.strerror or str(exc)) from None
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise self._unusable("not writable")

    def create(self, run_id: str, meta: Mapping[str, Any]) -> tuple[Journal, JournalLock]:
        """Create and lock a new run's journal (ConfigError when the dir is unusable)."""
        self._ensure()
        path = self.journal_path(run_id)
        lock = JournalLock(path)
        try:
            lock.acquire(run_id)
        except OSError as exc:
            raise self._unusable(exc.strerror or str(exc)) from None
        try:
            return Journal.create(path, {"run_id": run_id, **meta}), lock
        except OSError as exc:
            lock.release()
            raise self._unusable(exc.strerror or str(exc)) from None
        except sqlite3.Error as exc:  # SQLite cannot make its file there (a FUSE mount, ...)
            lock.release()
            raise self._unusable(f"SQLite: {exc}") from None
        except BaseException:
            lock.release()
            raise

    def discard(self, run_id: str) -> None:
        """Delete a run's files (journal, WAL, lock): for a run that never got a plan."""
        path = self.journal_path(run_id)
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(str(path) + suffix).unlink(missing_ok=True)

    def open_locked(self, run_id: str) -> tuple[Journal, JournalLock]:
        """Open an existing run for writing, holding its lock (refused while another holds it)."""
        path = self.journal_path(run_id)
        if not path.exists():
            raise JournalError(
                f"no run {run_id} in {shown(self.path)}: check the id and --state-dir"
            )
        lock = JournalLock(path)
        try:
            lock.acquire(run_id)
        except OSError as exc:
            raise self._unusable(exc.strerror or str(exc)) from None
        try:
            return Journal.open(path), lock
        except BaseException:
            lock.release()
            raise

    def open_readonly(self, run_id: str) -> Journal:
        """Open a run for reading (status, report); no lock needed."""
        path = self.journal_path(run_id)
        if not path.exists():
            raise JournalError(
                f"no run {run_id} in {shown(self.path)}: check the id and --state-dir"
            )
        return Journal.open(path, readonly=True)

    def runs(self) -> Iterator[RunInfo]:
        """Every readable run, oldest first (foreign files are passed over)."""
        try:
            if not self.path.is_dir():
                return
        except OSError as exc:  # a name too long, a loop of links
            raise self._unusable(exc.strerror or str(exc)) from None
        infos = []
        for path in self.path.glob("*.journal"):
            try:
                journal = Journal.open(path, readonly=True)
            except JournalError:
                continue
            try:
                meta = journal.meta()
            finally:
                journal.close()
            infos.append(
                RunInfo(
                    str(meta.get("run_id", path.stem)),
                    str(meta.get("job", "?")),
                    str(meta.get("phase", "?")),
                    float(meta.get("created_at", 0.0)),
                )
            )
        yield from sorted(infos, key=lambda info: (info.created_at, info.run_id))

    def latest(self, *, unfinished: bool = False) -> str:
        """The id of the most recent run (or unfinished run); ConfigError when there is none."""
        runs = [r for r in self.runs() if not unfinished or r.phase in UNFINISHED_PHASES]
        if not runs:
            what = "unfinished run" if unfinished else "run"
            raise ConfigError(
                f"no {what} in {shown(self.path)}: give a RUN_ID or check --state-dir"
            )
        return runs[-1].run_id
