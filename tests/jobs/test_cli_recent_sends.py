"""A new process's budget remembers what the state dir sent lately (real CLI processes).

The emulator keeps a 30-per-4-seconds window (and 20 per 0.5 s). Without that memory, a run
started right after another on the same project, or a run resumed right after ``kill -9``,
starts with an empty budget and sends a burst into a window the server still counts full:
429s. With it, the second process waits for the window and draws none.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from clihelp import bulkops, cli_env
from job_fakes import gate
from jobcli import planned, seed

from bulkops.redis_process import start_redis_server
from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = pytest.mark.timeout(120)

LIMITS = ((20, 0.5), (30, 4.0))
ENV_LIMITS = "20/0.5s,30/4s"
KILL = "BULKOPS_TEST_KILL_AFTER_SEND"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(projects={"default": "console-k"}, mutation_limits=LIMITS)


def _patch(emulator: RunningEmulator, state: Path, text: str, *args: str, **extra: str):
    env = cli_env(emulator, state, BULKOPS_MUTATION_LIMITS=ENV_LIMITS, **extra)
    argv = ("run", "patch", "--kind", "gates", "--set", f"description={text}", "--yes", *args)
    return bulkops(*argv, env=env)


def _refused(emulator: RunningEmulator) -> int:
    return int(emulator.stats()["projects"]["default"]["rate_limited"])


def test_a_run_right_after_another_on_the_project_waits_for_its_window(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    seed(emulator, gates=[gate(f"g{i}") for i in range(20)])
    state = tmp_path / "state"
    first = _patch(emulator, state, "first")
    assert first.returncode == 0, first.stderr
    second = _patch(emulator, state, "second")
    assert second.returncode == 0, second.stderr
    assert planned(second.stderr) == 20
    assert "budget: 20 mutation(s) sent in the last 4s by runs in this state dir" in second.stderr
    assert _refused(emulator) == 0
    # another state dir knows nothing of them (how many 429s its burst draws depends on how
    # soon it starts: not asserted; with the memory switched off, both cases here drew 6-13)
    third = _patch(emulator, tmp_path / "elsewhere", "third")
    assert third.returncode == 0, third.stderr
    assert "budget:" not in third.stderr


def test_a_run_resumed_right_after_kill_9_waits_for_what_it_sent_before(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    seed(emulator, gates=[gate(f"g{i}") for i in range(40)])
    state = tmp_path / "state"
    killed = _patch(emulator, state, "killed", "--run-id", "k", **{KILL: "25"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    sent_before = len(emulator.mutation_log())
    assert sent_before >= 25
    resumed = bulkops(
        "resume", "k", "--yes", env=cli_env(emulator, state, BULKOPS_MUTATION_LIMITS=ENV_LIMITS)
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "still count against its windows" in resumed.stderr
    assert _refused(emulator) == 0
    assert len({m["path"] for m in emulator.mutation_log()}) == 40


@pytest.mark.slow
def test_a_restarted_redis_gets_the_sends_it_lost_from_the_state_dir(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """With ``--budget-url``: a Redis restarted (empty) right after a run has lost that run's
    window; the next run fills the empty shared log from its state dir, and waits (without
    that, 6 x 429 here)."""
    seed(emulator, gates=[gate(f"g{i}") for i in range(20)])
    state = tmp_path / "state"
    with start_redis_server() as before:
        first = _patch(emulator, state, "first", BULKOPS_BUDGET_URL=before.url)
        assert first.returncode == 0, first.stderr
    with start_redis_server() as restarted:  # a new, empty Redis
        second = _patch(emulator, state, "second", BULKOPS_BUDGET_URL=restarted.url)
    assert second.returncode == 0, second.stderr
    assert "budget: 20 mutation(s) sent in the last 4s by runs in this state dir" in second.stderr
    assert _refused(emulator) == 0
