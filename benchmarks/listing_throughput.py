"""Listing throughput: following ``nextPage`` one page at a time against the page pipeline.

    python benchmarks/listing_throughput.py [--gates 50000] [--latency 0.02] [--repeat 1]

The emulator runs in its own process (``start_emulator_process``), seeded from a snapshot file
with ``--gates`` gates (written one gate at a time, no POSTs), adding ``--latency`` seconds to
every GET and capping pages at 100 items (its default). Each scenario lists every gate in a
fresh process of its own, so its peak RSS (``VmHWM``) is the client's alone. Scenarios, side
by side in one run (``--repeat`` runs them all again; ratios compare within one round):

- ``sequential``: ``request_envelope`` page after page, following ``pagination.nextPage``;
- ``batches of 4``: the pipeline before issue 10 (pages in batches of 4, each batch waiting for
  its slowest page, the consumer blocking the next batch), rebuilt here for comparison;
- ``pipeline``: ``ConsoleClient.paginate`` with default settings (page size learnt, 16 pages
  in flight as a sliding window);
- ``pipeline/8``: the same with ``page_concurrency=8``.

Target: ``pipeline`` >= 8x faster than ``sequential`` at 20 ms latency. Run on demand, never
in CI: absolute figures depend on the machine's load; the ratios hold better.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import anyio
import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bulkops.api import ConsoleClient
from bulkops.api.pagination import next_page_number
from bulkops.emulator import EmulatorConfig, FaultPlan
from bulkops.emulator.process import start_emulator_process

SCENARIOS = ("sequential", "batches of 4", "pipeline", "pipeline/8")


def _gate(i: int) -> dict[str, Any]:
    """A gate of a realistic shape: a description, tags and one rule with a condition."""
    name = f"gate_{i:06d}"
    condition = {"type": "email", "operator": "str_contains_any", "targetValue": ["@x.com"]}
    return {
        "id": name,
        "name": name,
        "description": f"rollout gate number {i} for the checkout team",
        "isEnabled": True,
        "status": "In Progress",
        "type": "TEMPORARY",
        "tags": ["checkout", "bench"],
        "creatorName": "bench",
        "rules": [
            {
                "id": f"{name}:rule",
                "name": "employees",
                "passPercentage": 100,
                "conditions": [condition],
                "environments": None,
            }
        ],
    }


def _write_snapshot(path: Path, gates: int) -> None:
    with path.open("wb") as out:
        out.write(b'{"format": "bulkops-snapshot/1", "entities": {"gates": [')
        for i in range(gates):
            out.write(b"," if i else b"")
            out.write(orjson.dumps(_gate(i)))
        out.write(b"]}}")


async def _fetch(client: ConsoleClient, page: int) -> Mapping[str, Any]:
    params = {"limit": 100, "page": page}
    return await client.request_envelope("GET", "/gates", params=params) or {}


async def _sequential(client: ConsoleClient) -> AsyncIterator[dict[str, Any]]:
    page: int | None = 1
    while page is not None:
        envelope = await _fetch(client, page)
        for item in envelope.get("data") or []:
            yield item
        page = next_page_number(envelope.get("pagination") or {}, page)


async def _batches(client: ConsoleClient, size: int = 4) -> AsyncIterator[dict[str, Any]]:
    """The pre-issue-10 pipeline: after page 1, pages in batches of ``size`` up to the total."""
    first = await _fetch(client, 1)
    for item in first["data"]:
        yield item
    last = math.ceil(first["pagination"]["totalItems"] / len(first["data"]))
    envelopes: dict[int, Mapping[str, Any]] = {}

    async def one(number: int) -> None:
        envelopes[number] = await _fetch(client, number)

    for start in range(2, last + 1, size):
        numbers = range(start, min(start + size, last + 1))
        envelopes.clear()
        async with anyio.create_task_group() as tg:
            for number in numbers:
                tg.start_soon(one, number)
        for number in numbers:
            for item in envelopes[number]["data"]:
                yield item


def _peak_rss_mb() -> float:
    """This process's peak RSS: ``VmHWM`` (``ru_maxrss`` keeps the parent's from the fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _scenario(name: str, base_url: str, key: str, out: Any) -> None:
    async def main() -> tuple[float, int, int]:
        concurrency = {"page_concurrency": 8} if name == "pipeline/8" else {}
        async with ConsoleClient(key, base_url, **concurrency) as client:  # type: ignore[arg-type]
            if name == "sequential":
                items = _sequential(client)
            elif name == "batches of 4":
                items = _batches(client)
            else:
                items = client.paginate("gates")
            start = time.perf_counter()
            count = 0
            async for _ in items:
                count += 1
            elapsed = time.perf_counter() - start
            return elapsed, count, client.statistics().requests.get("GET", 0)

    elapsed, count, gets = anyio.run(main)
    out.send((elapsed, count, gets, _peak_rss_mb()))


def _run(name: str, base_url: str, key: str) -> tuple[float, int, int, float]:
    context = mp.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_scenario, args=(name, base_url, key, child))
    process.start()
    result = parent.recv()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gates", type=int, default=50_000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--scenarios", nargs="*", default=list(SCENARIOS), choices=SCENARIOS)
    args = parser.parse_args()

    snapshot = Path(tempfile.mkdtemp()) / "gates.json"
    _write_snapshot(snapshot, args.gates)
    config = EmulatorConfig(
        seed=str(snapshot), faults=FaultPlan(latency=args.latency, methods=("GET",))
    )
    print(f"{args.gates:,} gates, {args.latency * 1000:g} ms per GET, pages of 100 (emulator cap)")
    rows: list[tuple[str, float, int, int, float, float | None]] = []
    with start_emulator_process(config) as emulator:
        for _ in range(args.repeat):
            base: float | None = None
            for name in args.scenarios:
                elapsed, count, gets, rss = _run(name, emulator.base_url, emulator.api_key())
                if count != args.gates:
                    raise SystemExit(f"{name}: listed {count} gates, expected {args.gates}")
                base = elapsed if name == "sequential" else base
                rows.append((name, elapsed, count, gets, rss, base))
    snapshot.unlink()
    print()
    print("| scenario | seconds | items/s | GETs | x sequential | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for name, elapsed, count, gets, rss, base in rows:
        ratio = f"{base / elapsed:.1f}" if base else "-"
        print(f"| {name} | {elapsed:.2f} | {count / elapsed:,.0f} | {gets} | {ratio} | {rss:.1f} |")


if __name__ == "__main__":
    main()
