"""Fan-out and the shared budget, measured through the CLI as users run it.

    python benchmarks/fan_out.py [--repeat 1]

An emulator in its own process (windows scaled 1/10: 100 per 1 s and 900 per 90 s, 1-10 ms of
latency per request) holds four projects of gates; `bulkops run patch` runs as subprocesses
(`--mutation-limit 100/1s --mutation-limit 900/90s`, as the emulator counts). Side by side:

- fan-out: one run over three projects (`--project` x 3, 300 PATCHes each) against the same
  job on one project (300): target wall <= 1.5 x;
- shared budget (`--budget-url`, a real redis-server): 2 processes on one project (300 each)
  against 1 process sending the 600 alone: target makespan <= 1.15 x and 0 x 429; 4 processes
  on two projects; and, for contrast, 2 processes on one project without Redis.

Columns: wall (the slowest process), wall / T(N) of the busiest project (T: the policy's lower
bound, see benchmarks/mutation_budget.py), the ratio to its reference row, 429s the emulator
served, and Redis round trips per mutation (the server's EVALSHA calls, all processes).
Each wall includes the CLI's start-up and planning (about 0.5-1 s), like the user's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bulkops.emulator import EmulatorConfig, FaultPlan, start_emulator_process
from bulkops.redis_process import start_redis_server

SCALE = 0.1
LIMITS = ("100/1s", "900/90s")
KEYS = {"default": "console-d", "p1": "console-p1", "p2": "console-p2", "p3": "console-p3"}


def lower_bound(n: int) -> float:
    """T(N): the earliest the N-th mutation can be sent under the scaled policy."""
    return (900 * ((n - 1) // 900) + 10 * (((n - 1) % 900) // 100)) * SCALE


def snapshot(per_project: int) -> dict:
    def gates(project: str) -> list[dict]:
        return [
            {"id": f"{project}_{i:04}", "name": f"{project}_{i:04}", "description": ""}
            for i in range(per_project)
        ]

    return {
        "format": "bulkops-snapshot/1",
        "projects": {p: {"entities": {"gates": gates(p)}} for p in KEYS},
    }


def command(*args: str) -> list[str]:
    limits = [flag for limit in LIMITS for flag in ("--mutation-limit", limit)]
    return [sys.executable, "-m", "bulkops", "run", "patch", "--kind", "gates",
            "--set", "description=bench", "--yes", *limits, *args]  # fmt: skip


def run_all(base_url: str, procs: list[tuple[list[str], str]], redis_url: str | None) -> float:
    """Start every process together; the wall time of the slowest."""
    env = dict(os.environ, STATSIG_CONSOLE_API_URL=base_url, PYTHONPATH=str(REPO))
    env.update({f"STATSIG_{p.upper()}_CONSOLE_API_KEY": k for p, k in KEYS.items()})
    env.pop("BULKOPS_BUDGET_URL", None)
    if redis_url:
        env["BULKOPS_BUDGET_URL"] = redis_url
    started = time.perf_counter()
    children = []
    for args, key in procs:
        state = tempfile.mkdtemp()
        children.append(
            subprocess.Popen(
                args,
                env={**env, "STATSIG_CONSOLE_API_KEY": key, "BULKOPS_STATE_DIR": state},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for child in children:
        _, err = child.communicate(timeout=600)
        if child.returncode != 0:
            raise SystemExit(f"a run failed ({child.returncode}): {err[-2000:]}")
    return time.perf_counter() - started


def redis_commands(url: str) -> int:
    """Round trips the budget made: its EVALSHA calls (one per admission, release batch or
    beat; INFO commandstats also counts the commands run inside each script, not sent)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
        return sum(
            int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval")
        )
    finally:
        client.close()


def scenario(name: str, per_project: int, procs: list[tuple[list[str], str]], *,
             redis: bool, busiest: int, mutations: int) -> dict:  # fmt: skip
    config = EmulatorConfig(
        projects=dict(KEYS),
        mutation_limits=((100, 1.0), (900, 90.0)),
        faults=FaultPlan(latency=(0.001, 0.010)),
        seed=snapshot(per_project),
    )
    with start_emulator_process(config) as emulator:
        if redis:
            with start_redis_server() as server:
                before = redis_commands(server.url)
                wall = run_all(emulator.base_url, procs, server.url)
                per_mutation = (redis_commands(server.url) - before) / mutations
        else:
            wall, per_mutation = run_all(emulator.base_url, procs, None), None
        stats = emulator.stats()
    return {
        "name": name,
        "wall": wall,
        "bound": lower_bound(busiest),
        "rate_limited": stats["rate_limited"],
        "redis_per_mutation": per_mutation,
    }


def half(project: str, side: int) -> list[str]:
    """Gates 0-299 (side 0) or 300-599 (side 1) of a project of 600."""
    digits = "[0-2]" if side == 0 else "[3-5]"
    return ["--where", f"name~{project}_0{digits}*"]


def rows() -> list[tuple[dict, str | None]]:
    one = command()
    return [
        (scenario("1 project, 300 (reference)", 300, [(one, KEYS["p1"])], redis=False,
                  busiest=300, mutations=300), None),
        (scenario("fan-out: 3 projects x 300, one run", 300,
                  [(command("--project", "p1", "--project", "p2", "--project", "p3"), "")],
                  redis=False, busiest=300, mutations=900), "1 project, 300 (reference)"),
        (scenario("1 proc x 1 project, 600 alone", 600, [(one, KEYS["p1"])], redis=True,
                  busiest=600, mutations=600), None),
        (scenario("2 procs x 1 project, 300 each", 600,
                  [(one + half("p1", 0), KEYS["p1"]), (one + half("p1", 1), KEYS["p1"])],
                  redis=True, busiest=600, mutations=600), "1 proc x 1 project, 600 alone"),
        (scenario("4 procs x 2 projects, 300 each", 600,
                  [(one + half("p1", 0), KEYS["p1"]), (one + half("p1", 1), KEYS["p1"]),
                   (one + half("p2", 0), KEYS["p2"]), (one + half("p2", 1), KEYS["p2"])],
                  redis=True, busiest=600, mutations=1200), "1 proc x 1 project, 600 alone"),
        (scenario("2 procs x 1 project, no Redis", 600,
                  [(one + half("p1", 0), KEYS["p1"]), (one + half("p1", 1), KEYS["p1"])],
                  redis=False, busiest=600, mutations=600), "1 proc x 1 project, 600 alone"),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"{'scenario':<36}{'wall s':>8}{'wall/T':>8}{'x ref':>7}{'429s':>6}{'redis/mut':>10}")
    for _ in range(args.repeat):
        done: dict[str, dict] = {}
        for row, reference in rows():
            done[row["name"]] = row
            ratio = row["wall"] / done[reference]["wall"] if reference else 1.0
            per = row["redis_per_mutation"]
            print(
                f"{row['name']:<36}{row['wall']:>8.2f}{row['wall'] / row['bound']:>8.2f}"
                f"{ratio:>7.2f}{row['rate_limited']:>6}{'-' if per is None else f'{per:.2f}':>10}"
            )
    print("targets: fan-out x ref <= 1.5; 2 procs x 1 project x ref <= 1.15 with 0 x 429")
    return 0


if __name__ == "__main__":
    sys.exit(main())
