"""Finding a job: a built-in name (``bulkops.jobs.<name>``) or a path to a user's ``.py`` file."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType

from bulkops.errors import shown
from bulkops.redaction import redact
from bulkops.run.job import Job, JobConfigError
from bulkops.run.userfile import read_user_bytes, read_user_text

__all__ = ["builtin_job_names", "is_job_path", "load_job_class"]

_JOB_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def is_job_path(spec: str) -> bool:
    """True when ``spec`` names a file rather than a built-in job."""
    return spec.endswith(".py") or "/" in spec or "\\" in spec


def builtin_job_names() -> list[str]:
    """Built-in jobs as typed on the command line (``bulkops.jobs.BUILTIN_JOBS``, in its order)."""
    try:
        from bulkops.jobs import BUILTIN_JOBS
    except ImportError:  # pragma: no cover - the package always ships its jobs
        return []
    return list(BUILTIN_JOBS)


def _jobs_in(module: ModuleType) -> list[type[Job]]:
    return [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, Job)
        and obj is not Job
        and obj.__module__ == module.__name__
    ]


def load_job_class(spec: str) -> type[Job]:
    """The ``Job`` subclass a built-in name or a file path stands for."""
    module = _load_file(Path(spec)) if is_job_path(spec) else _load_builtin(spec)
    jobs = _jobs_in(module)
    if not jobs:
        raise JobConfigError(f"{spec} defines no Job subclass: subclass bulkops.run.Job in it")
    named = [j for j in jobs if j.name]
    candidates = named or jobs
    if len(candidates) > 1:
        wanted = spec.replace("_", "-")
        exact = [j for j in candidates if j.name == wanted]
        if len(exact) == 1:
            return exact[0]
        names = ", ".join(j.__name__ for j in candidates)
        raise JobConfigError(f"{spec} defines several jobs ({names}): keep one per file")
    return candidates[0]


def _load_builtin(name: str) -> ModuleType:
    module_name = f"bulkops.jobs.{name.replace('-', '_')}"
    try:
        if not _JOB_NAME.fullmatch(name):  # "..", "a.b", "@": not a module of bulkops.jobs
            raise ModuleNotFoundError(name=module_name)
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name not in (module_name, "bulkops.jobs"):
            raise
        known = ", ".join(builtin_job_names()) or "none installed"
        raise JobConfigError(
            f"unknown job {shown(repr(name))}: built-in jobs are {known}; or give a path to a "
            ".py file"
        ) from None


def _check_source(path: Path) -> None:
    """One line when the job file is missing, a directory, unreadable or not Python text."""
    expected = "a Python file (UTF-8) defining a bulkops.run.Job subclass"
    data = read_user_bytes(path, "job file", expected, error=JobConfigError)
    try:
        text = importlib.util.decode_source(data)  # UTF-8, or the file's coding: cookie
    except (SyntaxError, UnicodeDecodeError, LookupError):
        read_user_text(path, "job file", expected, error=JobConfigError)  # says what is wrong
        raise JobConfigError(
            f"job file {shown(path)} is not text in its declared encoding"
        ) from None
    if "\x00" in text:
        raise JobConfigError(
            f"job file {shown(path)} is not text (it holds NUL bytes): expected {expected}"
        )


def _load_file(path: Path) -> ModuleType:
    try:
        path = path.expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # a name too long, a loop of links, no home dir
        raise JobConfigError(f"job file {shown(path)} cannot be read: {exc}") from None
    _check_source(path)
    module_name = f"bulkops_userjob_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise JobConfigError(f"cannot load {path} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise JobConfigError(
            f"loading job file {path} failed: {type(exc).__name__}: {redact(str(exc))}"
        ) from exc
    return module
