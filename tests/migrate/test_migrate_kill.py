"""kill -9 a migration at random points, resume it: the target verifies, nothing is doubled."""

from __future__ import annotations

import random
import signal
import subprocess
from pathlib import Path

import pytest
from clihelp import bulkops, spawn
from migcli import MIGRATE, counts, creates, env, seed, two_projects, verify

from bulkops.testing import EmulatorConfig

KILL = "BULKOPS_TEST_KILL_AFTER_SEND"
RUN = ("run", *MIGRATE, "--yes", "--run-id", "k", "--concurrency", "4")
RESUME = ("resume", "k", "--yes", "--concurrency", "4")


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return two_projects()


def _one_session(args: tuple[str, ...], cli: dict[str, str], rng: random.Random, n: int) -> int:
    """One process of the run, killed after its N-th response or at a random moment."""
    if n % 2 == 0:
        return bulkops(*args, env={**cli, KILL: str(rng.randint(3, 20))}, timeout=60).returncode
    child = spawn(*args, env=cli)
    try:
        child.wait(timeout=rng.uniform(0.4, 0.9))
    except subprocess.TimeoutExpired:
        child.kill()
    child.communicate(timeout=30)
    return child.returncode


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_killed_at_random_points_then_resumed_it_verifies_and_creates_each_entity_once(
    emulator, tmp_path: Path
) -> None:
    seed(emulator)
    emulator.set_faults(latency=0.004, seed=3)
    state, rng = tmp_path / "state", random.Random(9)
    cli = env(emulator, state)
    kills, code, args = 0, None, RUN
    for n in range(40):
        code = _one_session(args, cli, rng, n)
        args = RESUME
        if code == -signal.SIGKILL:
            kills += 1
        elif code == 0 and kills >= 6:
            break
        assert code in (0, -signal.SIGKILL), code
    emulator.clear_faults()
    if code != 0:
        done = bulkops(*RESUME, env=cli, timeout=60)
        assert done.returncode == 0, done.stderr
    assert kills >= 6
    assert max(creates(emulator).values()) == 1
    assert all(200 <= m["status"] < 300 for m in emulator.mutation_log("target"))
    assert counts(emulator, "target") == counts(emulator, "default")
    checked = verify(emulator, state, "k")
    assert checked.returncode == 0, checked.stdout
