"""`bulkops demo`: the emulator, a sample project, real journaled bulk runs, what changed.

The work is in :mod:`bulkops.demo`; this module only parses and wires.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]


MIN_TIME_SCALE, MAX_TIME_SCALE = 0.001, 10.0
"""A demo must end: at most 10 times the real API's pace (1), at least a thousandth of it."""


def _time_scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not MIN_TIME_SCALE <= value <= MAX_TIME_SCALE:  # nan and inf fail this too
        raise argparse.ArgumentTypeError(
            f"expected a number from {MIN_TIME_SCALE:g} to {MAX_TIME_SCALE:g}, got {text!r}"
        )
    return value


def _gate_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 5000:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 5000, got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's commands to the `bulkops` parser."""
    parser = subparsers.add_parser(
        "demo",
        help="run bulk jobs against a local emulator with a sample project",
        description="Start the Console API emulator on loopback, seed a sample project, run "
        "real journaled bulk jobs against it with live progress, then print what changed. "
        "Offline; ignores STATSIG_* settings (it only talks to its own emulator).",
    )
    parser.add_argument(
        "--gates", type=_gate_count, default=150, metavar="N", help="gates in the sample project"
    )
    parser.add_argument(
        "--time-scale",
        type=_time_scale,
        default=None,
        metavar="X",
        help="multiply the rate-limit windows, 0.001 to 10 (default: bulkops.demo."
        "DEFAULT_TIME_SCALE, 0.5 today: 100/10s becomes 100/5s; 1 is the real API's pace)",
    )
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="keep the run journals here (default: a temporary dir, removed at the end)",
    )
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="leave the emulator up afterwards and print how to point bulkops at it",
    )
    parser.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """`bulkops demo`: run the demo; exit 0 when every step succeeded."""
    from bulkops.demo import DEFAULT_TIME_SCALE, run_demo

    try:
        return run_demo(
            gates=args.gates,
            time_scale=DEFAULT_TIME_SCALE if args.time_scale is None else args.time_scale,
            state_dir=Path(args.state_dir) if args.state_dir else None,
            keep_running=args.keep_running,
            out=sys.stdout,
        )
    except OSError as exc:
        print(f"bulkops demo: {exc}", file=sys.stderr)
        return 2
