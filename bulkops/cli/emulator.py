"""`bulkops emulator`: run the local Console API emulator until SIGTERM or Ctrl-C.

Faults (random 5xx, resets, applied-then-lost, latency) and the mutation limits can be set at
start with flags; at run time, the admin endpoints under ``/_emulator/`` change them (see the
epilog of ``bulkops emulator --help`` and ``bulkops/emulator/admin.py``).
"""

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


ADMIN_HELP = """\
admin endpoints (no API key, under http://HOST:PORT/_emulator/, not /console/v1):
  GET  /_emulator/stats             requests by method/status, 429s, windows
  POST /_emulator/stats/reset       zero the counters, clear the mutation log
  GET  /_emulator/mutations         every mutation received (?since=SEQ&project=NAME)
  GET|PUT|DELETE /_emulator/faults  read, replace or clear the random faults (FaultPlan JSON:
                                    error_rate, error_status, reset_rate, lost_rate, lost_mode,
                                    latency, methods, path_prefix, projects, seed)
  POST /_emulator/faults/scripted   the next N matching requests fail (ScriptedFault JSON:
                                    action, method, path_prefix, count, status, delay, project)
  GET|PUT /_emulator/state          dump / load a snapshot

examples:
  bulkops emulator --error-rate 0.1 --reset-rate 0.05 --latency-ms 20-80 --mutation-limit 10/1s
  curl -X PUT 127.0.0.1:8800/_emulator/faults -d '{"error_rate": 1.0, "methods": ["PATCH"]}'
  curl -X POST 127.0.0.1:8800/_emulator/faults/scripted \\
       -d '{"action": "apply_then_reset", "method": "POST", "path_prefix": "/gates"}'
"""


def _host(text: str) -> str:
    if not text or len(text) > 253 or not text.isprintable() or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(f"expected a host name or address, got {text[:80]!r}")
    return text


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability 0..1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability 0..1, got {text!r}")
    return value


def _latency(text: str) -> float | tuple[float, float]:
    """``"50"`` -> 0.05 s; ``"20-80"`` -> a uniform range (0.02, 0.08) s."""
    low, sep, high = text.partition("-")
    try:
        values = [float(low) / 1000] + ([float(high) / 1000] if sep else [])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MS or LOW-HIGH in ms, got {text!r}") from None
    if any(v < 0 for v in values) or (sep and values[0] > values[1]):
        raise argparse.ArgumentTypeError(f"expected MS or LOW-HIGH in ms, got {text!r}")
    return (values[0], values[1]) if sep else values[0]


def _limit(text: str) -> tuple[int, float]:
    from bulkops.api.limits import parse_mutation_limit

    try:
        return parse_mutation_limit(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's commands to the `bulkops` parser."""
    parser = subparsers.add_parser(
        "emulator",
        help="run a local Console API emulator",
        description="Serve a local Statsig Console API on loopback (for rehearsals and tests).\n"
        "Without --project: one project 'default' with key 'console-local'.\n"
        "Faults and limits set here apply from the start; the admin endpoints below change\n"
        "them while it runs.",
        epilog=ADMIN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", type=_host, default="127.0.0.1", help="address to listen on")
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
    limits = parser.add_argument_group("limits")
    limits.add_argument(
        "--mutation-limit",
        action="append",
        type=_limit,
        metavar="COUNT/WINDOW",
        help="a mutation window per project, e.g. 100/10s (repeatable; default 100/10s and "
        "900/15m, scaled by --time-scale)",
    )
    faults = parser.add_argument_group("faults (random, drawn per request from --rng-seed)")
    faults.add_argument(
        "--error-rate",
        type=_rate,
        default=0.0,
        metavar="P",
        help="share of requests answered 5xx, nothing applied",
    )
    faults.add_argument(
        "--error-status",
        type=int,
        default=503,
        metavar="STATUS",
        help="the status of those errors (default 503)",
    )
    faults.add_argument(
        "--html-errors",
        action="store_true",
        help="errors carry an HTML page instead of JSON (as a proxy would)",
    )
    faults.add_argument(
        "--reset-rate",
        type=_rate,
        default=0.0,
        metavar="P",
        help="share of connections reset before the request is applied",
    )
    faults.add_argument(
        "--lost-rate",
        type=_rate,
        default=0.0,
        metavar="P",
        help="share of requests applied whose response is then lost",
    )
    faults.add_argument(
        "--lost-mode",
        choices=("reset", "500"),
        default="reset",
        help="how a lost response is lost (default: connection reset)",
    )
    faults.add_argument(
        "--latency-ms",
        type=_latency,
        metavar="MS|LOW-HIGH",
        help="delay every request, fixed or uniform in a range, e.g. 20-80",
    )
    faults.add_argument(
        "--fault-methods",
        metavar="M,M",
        help="only these methods draw faults, e.g. POST,PATCH (default: all)",
    )
    parser.set_defaults(handler=run_emulator)


def _fault_plan(args: Any) -> Any:
    """The FaultPlan the flags ask for, or None when they ask for none."""
    from bulkops.emulator import FaultPlan

    wanted = (args.error_rate, args.reset_rate, args.lost_rate, args.latency_ms)
    if not any(wanted):
        return None
    methods: Any = ("GET", "POST", "PATCH", "PUT", "DELETE")
    if args.fault_methods:
        methods = tuple(m.strip().upper() for m in args.fault_methods.split(",") if m.strip())
    return FaultPlan(
        latency=args.latency_ms,
        error_rate=args.error_rate,
        error_status=args.error_status,
        error_body="html" if args.html_errors else "json",
        reset_rate=args.reset_rate,
        lost_rate=args.lost_rate,
        lost_mode=args.lost_mode,
        seed=args.rng_seed,
        methods=methods,
    )


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
            faults=_fault_plan(args),
            **({"mutation_limits": tuple(args.mutation_limit)} if args.mutation_limit else {}),
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
            if config.faults is not None:
                print(f"faults: {_describe(config.faults)}", file=sys.stderr, flush=True)
            while not stop.wait(0.5):
                pass
    except (OSError, ValueError) as exc:
        print(f"bulkops emulator: {exc}", file=sys.stderr)
        return 2
    return 0


def _describe(plan: Any) -> str:
    parts = [
        f"{name.removesuffix('_rate')} {getattr(plan, name):g}"
        for name in ("error_rate", "reset_rate", "lost_rate")
        if getattr(plan, name)
    ]
    if plan.latency:
        parts.append(f"latency {plan.latency}")
    return ", ".join(parts) + f" (methods {','.join(plan.methods)})"
