"""GET requests per second the emulator serves on loopback, at a few concurrency levels.

Run: ``python benchmarks/emulator_throughput.py [--seconds 3] [--gates 500]``. Target on a
2-core machine: >= 2,000 GET/s (so the emulator is never the bottleneck when measuring the
client). The client (aiohttp, one keep-alive session) runs in this process's main loop; the
emulator in its background thread, so both share the machine as they would in a test run.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp

from bulkops.emulator import EmulatorConfig, RunningEmulator, start_emulator


async def _measure(
    emulator: RunningEmulator, concurrency: int, seconds: float, paths: list[str]
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

        start = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - start
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
    with start_emulator(EmulatorConfig(seed=snapshot)) as emulator:
        reads = [f"/console/v1/gates/gate_{i}" for i in range(args.gates)]
        pages = ["/console/v1/gates?limit=100&page=1"]
        print(f"{'workload':<24}{'concurrency':>12}{'GET/s':>10}{'errors':>8}")
        for name, paths in (("read one gate", reads), ("list page of 100", pages)):
            for concurrency in args.concurrency:
                rate, errors = asyncio.run(_measure(emulator, concurrency, args.seconds, paths))
                print(f"{name:<24}{concurrency:>12}{rate:>10.0f}{errors:>8}")
        stats = emulator.stats()
        print(f"max in flight seen by the emulator: {stats['max_in_flight']}")


if __name__ == "__main__":
    main()
