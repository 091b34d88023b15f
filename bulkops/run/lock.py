"""One writer per run: an exclusive ``flock`` on ``<journal>.lock`` while a process runs it.

The lock is the operating system's, so it is released when the process dies (even by
``kill -9``); the file itself stays and holds the last holder's pid for the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from bulkops.errors import JournalInUseError

__all__ = ["JournalInUseError", "JournalLock"]


class JournalLock:
    """An exclusive ``flock`` on ``<journal>.lock``, held while a process runs or resumes a run."""

    def __init__(self, path: Path) -> None:
        self.path = Path(str(path) + ".lock")
        self._fd: int | None = None

    def acquire(self, run_id: str) -> None:
        """Take the lock or raise ``JournalInUseError`` naming the holder's pid."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise JournalInUseError(
                f"run {run_id} is in use by process {holder} (a run, resume or revert of it is "
                f"still going): wait for it to end, or stop it with Ctrl-C, then try again; "
                f"`bulkops status {run_id}` shows its progress"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def is_held(self) -> bool:
        """Whether some process holds the lock now (without taking it, nor writing the file)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    def release(self) -> None:
        """Give the lock back (the lock file stays)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
