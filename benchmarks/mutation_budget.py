"""Makespan and 429s of N mutations: our MutationBudget against two stacked aiolimiters.

Run: ``python benchmarks/mutation_budget.py [--quick] [--workers 50]``. For N in 300, 900 and
2700 (``--quick``: 300 and 900), each strategy sends N creates to a fresh emulator whose policy
is scaled by 1/10 (100 per 1 s and 900 per 90 s) with 1-10 ms of latency jitter, and the table
shows the makespan (first send to last response) divided by the policy's lower bound
T(N) = 900*floor((N-1)/900) + 10*floor(((N-1) mod 900)/100) s (scaled), and the 429s drawn.

- ``budget``: ``MutationBudget`` (acquire -> POST -> release; a 429 pauses the whole budget).
- ``aiolimiter``: ``AsyncLimiter(900, 90)`` around ``AsyncLimiter(100, 1)``, the naive
  alternative; a 429 makes that worker sleep for Retry-After and try again.

The full run takes about seven minutes (2700 mutations need T = 188 s per strategy).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import aiohttp
import anyio
from aiolimiter import AsyncLimiter

from bulkops.api.budget import MutationBudget
from bulkops.emulator import EmulatorConfig, EmulatorProcess, FaultPlan, start_emulator_process

SCALE = 0.1
JITTER = (0.001, 0.010)
LIMITS = ((100, 10.0 * SCALE), (900, 900.0 * SCALE))


def lower_bound(n: int) -> float:
    """T(N) of the documented policy, scaled: the earliest the N-th mutation can be sent."""
    return (900 * ((n - 1) // 900) + 10 * (((n - 1) % 900) // 100)) * SCALE


@dataclass
class Result:
    makespan: float
    refused: int  # 429s the client saw
    server_refused: int  # 429s the emulator counted


class Strategy:
    """How a worker gets permission to send, and what it does on a 429."""

    name = ""

    def slot(self) -> AbstractAsyncContextManager[object]:
        raise NotImplementedError

    async def on_429(self, retry_after: float | None) -> None:
        raise NotImplementedError


class BudgetStrategy(Strategy):
    name = "budget"

    def __init__(self) -> None:
        self.budget = MutationBudget(LIMITS)

    def slot(self) -> AbstractAsyncContextManager[object]:
        return self.budget.slot()

    async def on_429(self, retry_after: float | None) -> None:
        self.budget.pause(retry_after)


class StackedLimiterStrategy(Strategy):
    name = "aiolimiter"

    def __init__(self) -> None:
        self.long = AsyncLimiter(900, 900.0 * SCALE)
        self.short = AsyncLimiter(100, 10.0 * SCALE)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[object]:
        async with self.long, self.short:
            yield None

    async def on_429(self, retry_after: float | None) -> None:
        await anyio.sleep(retry_after if retry_after else 10.0 * SCALE)


async def run(emulator: EmulatorProcess, strategy: Strategy, n: int, workers: int) -> Result:
    headers = {"STATSIG-API-KEY": emulator.api_key(), "Content-Type": "application/json"}
    numbers = iter(range(n))
    refused = 0
    first: float | None = None
    last = 0.0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal refused, first, last
        for i in numbers:
            while True:
                hint: str | None = None
                async with strategy.slot():
                    first = time.monotonic() if first is None else first
                    body = {"name": f"tag-{i}", "description": "benchmark"}
                    async with session.post(f"{emulator.base_url}/tags", json=body) as response:
                        await response.read()
                        status = response.status
                        hint = response.headers.get("Retry-After")
                if status != 429:
                    last = max(last, time.monotonic())
                    break
                refused += 1
                await strategy.on_429(float(hint) if hint else None)

    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:

        async def warm() -> None:  # open the pooled connections with reads (no budget spent)
            async with session.get(f"{emulator.base_url}/tags?limit=1") as response:
                await response.read()

        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(warm)
        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(worker, session)
    assert first is not None
    server_refused = emulator.stats()["projects"]["default"]["rate_limited"]
    return Result(last - first, refused, server_refused)


def measure(strategy_factory: type[Strategy], n: int, workers: int) -> Result:
    config = EmulatorConfig(time_scale=SCALE, faults=FaultPlan(latency=JITTER, seed=n))
    with start_emulator_process(config) as emulator:
        return anyio.run(run, emulator, strategy_factory(), n, workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only N = 300 and 900")
    parser.add_argument("--workers", type=int, default=50, help="concurrent senders")
    args = parser.parse_args()
    sizes = (300, 900) if args.quick else (300, 900, 2700)
    strategies: list[type[Strategy]] = [BudgetStrategy, StackedLimiterStrategy]
    print(
        f"time scale {SCALE}, latency {JITTER[0] * 1000:g}-{JITTER[1] * 1000:g} ms, "
        f"{args.workers} workers; makespan = first send to last response"
    )
    header = (
        f"{'N':>5} {'T(N) s':>7} | {'strategy':<10} {'makespan s':>10} {'/ T(N)':>7} {'429s':>6}"
    )
    print(header)
    print("-" * len(header))
    for n in sizes:
        for factory in strategies:
            result = measure(factory, n, args.workers)
            print(
                f"{n:>5} {lower_bound(n):>7.1f} | {factory.name:<10} {result.makespan:>10.2f} "
                f"{result.makespan / lower_bound(n):>7.3f} {result.refused:>6}",
                flush=True,
            )


if __name__ == "__main__":
    main()
