"""Concurrent planning through the CLI: the same plan under shuffled latencies, Ctrl-C mid-plan."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from clihelp import bulkops, cli_env, spawn
from job_fakes import gate
from jobcli import overrides, seed

from bulkops.testing import EmulatorConfig, FaultPlan, RunningEmulator, start_emulator

GATES = [gate(f"g{i:03}") for i in range(80)]
UNMETERED = ((1_000_000, 1.0),)


def dry_run_plan(rng_seed: int, tmp_path: Path) -> dict:
    config = EmulatorConfig(
        mutation_limits=UNMETERED,
        faults=FaultPlan(latency=(0.0, 0.02), seed=rng_seed),
        rng_seed=rng_seed,
    )
    with start_emulator(config) as emulator:
        seed(emulator, gates=GATES)
        env = cli_env(emulator, tmp_path / f"state{rng_seed}")
        done = bulkops(
            "run", "overrides", "--kind", "gates", "--add-passing", "qa-1", "--dry-run", "--json",
            "--read-concurrency", "16", env=env,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    del plan["run_id"]
    return plan


def test_shuffled_latencies_give_the_same_plan(tmp_path: Path) -> None:
    first, second = dry_run_plan(1, tmp_path), dry_run_plan(2, tmp_path)
    assert first == second
    assert len(first["operations"]) == len(GATES)
    in_order = [change["entity"] for change in first["changes"]]
    assert in_order == [f"PATCH /gates/g{i:03}/overrides" for i in range(80)]


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # Planning reads 80 override documents, 4 at a time, 200 ms each: about 4 s of planning,
    # so a Ctrl-C after 20 reads comes while it plans even on a loaded machine.
    return EmulatorConfig(
        mutation_limits=UNMETERED, faults=FaultPlan(latency=0.2, methods=("GET",))
    )


def _phase(state: Path, run_id: str) -> str:
    conn = sqlite3.connect(state / f"{run_id}.journal")
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'phase'").fetchone()
        return str(json.loads(row[0]))
    finally:
        conn.close()


def _reads(emulator: RunningEmulator) -> int:
    return int(emulator.stats()["by_method"].get("GET", 0))


def test_ctrl_c_during_a_concurrent_plan_leaves_a_run_that_resume_replans(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    seed(emulator, gates=GATES)
    env = cli_env(emulator, tmp_path / "state")
    child = spawn(
        "run", "overrides", "--kind", "gates", "--add-passing", "qa-1", "--yes",
        "--run-id", "p1", "--read-concurrency", "4", env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while _reads(emulator) < 20 and time.monotonic() < deadline:  # planning is under way
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 3, err
    assert "interrupted: resume with `bulkops resume p1`" in err
    assert emulator.mutation_log() == []
    assert _phase(tmp_path / "state", "p1") == "listing"
    emulator.clear_faults()
    done = bulkops("resume", "p1", "--yes", env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "80 operation(s) to send" in done.stderr
    assert all(doc["passingUserIDs"] == ["qa-1"] for doc in overrides(emulator, "gates").values())
