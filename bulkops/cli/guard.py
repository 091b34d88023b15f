"""The last resort at the CLI door: no traceback ever reaches the user.

Every error bulkops raises on purpose is a ``BulkopsError`` that the commands turn into one
``bulkops: ...`` line and an exit code. Anything else reaching ``main()`` is a bug:
``internal_error`` says so in one line on stderr, writes the traceback to a file (mode 0600,
every key the process holds redacted by ``bulkops.redaction``) and returns ``ExitCode.INTERNAL`` (5). A ``BulkopsError`` that escaped its
command gets its own message and the exit code of its kind. ``BULKOPS_DEBUG=1`` also prints the
traceback on stderr. ``KeyboardInterrupt`` and ``SystemExit`` are not caught here.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence

from bulkops import __version__
from bulkops.errors import (
    BudgetLostError,
    BulkopsError,
    ConfigError,
    RunInterrupted,
)
from bulkops.redaction import redact
from bulkops.run.states import ExitCode

__all__ = ["escaped_error", "internal_error", "one_line"]

_MAX_MESSAGE = 300


def one_line(text: str, limit: int = _MAX_MESSAGE) -> str:
    """``text`` on one line (whitespace runs folded), cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def leaf(exc: BaseException) -> BaseException:
    """The one error inside (nested) exception groups, or the group itself."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def escaped_error(exc: BulkopsError) -> ExitCode:
    """The exit code of a ``BulkopsError`` that reached the door (its command let it out)."""
    if isinstance(exc, ConfigError):
        return ExitCode.USAGE
    if isinstance(exc, RunInterrupted | BudgetLostError):
        return ExitCode.INTERRUPTED
    return ExitCode.FATAL


def internal_error(exc: BaseException, argv: Sequence[str]) -> tuple[ExitCode, str]:
    """Record an unexpected exception; return exit 5 and the one line to say about it."""
    details = redact("".join(traceback.format_exception(exc)))
    if os.environ.get("BULKOPS_DEBUG", "").strip() not in ("", "0"):
        print(details, file=sys.stderr, end="")
    where = _write_details(details, argv)
    what = redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    message = (
        f"internal error: {one_line(what)} (a bug in bulkops {__version__}; please report it "
        f"with {where})"
    )
    return ExitCode.INTERNAL, message


def _write_details(details: str, argv: Sequence[str]) -> str:
    """Write the traceback to a private temp file; how the message points at it."""
    command = redact(" ".join(["bulkops", *argv]))
    header = (
        f"bulkops {__version__} internal error at {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
        f"python {sys.version.split()[0]} on {sys.platform}\n"
        f"command: {one_line(command, 2000)}\n\n"
    )
    try:
        fd, path = tempfile.mkstemp(prefix="bulkops-internal-error-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as out:
            out.write(header + details)
    except OSError as err:
        return f"the command you ran (the details could not be written: {err.strerror})"
    return f"the details in {path}"
