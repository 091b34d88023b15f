"""GET requests per second the emulator serves on loopback, at a few concurrency levels.

Run: ``python benchmarks/emulator_throughput.py [--seconds 3] [--gates 500]``. Target on a
2-core machine: >= 2,000 GET/s (so the emulator is never the bottleneck when measuring the
client). The client (aiohttp, one keep-alive session) runs in this process's main loop; the
emulator in its background thread, so both share the machine as they would in a test run.
The ``ratio`` column compares each row with "read one gate" at the same concurrency, measured
side by side, so it holds when the machine is busy and absolute rates are not.

Workloads: one gate by id; page 1 of 100 gates; pages 1..5 in turn; a page filtered by tag;
and list pages read while a writer patches a gate 20 times a second (each patch empties the
page cache, so this row shows the cost of serializing pages afresh).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp

from bulkops.emulator import EmulatorConfig, RunningEmulator, start_emulator


async def _writer(emulator: RunningEmulator, stop: asyncio.Event) -> None:
    headers = {"STATSIG-API-KEY": emulator.api_key()}
    async with aiohttp.ClientSession(emulator.base_url + "/", headers=headers) as s:
        n = 0
        while not stop.is_set():
            n += 1
            async with s.patch("gates/gate_0", json={"description": f"edit {n}"}) as response:
                await response.read()
            try:
                await asyncio.wait_for(stop.wait(), 0.05)
            except TimeoutError:
                pass


async def _measure(
    emulator: RunningEmulator,
    concurrency: int,
    seconds: float,
    paths: list[str],
    with_writer: bool = False,
) -> tuple[float, int]:
    headers = {"STATSIG-API-KEY": emulator.api_key()}
    connector = aiohttp.TCPConnector(limit=concurrency)
    done = 0
    errors = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(emulator.url, headers=headers, connector=connector) as s:

        async def worker(offset: int) -> None:
            nonlocal done, errors
            i = offset
            while time.perf_counter() < deadline:
                async with s.get(paths[i % len(paths)]) as response:
                    await response.read()
                    errors += response.status != 200
                done += 1
                i += concurrency

        stop = asyncio.Event()
        writer = asyncio.create_task(_writer(emulator, stop)) if with_writer else None
        start = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - start
        stop.set()
        if writer is not None:
            await writer
    return done / elapsed, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--gates", type=int, default=500)
    parser.add_argument("--concurrency", type=int, nargs="*", default=[1, 8, 32, 64])
    args = parser.parse_args()
    snapshot = {
        "format": "bulkops-snapshot/1",
        "projects": {
            "default": {
                "entities": {
                    "gates": [
                        {
                            "id": f"gate_{i}",
                            "name": f"gate {i}",
                            "description": "",
                            "rules": [],
                            "isEnabled": True,
                            "tags": ["bench"],
                        }
                        for i in range(args.gates)
                    ]
                }
            }
        },
    }
    config = EmulatorConfig(seed=snapshot, mutation_limits=((1_000_000, 1.0),))
    with start_emulator(config) as emulator:
        reads = [f"/console/v1/gates/gate_{i}" for i in range(args.gates)]
        first_page = ["/console/v1/gates?limit=100&page=1"]
        workloads = [
            ("read one gate", reads, False),
            ("list page of 100", first_page, False),
            (
                "list pages 1..5",
                [f"/console/v1/gates?limit=100&page={p}" for p in range(1, 6)],
                False,
            ),
            ("list page, tag filter", ["/console/v1/gates?limit=100&page=1&tags=bench"], False),
            ("list page + 20 patch/s", first_page, True),
        ]
        print(f"{'workload':<26}{'concurrency':>12}{'GET/s':>10}{'ratio':>8}{'errors':>8}")
        for concurrency in args.concurrency:
            baseline = None
            for name, paths, with_writer in workloads:
                rate, errors = asyncio.run(
                    _measure(emulator, concurrency, args.seconds, paths, with_writer)
                )
                baseline = baseline or rate
                print(f"{name:<26}{concurrency:>12}{rate:>10.0f}{rate / baseline:>8.2f}{errors:>8}")
        stats = emulator.stats()
        print(f"max in flight seen by the emulator: {stats['max_in_flight']}")


if __name__ == "__main__":
    main()
