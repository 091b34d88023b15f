"""How the run commands speak on stderr: plain text, or one JSON object a line.

With ``--log-format json`` every line a run writes to stderr is a JSON object with an
``event`` (``run``, ``resume``, ``plan``, ``limits``, ``notice``, ``progress``, ``finished``,
``hint``, ``error``); usage errors of a job's options included.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import orjson

from bulkops.run import ExitCode

__all__ = ["DEBUG_ENV", "JobParser", "debugging", "emit", "wants_json"]

DEBUG_ENV = "BULKOPS_DEBUG"


class JobParser(argparse.ArgumentParser):
    """A job's parser; with ``--log-format json`` its usage errors are JSON lines too."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        if self.json_errors:
            emit(True, "error", {"message": message, "exit_code": ExitCode.USAGE}, message)
            sys.exit(ExitCode.USAGE)
        super().error(message)


def wants_json(argv: Sequence[str]) -> bool:
    """``--log-format json`` among raw arguments (before they could be parsed)."""
    argv = list(argv)
    pairs = zip(argv, [*argv[1:], ""], strict=False)
    return "--log-format=json" in argv or any(a == "--log-format" and b == "json" for a, b in pairs)


def debugging() -> bool:
    """True when ``BULKOPS_DEBUG`` is set (not 0): debug logs and full tracebacks on stderr."""
    if os.environ.get(DEBUG_ENV, "").strip() in ("", "0"):
        return False
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    return True


def emit(log_json: bool, event: str, data: dict[str, Any], text: str) -> None:
    """One stderr line: ``{"event": ..., **data}`` in JSON mode, else ``text``."""
    if log_json:
        print(orjson.dumps({"event": event, **data}).decode(), file=sys.stderr)
    else:
        print(text, file=sys.stderr)
