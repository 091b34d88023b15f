"""Runner + journal throughput against an unmetered emulator, and peak RSS for many items.

    python benchmarks/runner_throughput.py [--items 200000] [--ops 20000] [--concurrency 64]

The emulator runs in its own process (so the two share the machine's cores the way a real run
shares nothing with the API); each scenario runs the runner in a fresh process so its peak RSS
(``ru_maxrss``) is its own. Scenarios:

- ``patch``: list ``--items`` gates into the journal, plan, then send ``--ops`` PATCHes (no
  reads): the runner's hot path (IN_FLIGHT commit, request, outcome commit);
- ``patch/uv``: ``patch`` again with the runner on uvloop's event loop, when uvloop is
  installed (bulkops does not depend on it: this row says what it would buy);
- ``creates``: the same listing, then ``--ops // 4`` POST creates, each after a Check read
  (the non-idempotent path).

Targets: >= 3,000 ops/s on 2 cores for ``patch``; <= 150 MB peak RSS for 200,000 items.
``CPU us/op`` is the runner process's CPU time per operation while mutating: on a shared, busy
machine it is steadier than ops/s (a runner with one free core manages 1e6 / that many ops/s).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bulkops.run.job import Check, Item, Job, Operation, PlanStep, ReadContext, Source

UNMETERED = ((10_000_000, 1.0),)


class PatchEvery(Job):
    """One operation per listed gate (the first ``ops`` of them); the rest are 'already fine'.

    Planned per item (``plan_item``), the way the built-in jobs plan: the runner's concurrent
    ordered planning is part of what is measured.
    """

    name = "bench"

    def sources(self) -> list[Source]:
        return [Source("gates")]

    async def plan_item(self, item: Item, ctx: ReadContext) -> PlanStep:
        if int(item.id[1:]) >= self.options["ops"]:
            return None
        if self.options["creates"]:
            name = f"new_{item.id}"
            return Operation(
                f"{name}:create",
                "POST",
                "/gates",
                body={"name": name},
                creates=True,
                check=Check(f"/gates/{name}"),
                items=(item.key,),
            )
        return Operation(
            f"{item.id}:describe",
            "PATCH",
            f"/gates/{item.id}",
            body={"description": "bench"},
            items=(item.key,),
        )


def _serve(items: int, conn: Any) -> None:
    from bulkops.emulator import EmulatorConfig, start_emulator

    gates = [{"id": f"g{i:07d}", "name": f"g{i:07d}"} for i in range(items)]
    snapshot = {
        "format": "bulkops-snapshot/1",
        "projects": {"default": {"entities": {"gates": gates}}},
    }
    del gates
    config = EmulatorConfig(mutation_limits=UNMETERED, seed=snapshot, page_cap=100)
    with start_emulator(config) as emulator:
        conn.send((emulator.base_url, emulator.api_key()))
        conn.recv()  # until told to stop


def _scenario(base_url: str, key: str, options: dict[str, Any], out: Any) -> None:
    from bulkops.api import ConsoleClient
    from bulkops.run.journal import Journal
    from bulkops.run.runner import Runner

    async def main() -> dict[str, float]:
        path = Path(tempfile.mkdtemp()) / "bench.journal"
        journal = Journal.create(path, {"run_id": "bench", "job": "bench"})
        client = ConsoleClient(
            api_key=key,
            base_url=base_url,
            mutation_limits=UNMETERED,
            connection_limit=options["concurrency"],
        )
        async with client:
            runner = Runner(
                journal,
                {"source": client},
                job=PatchEvery(options),
                concurrency=options["concurrency"],
            )
            t0 = time.perf_counter()
            summary = await runner.freeze_and_plan()
            t1 = time.perf_counter()
            cpu1 = time.process_time()
            result = await runner.mutate()
            t2 = time.perf_counter()
            cpu2 = time.process_time()
        done = result.counts.get("DONE", 0) + result.counts.get("SKIPPED", 0)
        commits = runner.writer.statistics().commits
        return {
            "items": summary.items,
            "ops": summary.operations,
            "done": done,
            "plan_s": t1 - t0,
            "mutate_s": t2 - t1,
            "mutate_cpu_s": cpu2 - cpu1,
            "commits": commits,
        }

    stats = anyio.run(main, backend_options={"use_uvloop": options.get("uvloop", False)})
    stats["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.send(stats)


def run_scenario(base_url: str, key: str, **options: Any) -> dict[str, float]:
    parent, child = mp.Pipe()
    proc = mp.Process(target=_scenario, args=(base_url, key, options, child))
    proc.start()
    stats = parent.recv()
    proc.join()
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--ops", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    mp.set_start_method("spawn")
    parent, child = mp.Pipe()
    server = mp.Process(target=_serve, args=(max(args.items, args.ops), child), daemon=True)
    server.start()
    base_url, key = parent.recv()
    rows = []
    small = {"concurrency": args.concurrency, "creates": False}
    scenarios = [("patch", {**small, "ops": args.ops})]
    if _has_uvloop():
        scenarios.append(("patch/uv", {**small, "ops": args.ops, "uvloop": True}))
    scenarios.append(("creates", {**small, "ops": args.ops // 4, "creates": True}))
    for label, opts in scenarios:
        stats = run_scenario(base_url, key, **opts)
        rows.append((label, stats))
    parent.send("stop")
    server.join(timeout=30)
    print(
        f"{'scenario':<9}{'items':>9}{'ops':>8}{'list+plan/s':>13}{'ops/s':>9}"
        f"{'CPU us/op':>11}{'commits':>9}{'peak RSS MB':>13}"
    )
    for label, s in rows:
        plan_rate = s["items"] / s["plan_s"] if s["plan_s"] else 0
        ops_rate = s["done"] / s["mutate_s"] if s["mutate_s"] else 0
        cpu_per_op = s["mutate_cpu_s"] / s["done"] * 1e6 if s["done"] else 0
        print(
            f"{label:<9}{s['items']:>9.0f}{s['ops']:>8.0f}{plan_rate:>13.0f}{ops_rate:>9.0f}"
            f"{cpu_per_op:>11.0f}{s['commits']:>9.0f}{s['rss_mb']:>13.1f}"
        )
    print("targets: patch >= 3000 ops/s on 2 cores; peak RSS <= 150 MB for 200,000 items")
    if not _has_uvloop():
        print("(patch/uv, the same run on uvloop, is shown when uvloop is installed)")
    return 0


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
