"""Processes x projects sharing a budget through Redis: makespan / T(N), 429s, round trips.

Run: ``python benchmarks/shared_budget.py [--repeat 1] [--concurrency 16]``. Every row starts a
fresh emulator in its own process (windows scaled 1/10: 100 per 1 s and 900 per 90 s, 1-10 ms
of latency jitter) and a fresh real redis-server, then N worker processes (Python
subprocesses, each a ``ConsoleClient`` PATCHing gates with ``--concurrency`` tasks) that start
sending together. Each project receives 600 PATCHes in all, so T(N) is the same for every row:
T(600) = 10 * floor(599 / 100) s, scaled = 5.0 s (see benchmarks/mutation_budget.py).

- ``shared``: every worker uses ``SharedBudget`` on the project's id (from GET /project).
- ``local``: every worker has its own in-process ``MutationBudget`` (no Redis): the baseline
  for one process per project, and what two processes on one project do without sharing.

Columns: makespan (first send to last response, the worst project), makespan / T(N), 429s the
emulator served, Redis round trips per mutation, and makespan against the row of one process
sending all 600 alone. Targets (issue 11): 0 x 429 with the shared budget, and two processes
on one project within 1.15 x one process alone.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import anyio

SCALE = 0.1
JITTER = (0.001, 0.010)
LIMITS = ((100, 10.0 * SCALE), (900, 900.0 * SCALE))
PER_PROJECT = 600


def lower_bound(n: int) -> float:
    """T(N) of the documented policy, scaled: the earliest the N-th mutation can be sent."""
    return (900 * ((n - 1) // 900) + 10 * (((n - 1) % 900) // 100)) * SCALE


@dataclass(frozen=True)
class Row:
    name: str
    processes: int
    projects: int
    shared: bool


ROWS = (
    Row("1 proc x 1 project, 600 alone", 1, 1, True),
    Row("2 procs x 1 project, 300 each", 2, 1, True),
    Row("4 procs x 2 projects, 300 each", 4, 2, True),
    Row("1 proc/project, no Redis", 1, 1, False),
    Row("2 procs x 1 project, no Redis", 2, 1, False),
)


# -- a worker process -------------------------------------------------------------------


async def work(spec: dict[str, Any]) -> dict[str, Any]:
    from bulkops.api import ConsoleClient, MutationBudget
    from bulkops.api.shared_budget import SharedBudget

    base, key = spec["base_url"], spec["api_key"]
    async with ConsoleClient(api_key=key, base_url=base) as probe:
        project_id = (await probe.request("GET", "/project"))["id"]
    if spec["redis_url"]:
        opened = SharedBudget.connect(spec["redis_url"], project_id, LIMITS)
    else:
        opened = _local(MutationBudget(LIMITS))
    async with opened as budget:
        client = ConsoleClient(api_key=key, base_url=base, budget=budget)
        gates = iter(spec["gates"])
        last = 0.0

        async def sender() -> None:
            nonlocal last
            for gate in gates:
                await client.request("PATCH", f"/gates/{gate}", {"description": "bench"})
                last = time.monotonic()

        async with client:
            async with anyio.create_task_group() as tg:  # open pooled connections with reads
                for _ in range(spec["concurrency"]):
                    tg.start_soon(client.request, "GET", "/gates", None)
            print("ready", flush=True)
            await anyio.to_thread.run_sync(sys.stdin.readline)
            first = time.monotonic()
            async with anyio.create_task_group() as tg:
                for _ in range(spec["concurrency"]):
                    tg.start_soon(sender)
        stats = budget.statistics()
        return {
            "first": first,
            "last": last,
            "sent": stats.total_sent,
            "rate_limited": client.statistics().rate_limited,
            "round_trips": getattr(stats, "round_trips", 0),
        }


def _local(budget: Any) -> Any:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def opened() -> Any:
        yield budget

    return opened()


def worker_main() -> None:
    spec = json.loads(sys.argv[2])
    print(json.dumps(anyio.run(work, spec)), flush=True)


# -- the parent ---------------------------------------------------------------------------


def measure(row: Row, concurrency: int) -> dict[str, float]:
    from bulkops.emulator import EmulatorConfig, FaultPlan, start_emulator_process
    from bulkops.redis_process import start_redis_server

    projects = {f"p{i}": f"key-p{i}" for i in range(row.projects)}
    gates = [{"id": f"g{i}", "name": f"g{i}"} for i in range(PER_PROJECT)]
    seed = {
        "format": "bulkops-snapshot/1",
        "projects": {name: {"entities": {"gates": gates}} for name in projects},
    }
    config = EmulatorConfig(
        projects=projects, time_scale=SCALE, seed=seed, faults=FaultPlan(latency=JITTER, seed=7)
    )
    per_process = PER_PROJECT * row.projects // row.processes
    with start_emulator_process(config) as emulator, start_redis_server() as redis:
        specs = []
        for i in range(row.processes):
            project = f"p{i % row.projects}"
            index = i // row.projects
            mine = [f"g{j}" for j in range(index * per_process, (index + 1) * per_process)]
            specs.append(
                {
                    "base_url": emulator.base_url,
                    "api_key": emulator.api_key(project),
                    "redis_url": redis.url if row.shared else "",
                    "gates": mine,
                    "concurrency": concurrency,
                    "project": project,
                }
            )
        results = _run_workers(specs)
        refused = sum(emulator.stats()["projects"][p]["rate_limited"] for p in projects)
    makespans = []
    for project in projects:
        mine = [r for r, s in zip(results, specs, strict=True) if s["project"] == project]
        makespans.append(max(r["last"] for r in mine) - min(r["first"] for r in mine))
    sent = sum(r["sent"] for r in results)
    return {
        "makespan": max(makespans),
        "refused": refused,
        "round_trips": sum(r["round_trips"] for r in results) / sent,
    }


def _run_workers(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for spec in specs
    ]
    try:
        for w in workers:
            assert w.stdout is not None and w.stdout.readline().strip() == "ready"
        for w in workers:  # all start sending together
            assert w.stdin is not None
            w.stdin.write("go\n")
            w.stdin.flush()
        outputs = [w.communicate(timeout=300)[0] for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    return [json.loads(out.strip().splitlines()[-1]) for out in outputs]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of the whole table")
    parser.add_argument("--concurrency", type=int, default=16, help="sending tasks per process")
    args = parser.parse_args()
    bound = lower_bound(PER_PROJECT)
    print(
        f"time scale {SCALE}, latency {JITTER[0] * 1000:g}-{JITTER[1] * 1000:g} ms, "
        f"{PER_PROJECT} PATCHes per project, T(N) = {bound:.1f} s, "
        f"{args.concurrency} tasks per process"
    )
    header = (
        f"{'row':<32} {'makespan s':>10} {'/ T(N)':>7} {'429s':>5} {'RTT/mut':>8} {'/ alone':>8}"
    )
    print(header)
    print("-" * len(header))
    for _ in range(args.repeat):
        alone = None
        for row in ROWS:
            result = measure(row, args.concurrency)
            alone = alone or result["makespan"]
            print(
                f"{row.name:<32} {result['makespan']:>10.2f} {result['makespan'] / bound:>7.3f} "
                f"{result['refused']:>5} {result['round_trips']:>8.2f} "
                f"{result['makespan'] / alone:>8.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
