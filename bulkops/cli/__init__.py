"""The one door: ``bulkops COMMAND ...``. Parses, wires, prints; no business logic here.

Each command lives in a module of this package that exposes ``register(subparsers)``; the
parser it adds sets ``handler`` (``args -> exit code``). Exit codes are a contract:
0 all done, 1 some operations failed, 2 usage/configuration error, 3 interrupted (resumable),
4 fatal API/auth error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bulkops import __version__

__all__ = ["build_parser", "main"]

COMMAND_MODULES = ("demo", "emulator", "runs", "reports")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_FATAL = 0, 1, 2, 3, 4


def fail(code: int, message: str) -> int:
    """Print ``bulkops: message`` on stderr and return ``code`` (a handler's exit code)."""
    print(f"bulkops: {message}", file=sys.stderr)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bulkops",
        description="Bulk operations and migrations for the Statsig Console API.",
    )
    parser.add_argument("--version", action="version", version=f"bulkops {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"bulkops.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return int(handler(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
