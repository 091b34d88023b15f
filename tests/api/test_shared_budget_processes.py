"""SharedBudget across real processes: a real redis-server, workers in Python subprocesses.

The emulator's windows are the judge: it counts each mutation when it arrives and refuses
with a 429 what does not fit, and its mutation log keeps the time of every applied one.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
import redis.asyncio as redis_asyncio

from bulkops.api.shared_budget import SharedBudget
from bulkops.api.shared_log import BudgetKeys
from bulkops.emulator import EmulatorConfig, RunningEmulator, start_emulator
from bulkops.testing import RunningRedis

pytestmark = pytest.mark.anyio

WORKER = str(Path(__file__).with_name("shared_budget_worker.py"))
LIMITS = "10/500ms"
GATES = 40


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    gates = [{"id": f"g{i}", "name": f"g{i}"} for i in range(GATES)]
    config = EmulatorConfig(
        mutation_limits=((10, 0.5),),
        seed={
            "format": "bulkops-snapshot/1",
            "projects": {"default": {"entities": {"gates": gates}}},
        },
    )
    with start_emulator(config) as running:
        yield running


def worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen[str], timeout: float = 60) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return out


def most_in_any_window(times: list[float], span: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + span) for i, start in enumerate(times))


@pytest.mark.timeout(90)
def test_two_processes_on_one_project_never_exceed_a_window_together(
    emulator: RunningEmulator, redis_server: RunningRedis
) -> None:
    key = emulator.api_key()
    half = GATES // 2
    workers = [
        worker("patch", redis_server.url, emulator.base_url, key, LIMITS, str(first), str(half))
        for first in (0, half)
    ]
    outputs = [finish(w) for w in workers]
    assert [out.split() for out in outputs] == [["done", str(half), "0"]] * 2
    assert emulator.stats()["projects"]["default"]["rate_limited"] == 0
    applied = emulator.mutation_log("default")
    assert len(applied) == GATES
    # Logged when applied (a little after arrival): allow 20 ms of skew on a 500 ms window.
    assert most_in_any_window([m["time"] for m in applied], 0.5 - 0.02) <= 10


@pytest.mark.timeout(60)
async def test_a_429_in_one_process_pauses_another(redis_server: RunningRedis) -> None:
    keys = BudgetKeys.for_project("bulkops:budget", "p1")
    async with SharedBudget.connect(redis_server.url, "p1", LIMITS) as budget:
        pauser = worker("pause", redis_server.url, "p1", LIMITS, "1.5")
        assert finish(pauser).strip() == "paused"
        async with redis_asyncio.Redis.from_url(redis_server.url) as r:
            left = await r.pttl(keys.pause) / 1000
        assert left > 0.5  # the other process's pause is in Redis
        started = anyio.current_time()
        with anyio.fail_after(10):
            await budget.acquire()
        assert anyio.current_time() - started >= left - 0.01
        assert budget.statistics().rate_limited == 0  # the 429 was the other process's


@pytest.mark.timeout(60)
async def test_a_killed_process_frees_its_sends_one_span_after_its_heartbeat_deadline(
    redis_server: RunningRedis,
) -> None:
    keys = BudgetKeys.for_project("bulkops:budget", "p1")
    holder = worker("hold", redis_server.url, "p1", "3/300ms", "3", "1.0")
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline().split()
        assert line[0] == "holding", holder.stderr.read() if holder.stderr else ""
        owner = line[1]
    finally:
        holder.kill()
        holder.wait(10)
    async with redis_asyncio.Redis.from_url(redis_server.url) as r:
        deadline = int(await r.hget(keys.beats, owner))  # final: the owner is dead
        async with SharedBudget.connect(redis_server.url, "p1", "3/300ms") as budget:
            with anyio.fail_after(10):
                await budget.acquire()
            seconds, micros = await r.time()
    # Neither forever nor too early: the dead owner's entries end at its deadline, and then
    # count one span (300 ms) more.
    assert seconds * 1_000_000 + micros >= deadline + 300_000
