"""Calling a job's own code: its mistakes become one clear message, before anything is sent.

A bug in ``Job.prepare``/``sources``/``plan`` (a ``KeyError`` on a missing field, say) is not a
failure of the API nor of the journal: ``guard_job_code`` turns it into ``JobCodeError`` (a
``JobConfigError``, so the CLI exits 2) naming the job, the exception and the line of the job's
file where it was raised (its message without any key of the process). ``PlanCheck`` checks what the plan gives as it comes.
"""

from __future__ import annotations

import contextlib
import inspect
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from bulkops.errors import BulkopsError, JobCodeError, JobConfigError
from bulkops.redaction import redact
from bulkops.run.job import Job, Operation, Skip, Source, built_at
from bulkops.run.plandata import operation_problem, skip_problem

__all__ = ["JobCodeError", "PlanCheck", "guard_job_code", "job_sources"]

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
        detail = f"{type(exc).__name__}: {redact(str(exc))}" if str(exc) else type(exc).__name__
        raise JobCodeError(
            f"job {job_label(job)} failed while {doing}: {detail}{where}; nothing was sent"
        ) from exc


def job_sources(job: Job) -> list[Source]:
    """``job.sources()``, checked: each a ``Source``, and some when the job plans per item.

    A job that overrides ``plan_item`` (and not ``plan``) but lists nothing would plan nothing
    and say nothing of it: a ``sources`` misspelt ``source``, or one returning ``None``.
    """
    with guard_job_code(job, "listing its sources"):
        sources = list(job.sources() or ())
    label = job_label(job)
    for source in sources:
        if not isinstance(source, Source):
            raise JobCodeError(
                f"job {label}: sources() gave {type(source).__name__} {source!r:.80}: "
                "expected bulkops.run.Source objects, e.g. [Source('gates')]; nothing was sent"
            )
    cls = type(job)
    if not sources and cls.plan_item is not Job.plan_item and cls.plan is Job.plan:
        hint = (
            " (the job defines source(): the method is sources())" if hasattr(cls, "source") else ""
        )
        raise JobCodeError(
            f"job {label} plans item by item (plan_item) but sources() lists nothing, so it "
            f"would plan nothing{hint}: return the lists to read, e.g. [Source('gates')]; "
            "nothing was sent"
        )
    return sources


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


class PlanCheck:
    """Checks each planned entry as it comes: a plan value, a key not seen before, JSON data.

    An Operation must round-trip through the journal as JSON (``bulkops.run.plandata``): a body
    holding a set, bytes or a dict with non-string keys is refused here (``JobCodeError``),
    naming the operation, the line of the job's file that built it, and the offending field,
    before anything is stored or sent.
    """

    def __init__(self, job: Job) -> None:
        self.job = job
        self.seen: set[str] = set()

    def __call__(self, entry: Any) -> Operation | Skip:
        job = self.job
        if not isinstance(entry, (Operation, Skip)):
            raise JobConfigError(
                f"job {job_label(job)}: its plan gave {entry!r}: expected Operation or Skip"
                f"{_method_line(job)}"
            )
        if isinstance(entry, Operation):
            _check_json(job, entry)
            if entry.key in self.seen:
                raise JobConfigError(
                    f"job {job_label(job)}: operation key {entry.key!r} is planned twice "
                    f"(keys must be unique within a run){_method_line(job)}; nothing was sent"
                )
            self.seen.add(entry.key)
        else:
            problem = skip_problem(entry)
            if problem is not None:
                raise JobCodeError(
                    f"job {job_label(job)}: a Skip{_method_line(job)}: {problem}; nothing was sent"
                )
        return entry


def _check_json(job: Job, op: Operation) -> None:
    """Refuse an operation whose data would not come back the same from the journal."""
    problem = operation_problem(op)
    if problem is None:
        try:
            orjson.dumps(op.to_dict())
        except TypeError as exc:  # what the walk does not foresee (a very deep undo chain)
            problem = f"it is not JSON ({exc})"
    if problem is not None:
        raise JobCodeError(
            f"job {job_label(job)}: operation {op.key!r}{_built_line(job, op)}: {problem}; "
            "nothing was sent"
        )


def _built_line(job: Job, op: Operation) -> str:
    """`` (file.py, line N)`` where the job built ``op``, else its planning method's line."""
    built = built_at(op)
    if built is not None and not _is_library(Path(built[0])):
        return f" ({Path(built[0]).name}, line {built[1]})"
    return _method_line(job)


def _method_line(job: Job) -> str:
    """`` (file.py, line N: plan_item)`` of the job's own planning method."""
    cls = type(job)
    for name in ("plan_item", "plan", "plan_end"):
        method = getattr(cls, name, None)
        if method is None or getattr(Job, name) is method:
            continue
        try:
            _, line = inspect.getsourcelines(method)
            path = Path(inspect.getfile(method)).name
        except (OSError, TypeError):
            continue
        return f" ({path}, line {line}: {name})"
    return ""
