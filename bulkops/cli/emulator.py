"""`bulkops emulator`: run the local Console API emulator until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

__all__ = ["register", "run_emulator"]


def _project(text: str) -> tuple[str, str]:
    name, sep, key = text.partition("=")
    if not sep or not name or not key:
        raise argparse.ArgumentTypeError(f"expected NAME=KEY, got {text!r}")
    return name, key


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's commands to the `bulkops` parser."""
    parser = subparsers.add_parser(
        "emulator",
        help="run a local Console API emulator",
        description="Serve a local Statsig Console API on loopback (for rehearsals and tests). "
        "Without --project: one project 'default' with key 'console-local'.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8800, help="port (0 picks a free one)")
    parser.add_argument(
        "--project",
        action="append",
        type=_project,
        metavar="NAME=KEY",
        help="a project and its API key (repeatable)",
    )
    parser.add_argument("--seed", metavar="SNAPSHOT.json", help="load this snapshot at start")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply rate-limit windows (0.01: 10 s → 100 ms)",
    )
    parser.add_argument("--page-cap", type=int, default=100, help="largest page size served")
    parser.add_argument(
        "--no-retry-after", action="store_true", help="send 429s without a Retry-After header"
    )
    parser.add_argument("--rng-seed", type=int, default=0, help="seed of generated ids/faults")
    parser.set_defaults(handler=run_emulator)


def run_emulator(args: Any) -> int:
    """Start, print one line once accepting connections, serve until SIGTERM/SIGINT."""
    from bulkops.emulator import EmulatorConfig, start_emulator

    try:
        config = EmulatorConfig(
            projects=dict(args.project) if args.project else {"default": "console-local"},
            page_cap=args.page_cap,
            time_scale=args.time_scale,
            retry_after=not args.no_retry_after,
            seed=args.seed,
            rng_seed=args.rng_seed,
        )
    except ValueError as exc:
        print(f"bulkops emulator: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        with start_emulator(config, host=args.host, port=args.port) as emulator:
            projects = ", ".join(sorted(config.projects))
            print(
                f"bulkops emulator listening on {emulator.base_url} "
                f"(admin {emulator.admin_url}; projects: {projects})",
                flush=True,
            )
            while not stop.wait(0.5):
                pass
    except (OSError, ValueError) as exc:
        print(f"bulkops emulator: {exc}", file=sys.stderr)
        return 2
    return 0
