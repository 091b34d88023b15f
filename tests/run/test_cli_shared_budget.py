"""Several bulkops processes on one project share its budget through a real redis-server.

The emulator's windows are scaled down (20 mutations per second) and every CLI is told the
same (`--mutation-limit 20/1s`): two processes each believing they own the budget would draw
429s; sharing it through `--budget-url`, they draw none.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from clihelp import bulkops, cli_env, spawn

from bulkops.redis_process import start_redis_server
from bulkops.testing import EmulatorConfig, RunningEmulator, RunningRedis

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

LIMIT = "20/1s"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    gates = [
        {"id": f"{side}_{i:03}", "name": f"{side}_{i:03}", "description": ""}
        for side in ("a", "b")
        for i in range(60)
    ]
    snapshot = {
        "format": "bulkops-snapshot/1",
        "projects": {"default": {"entities": {"gates": gates}}},
    }
    return EmulatorConfig(mutation_limits=((20, 1.0),), seed=snapshot)


def env_for(emulator: RunningEmulator, state: Path, url: str) -> dict[str, str]:
    return cli_env(emulator, state, BULKOPS_BUDGET_URL=url, BULKOPS_MUTATION_LIMITS=LIMIT)


def patch(side: str, run_id: str) -> tuple[str, ...]:
    return ("run", "patch", "--kind", "gates", "--where", f"name~{side}_*",
            "--set", "description=shared", "--yes", "--run-id", run_id)  # fmt: skip


def patched(emulator: RunningEmulator) -> int:
    gates = emulator.dump()["projects"]["default"]["entities"]["gates"]
    return sum(g.get("description") == "shared" for g in gates)


def phase(state: Path, run_id: str) -> str:
    conn = sqlite3.connect(state / f"{run_id}.journal")
    try:
        return str(
            json.loads(conn.execute("SELECT value FROM meta WHERE key='phase'").fetchone()[0])
        )
    finally:
        conn.close()


def wait_for_mutations(emulator: RunningEmulator, n: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(emulator.mutation_log()) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(emulator.mutation_log()) >= n


def test_two_processes_on_one_project_draw_no_429(
    emulator: RunningEmulator, redis_server: RunningRedis, tmp_path: Path
) -> None:
    env = env_for(emulator, tmp_path / "state", redis_server.url)
    first, second = spawn(*patch("a", "ra"), env=env), spawn(*patch("b", "rb"), env=env)
    for child in (first, second):
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    assert patched(emulator) == 120 and len(emulator.mutation_log()) == 120
    assert emulator.stats()["rate_limited"] == 0


def test_redis_unreachable_at_start_is_a_usage_error_and_nothing_is_sent(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = env_for(emulator, tmp_path / "state", "redis://127.0.0.1:9/0")
    done = bulkops(*patch("a", "nored"), env=env)
    assert done.returncode == 2, done.stderr
    assert "redis://127.0.0.1:9/0" in done.stderr and "Traceback" not in done.stderr
    assert emulator.mutation_log() == []


def test_redis_lost_mid_run_stops_cleanly_and_the_run_resumes(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    with start_redis_server() as redis:
        env = env_for(emulator, state, redis.url)
        child = spawn(*patch("a", "lost"), env=env)
        wait_for_mutations(emulator, 15)
        redis.kill()
        _, err = child.communicate(timeout=60)
        port = redis.port
    assert child.returncode == 3, err
    assert "bulkops resume lost" in err and "Traceback" not in err
    assert phase(state, "lost") == "interrupted"
    sent = len(emulator.mutation_log())
    assert sent < 60
    with start_redis_server(port=port):
        done = bulkops("resume", "lost", env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    # nothing twice (a restarted Redis has lost the window log; the resumed run fills it from
    # its state dir: tests/jobs/test_cli_recent_sends.py; a 429 would pause and be resent)
    assert patched(emulator) == 60 and len(emulator.mutation_log()) == 60


def test_kill_9_of_one_of_two_processes_loses_and_doubles_nothing(
    emulator: RunningEmulator, redis_server: RunningRedis, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    env = env_for(emulator, state, redis_server.url)
    victim, survivor = spawn(*patch("a", "ka"), env=env), spawn(*patch("b", "kb"), env=env)
    wait_for_mutations(emulator, 30)
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    _, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err
    done = bulkops("resume", "ka", "--yes", env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert patched(emulator) == 120
    assert len(emulator.mutation_log()) == 120  # what was in flight was read, not sent again
    assert emulator.stats()["rate_limited"] == 0
