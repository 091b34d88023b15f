"""Calling a job's own code: its mistakes become one clear message, before anything is sent.

A bug in ``Job.prepare``/``sources``/``plan`` (a ``KeyError`` on a missing field, say) is not a
failure of the API nor of the journal: ``guard_job_code`` turns it into ``JobCodeError`` (a
``JobConfigError``, so the CLI exits 2) naming the job, the exception and the line of the job's
file where it was raised. ``unique_keys`` checks what ``plan()`` yields as it goes.
"""

from __future__ import annotations

import contextlib
import inspect
import traceback
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from bulkops.errors import BulkopsError, JobCodeError, JobConfigError
from bulkops.run.job import Job, Operation, Skip

__all__ = ["JobCodeError", "guard_job_code", "unique_keys"]

_PACKAGE = Path(__file__).resolve().parents[1]


def job_label(job: Job) -> str:
    """How messages name a job: its ``name``, else its class name."""
    return job.name or type(job).__name__


@contextlib.contextmanager
def guard_job_code(job: Job, doing: str) -> Iterator[None]:
    """Turn an unexpected exception from the job's code inside the block into JobCodeError."""
    try:
        yield
    except BulkopsError:
        raise
    except Exception as exc:
        where = _where(job, exc)
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise JobCodeError(
            f"job {job_label(job)} failed while {doing}: {detail}{where}; nothing was sent"
        ) from exc


def _where(job: Job, exc: BaseException) -> str:
    """`` (file.py, line N)`` of the deepest frame in the job's file (else outside bulkops)."""
    frames = traceback.extract_tb(exc.__traceback__)
    try:
        job_file = Path(inspect.getfile(type(job))).resolve()
    except (TypeError, OSError):
        job_file = None
    mine = [f for f in frames if job_file is not None and Path(f.filename).resolve() == job_file]
    if not mine:
        mine = [f for f in frames if not _is_library(Path(f.filename))]
    if not mine:
        return ""
    frame = mine[-1]
    return f" ({Path(frame.filename).name}, line {frame.lineno})"


def _is_library(path: Path) -> bool:
    resolved = path.resolve()
    return (
        resolved.is_relative_to(_PACKAGE)
        or "site-packages" in resolved.parts
        or resolved.is_relative_to(Path(inspect.getfile(contextlib)).parent)
    )


async def unique_keys(
    job: Job, entries: AsyncIterator[Operation | Skip]
) -> AsyncIterator[Operation | Skip]:
    """Pass ``entries`` on, refusing a non-plan value or an operation key seen before."""
    seen: set[str] = set()
    async for entry in entries:
        if not isinstance(entry, (Operation, Skip)):
            raise JobConfigError(
                f"job {job_label(job)}: plan() yielded {entry!r}: expected Operation or Skip"
            )
        if isinstance(entry, Operation):
            if entry.key in seen:
                raise JobConfigError(
                    f"job {job_label(job)}: operation key {entry.key!r} is yielded twice "
                    "(keys must be unique within a run); nothing was sent"
                )
            seen.add(entry.key)
        yield entry
