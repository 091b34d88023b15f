"""The one door: ``bulkops COMMAND ...``. Parses, wires, prints; no business logic here.

Each command lives in a module of this package that exposes ``register(subparsers)``; the
parser it adds sets ``handler`` (``args -> exit code``). Exit codes are a contract:
0 all done, 1 some operations failed, 2 usage/configuration error, 3 interrupted (resumable),
4 fatal API/auth error, 5 internal error (a bug: one line on stderr, the traceback in a file;
see ``bulkops.cli.guard``). Every byte written to stdout and stderr passes through
``bulkops.redaction`` (no key the process holds is ever printed).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import textwrap
from collections.abc import Callable, Sequence

from bulkops import __version__
from bulkops.redaction import redacted_output
from bulkops.run import ExitCode

__all__ = ["build_parser", "main"]

COMMAND_MODULES = ("demo", "emulator", "runs", "reports", "prune", "export", "verify")


def fail(code: int, message: str, *, log_json: bool = False) -> int:
    """Say ``bulkops: message`` on stderr (a JSON ``error`` event with ``log_json``); return ``code``."""
    from bulkops.cli.runlog import emit

    emit(log_json, "error", {"message": message, "exit_code": code}, f"bulkops: {message}")
    return code


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose epilog may be computed when help is shown (``lazy_epilog``)."""

    lazy_epilog: Callable[[], str] | None = None

    def format_help(self) -> str:
        if self.lazy_epilog is not None:
            self.epilog = self.lazy_epilog()
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bulkops",
        description="Bulk operations and migrations for the Statsig Console API.",
    )
    parser.add_argument("--version", action="version", version=f"bulkops {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"bulkops.cli.{name}").register(subparsers)
    run = subparsers.choices.get("run")
    if isinstance(run, _Parser):
        run.description = textwrap.fill(run.description or "", 88)
        run.formatter_class = argparse.RawDescriptionHelpFormatter
        run.lazy_epilog = builtin_jobs_help
    return parser


def builtin_jobs_help() -> str:
    """The built-in jobs with their one-line help, for ``bulkops run --help``."""
    from bulkops.run import JobConfigError, builtin_job_names, load_job_class

    lines = ["built-in jobs (`bulkops run JOB --help` shows a job's options):"]
    for name in builtin_job_names():
        try:
            summary = load_job_class(name).help
        except (JobConfigError, ImportError) as exc:  # one broken job must not hide the others
            summary = f"(cannot be loaded: {type(exc).__name__})"
        lines.append(f"  {name:<21} {summary}")
    lines.append("or a path to a .py file defining a Job subclass (see docs/jobs.md)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bulkops ARGV``; whatever it prints passes through ``bulkops.redaction``."""
    raw = list(sys.argv[1:] if argv is None else argv)
    with redacted_output(raw):
        try:
            return _dispatch(raw)
        except Exception as exc:  # noqa: BLE001 - the last resort (KeyboardInterrupt passes)
            if _is_broken_pipe(exc):
                return _reader_left()
            return _last_resort(exc, raw)


def _dispatch(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    code = int(handler(args))
    sys.stdout.flush()
    return code


def _last_resort(exc: Exception, argv: list[str]) -> int:
    """An exception no command handled: one line on stderr and a defined exit code."""
    from bulkops.cli import guard
    from bulkops.cli.runlog import wants_json
    from bulkops.errors import BulkopsError
    from bulkops.redaction import redact

    inner = guard.leaf(exc)
    if isinstance(inner, BulkopsError):
        code, message = guard.escaped_error(inner), redact(str(inner))
    else:
        code, message = guard.internal_error(exc, argv)
    return fail(code, guard.one_line(message, 2000), log_json=wants_json(argv))


def _is_broken_pipe(exc: BaseException) -> bool:
    """A BrokenPipeError, alone or as the only kind of error in an (anyio) exception group."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_broken_pipe(inner) for inner in exc.exceptions)
    return isinstance(exc, BrokenPipeError)


def _reader_left() -> int:
    """stdout's reader went away (``bulkops report ID | head``): stop quietly, like other CLIs.

    Python would print a BrokenPipeError when flushing stdout at exit; pointing stdout at
    /dev/null first makes that flush a no-op. What was already done stays done (the journal).
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a real file (tests): nothing to redirect
        pass
    return ExitCode.OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
