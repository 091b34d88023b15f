"""SharedBudget when Redis is not there, goes away, or needs a password we must not print."""

from __future__ import annotations

import socket
import subprocess
import sys

import anyio
import pytest
import redis.asyncio as redis_asyncio

from bulkops.api.errors import BudgetLostError, BudgetUnavailableError, ConfigError
from bulkops.api.shared_budget import SharedBudget, safe_url
from bulkops.testing import RunningRedis

pytestmark = pytest.mark.anyio

PASSWORD = "s3cret-Pa55word"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the probe is closed


@pytest.fixture
async def password_url(redis_server: RunningRedis) -> str:
    async with redis_asyncio.Redis.from_url(redis_server.url) as r:
        await r.config_set("requirepass", PASSWORD)
    return f"redis://:{PASSWORD}@127.0.0.1:{redis_server.port}/0"


@pytest.mark.timeout(30)
async def test_redis_down_at_open_is_a_config_error_naming_the_url_without_password() -> None:
    port = closed_port()
    url = f"redis://:{PASSWORD}@127.0.0.1:{port}/0"
    with anyio.fail_after(10), pytest.raises(BudgetUnavailableError) as caught:
        async with SharedBudget.connect(url, "p1", "10/1s", timeout=2.0):
            pass
    message = str(caught.value)
    assert isinstance(caught.value, ConfigError)  # the CLI exits 2: nothing was sent
    assert f"redis://:***@127.0.0.1:{port}/0" in message
    assert "BULKOPS_BUDGET_URL" in message
    assert PASSWORD not in message + repr(caught.value)


async def test_a_url_that_is_not_redis_is_refused_with_the_forms_to_use() -> None:
    with pytest.raises(BudgetUnavailableError, match=r"redis://host:port/db, or rediss://"):
        async with SharedBudget.connect("http://127.0.0.1:6379", "p1"):
            pass


@pytest.mark.timeout(30)
async def test_a_wrong_password_is_refused_at_open(password_url: str) -> None:
    url = password_url.replace(PASSWORD, "wrong-one")
    with pytest.raises(BudgetUnavailableError) as caught:
        async with SharedBudget.connect(url, "p1"):
            pass
    assert "wrong-one" not in str(caught.value)


@pytest.mark.timeout(30)
async def test_the_password_is_never_in_repr_statistics_or_errors(
    redis_server: RunningRedis, password_url: str
) -> None:
    async with SharedBudget.connect(password_url, "p1", "10/1s") as budget:
        permit = await budget.acquire()
        shown = [repr(budget), budget.url, repr(permit), repr(budget.statistics())]
        redis_server.kill()
        with anyio.fail_after(10), pytest.raises(BudgetLostError) as caught:
            await budget.acquire()
        shown += [str(caught.value), repr(caught.value)]
    assert all(PASSWORD not in text for text in shown), shown
    assert safe_url(password_url) in shown[1]


@pytest.mark.timeout(30)
async def test_redis_killed_mid_run_makes_acquire_raise_budget_lost_promptly(
    redis_server: RunningRedis,
) -> None:
    async with SharedBudget.connect(redis_server.url, "p1", "10/1s") as budget:
        budget.release(await budget.acquire())
        redis_server.kill()
        with anyio.fail_after(5), pytest.raises(BudgetLostError, match="resume the run"):
            await budget.acquire()
        with pytest.raises(BudgetLostError):  # and every acquire after it: no local fallback
            await budget.acquire()


@pytest.mark.timeout(30)
async def test_a_waiting_acquire_learns_promptly_that_redis_is_gone(
    redis_server: RunningRedis,
) -> None:
    async with SharedBudget.connect(redis_server.url, "p1", "1/60s") as budget:
        await budget.acquire()  # the window is full for a minute
        failures: list[BaseException] = []

        async def wait_for_a_permit() -> None:
            try:
                await budget.acquire()
            except BudgetLostError as exc:
                failures.append(exc)

        with anyio.fail_after(3):  # shorter than the head's longest nap (MAX_NAP)
            async with anyio.create_task_group() as tg:
                tg.start_soon(wait_for_a_permit)
                tg.start_soon(wait_for_a_permit)
                await anyio.wait_all_tasks_blocked()
                redis_server.kill()
        assert len(failures) == 2


def test_bulkops_imports_without_redis_and_says_how_to_install_it() -> None:
    script = (
        "import sys; sys.modules['redis'] = None\n"
        "import anyio, bulkops, bulkops.api, bulkops.testing\n"
        "from bulkops.api.shared_budget import SharedBudget\n"
        "from bulkops.api.errors import BudgetUnavailableError\n"
        "async def main():\n"
        "    try:\n"
        "        await SharedBudget('redis://127.0.0.1:1/0', 'p1').open()\n"
        "    except BudgetUnavailableError as exc:\n"
        "        print(exc)\n"
        "anyio.run(main)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'bulkops[redis]'" in done.stdout
