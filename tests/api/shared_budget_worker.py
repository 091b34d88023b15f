"""Another bulkops process sharing a budget, for tests/api/test_shared_budget_processes.py.

python shared_budget_worker.py patch REDIS_URL BASE_URL API_KEY LIMITS FIRST COUNT
    PATCH gates g{FIRST}..g{FIRST+COUNT-1} through a ConsoleClient on the shared budget of
    the project GET /project names; prints "done SENT RATE_LIMITED" on stdout.
python shared_budget_worker.py pause REDIS_URL PROJECT LIMITS SECONDS
    report one 429 with Retry-After SECONDS, wait until Redis has it, print "paused".
python shared_budget_worker.py hold REDIS_URL PROJECT LIMITS COUNT TTL
    take COUNT permits and never release them; print "holding OWNER", then wait (for kill -9).
"""

from __future__ import annotations

import sys

import anyio

from bulkops.api import ConsoleClient
from bulkops.api.shared_budget import SharedBudget


async def patch(
    redis_url: str, base_url: str, api_key: str, limits: str, first: int, count: int
) -> None:
    async with ConsoleClient(api_key=api_key, base_url=base_url) as probe:
        project_id = (await probe.request("GET", "/project"))["id"]
    async with SharedBudget.connect(redis_url, project_id, limits) as budget:
        client = ConsoleClient(api_key=api_key, base_url=base_url, budget=budget)
        async with client, anyio.create_task_group() as tg:
            for i in range(first, first + count):
                tg.start_soon(client.request, "PATCH", f"/gates/g{i}", {"description": "x"})
        stats = budget.statistics()
        print("done", stats.total_sent, client.statistics().rate_limited, flush=True)


async def pause(redis_url: str, project: str, limits: str, seconds: float) -> None:
    async with SharedBudget.connect(redis_url, project, limits) as budget:
        budget.pause(seconds)
        await budget.flush()
        print("paused", flush=True)


async def hold(redis_url: str, project: str, limits: str, count: int, ttl: float) -> None:
    async with SharedBudget.connect(redis_url, project, limits, heartbeat_ttl=ttl) as budget:
        for _ in range(count):
            permit = await budget.acquire()
        print("holding", permit.entry.split("/")[0], flush=True)
        await anyio.sleep_forever()


def main(argv: list[str]) -> None:
    mode, *args = argv
    if mode == "patch":
        url, base, key, limits, first, count = args
        anyio.run(patch, url, base, key, limits, int(first), int(count))
    elif mode == "pause":
        url, project, limits, seconds = args
        anyio.run(pause, url, project, limits, float(seconds))
    elif mode == "hold":
        url, project, limits, count, ttl = args
        anyio.run(hold, url, project, limits, int(count), float(ttl))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
