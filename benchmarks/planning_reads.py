"""Planning reads at 20 ms per request: a dry run of `overrides` against N x latency.

    python benchmarks/planning_reads.py [--gates 10000] [--small 500] [--latency-ms 20]

`bulkops run overrides --kind gates --add-passing qa-1 --dry-run` reads every gate's overrides
before it plans (one GET each). The emulator runs in its own process with a fixed latency on
every GET; the CLI runs as a subprocess, as a user runs it. Side by side in one run:

- `sequential`: `--read-concurrency 1` on the small project (what planning cost before reads
  were concurrent: one read after the other), to show the baseline ratio (about 1.0 or more);
- `concurrent`: the default (`--read-concurrency 16`) on the same small project and on the
  large one.

Ratio = wall time / (N x latency). Target: <= 0.15 on the large project with one operation per
gate. The plan is checked: exactly one operation per gate.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bulkops.emulator import EmulatorConfig, FaultPlan, start_emulator_process

UNMETERED = ((10_000_000, 1.0),)
KEYS = {"small": "console-small", "large": "console-large"}


def _gates(n: int) -> list[dict]:
    return [{"id": f"g{i:06d}", "name": f"g{i:06d}", "type": "TEMPORARY"} for i in range(n)]


def _dry_run(base_url: str, key: str, reads: int) -> tuple[float, int]:
    env = dict(
        os.environ,
        STATSIG_CONSOLE_API_URL=base_url,
        STATSIG_CONSOLE_API_KEY=key,
        BULKOPS_STATE_DIR=tempfile.mkdtemp(),
        PYTHONPATH=str(REPO),
    )
    command = [
        sys.executable, "-m", "bulkops", "run", "overrides", "--kind", "gates",
        "--add-passing", "qa-1", "--dry-run", "--json", "--read-concurrency", str(reads),
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"dry run failed ({done.returncode}): {done.stderr}")
    return elapsed, len(json.loads(done.stdout)["operations"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gates", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    snapshot = {
        "format": "bulkops-snapshot/1",
        "projects": {
            "small": {"entities": {"gates": _gates(args.small)}},
            "large": {"entities": {"gates": _gates(args.gates)}},
        },
    }
    config = EmulatorConfig(
        projects=dict(KEYS),
        mutation_limits=UNMETERED,
        faults=FaultPlan(latency=latency, methods=("GET",)),
        seed=snapshot,
    )
    rows = []
    with start_emulator_process(config) as emulator:
        for label, project, n, reads in (
            ("sequential", "small", args.small, 1),
            ("concurrent", "small", args.small, 16),
            ("concurrent", "large", args.gates, 16),
        ):
            elapsed, ops = _dry_run(emulator.base_url, KEYS[project], reads)
            rows.append((label, n, reads, elapsed, ops, elapsed / (n * latency)))
    print(f"latency {args.latency_ms:g} ms per GET; ratio = wall / (N x latency)")
    print(f"{'mode':<12}{'gates':>8}{'reads':>7}{'wall s':>9}{'ops':>8}{'ratio':>8}")
    for label, n, reads, elapsed, ops, ratio in rows:
        print(f"{label:<12}{n:>8}{reads:>7}{elapsed:>9.1f}{ops:>8}{ratio:>8.3f}")
    print("target: concurrent on the large project <= 0.150, one operation per gate")
    return 0 if all(ops == n for _, n, _, _, ops, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
