"""Ctrl-C sends nothing new; a resumed plan is checked against the state before sending."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from clihelp import JOBFILE, api, bulkops, cli_env, fast_config, seed_holdout, spawn

from bulkops.testing import EmulatorConfig, RunningEmulator


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return fast_config()


@pytest.fixture
def env(emulator: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    seed_holdout(emulator)
    return cli_env(emulator, tmp_path / "state")


def _statuses(state: Path, run_id: str) -> dict[str, int]:
    conn = sqlite3.connect(state / f"{run_id}.journal")
    try:
        return dict(conn.execute("SELECT status, COUNT(*) FROM operations GROUP BY status"))
    finally:
        conn.close()


def test_ctrl_c_sends_nothing_new_and_leaves_unsent_operations_planned(
    emulator: RunningEmulator, env: dict, tmp_path: Path
) -> None:
    # 2 mutations a second, 8 workers: most operations wait on the budget when Ctrl-C comes.
    emulator.reset_counters()
    child = spawn(
        "run", JOBFILE, "--count", "30", "--yes", "--run-id", "c1", "--concurrency", "8",
        "--mutation-limit", "2/1s", env=env,
    )  # fmt: skip
    assert child.stderr is not None
    for line in child.stderr:
        if line.startswith("sending "):
            break
    time.sleep(2.5)
    signalled = time.time()
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 3, err
    late = [m for m in emulator.mutation_log() if m["time"] > signalled + 0.3]
    assert late == [], f"sent after Ctrl-C: {late}"
    statuses = _statuses(tmp_path / "state", "c1")
    assert statuses.get("IN_FLIGHT", 0) == 0, statuses
    assert statuses["PLANNED"] > 0 and statuses["DONE"] == len(emulator.mutation_log())
    done = bulkops("resume", "c1", env=env)
    assert done.returncode == 0, done.stderr
    assert len(api(emulator, "GET", "/holdouts/bulk_holdout")["data"]["gateIDs"]) == 31
    status = json.loads(bulkops("status", "c1", "--json", env=env).stdout)
    assert status["elapsed_seconds"] >= 2.5  # both sessions count


def _seed_gates(emulator: RunningEmulator, n: int) -> None:
    for i in range(n):
        api(emulator, "POST", "/gates", {"name": f"t8_gate_{i}", "description": "old"})


def test_resuming_an_old_plan_sends_nothing_when_the_work_was_done_meanwhile(
    emulator: RunningEmulator, env: dict, tmp_path: Path
) -> None:
    _seed_gates(emulator, 3)
    args = ("--kind", "gates", "--where", "name~t8_gate_*", "--set", "description=new")
    first = bulkops("run", "patch", *args, "--run-id", "old", env=env)
    assert first.returncode == 2 and "bulkops resume old --yes" in first.stderr
    assert bulkops("run", "patch", *args, "--yes", env=env).returncode == 0
    emulator.reset_counters()
    resumed = bulkops("resume", "old", "--yes", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert emulator.mutation_log() == []
    assert _statuses(tmp_path / "state", "old") == {"SKIPPED": 3}
    report = [json.loads(x) for x in bulkops("report", "old", env=env).stdout.splitlines()]
    assert {r["message"] for r in report if r["operation"]} == {"already in the desired state"}
    # Reverting the resumed run undoes nothing: it did none of the work.
    undo = bulkops("revert", "old", "--yes", env=env)
    assert undo.returncode == 0, undo.stderr
    assert emulator.mutation_log() == []


def test_an_explicit_mutation_limit_env_overrides_the_stored_limits_on_resume(
    emulator: RunningEmulator, env: dict
) -> None:
    _seed_gates(emulator, 3)
    args = ("--kind", "gates", "--where", "name~t8_gate_*", "--set", "description=new")
    slow = {**env, "BULKOPS_MUTATION_LIMITS": "1/60s"}
    assert bulkops("run", "patch", *args, "--run-id", "lim", env=slow).returncode == 2
    started = time.monotonic()
    done = bulkops("resume", "lim", "--yes", env={**env, "BULKOPS_MUTATION_LIMITS": "1000/1s"})
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 20
    assert "mutation limits: 1000/1s (BULKOPS_MUTATION_LIMITS)" in done.stderr


def test_the_plan_says_when_it_uses_the_limits_stored_in_the_journal(
    emulator: RunningEmulator, env: dict
) -> None:
    _seed_gates(emulator, 1)
    args = ("--kind", "gates", "--where", "name~t8_gate_*", "--set", "description=new")
    assert bulkops("run", "patch", *args, "--run-id", "st", "--mutation-limit", "50/1s", env=env)
    unset = {k: v for k, v in env.items() if k != "BULKOPS_MUTATION_LIMITS"}
    done = bulkops("resume", "st", "--yes", env=unset)
    assert done.returncode == 0, done.stderr
    assert "mutation limits: 50/1s (stored in the journal;" in done.stderr


def test_status_of_a_killed_run_says_interrupted_and_how_to_resume(
    emulator: RunningEmulator, env: dict
) -> None:
    killed = bulkops(
        "run", JOBFILE, "--count", "3", "--yes", "--run-id", "k9",
        env={**env, "BULKOPS_TEST_KILL_AFTER_SEND": "2"},
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    status = json.loads(bulkops("status", "k9", "--json", env=env).stdout)
    assert status["phase"] == "interrupted" and status["process"] == "gone"
    assert status["next"] == "bulkops resume k9"
    text = bulkops("status", "k9", env=env).stdout
    assert "interrupted" in text and "bulkops resume k9" in text, text


def test_a_server_asking_to_wait_a_day_stops_the_run_with_a_resume_hint(
    emulator: RunningEmulator, env: dict, tmp_path: Path
) -> None:
    emulator.rate_limit_next(1, "PATCH", retry_after=86400)
    done = bulkops("run", JOBFILE, "--count", "5", "--yes", "--run-id", "day", env=env)
    assert done.returncode == 3, done.stderr
    assert "86400" in done.stderr and "bulkops resume day" in done.stderr
    assert "Traceback" not in done.stderr
    statuses = _statuses(tmp_path / "state", "day")
    assert statuses.get("IN_FLIGHT", 0) == 0 and statuses.get("FAILED_TEMP", 0) == 0
    resumed = bulkops("resume", "day", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert set(_statuses(tmp_path / "state", "day")) == {"DONE"}
