"""Interrupts, locks, foreign journals, secrets, revert: the CLI keeps users safe."""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path

import pytest
from clihelp import JOBFILE, api, bulkops, cli_env, fast_config, seed_holdout, spawn

from bulkops.run.lock import JournalLock
from bulkops.testing import EmulatorConfig, RunningEmulator


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return fast_config()


@pytest.fixture
def env(emulator: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    seed_holdout(emulator)
    return cli_env(emulator, tmp_path / "state")


def test_sigint_stops_cleanly_with_exit_3_and_resume_finishes(
    emulator: RunningEmulator, env: dict
) -> None:
    emulator.set_faults(latency=0.2)  # 40 mutations, 2 at a time: 4 s, SIGINT comes first
    child = spawn(
        "run", JOBFILE, "--count", "40", "--yes", "--run-id", "r1", "--concurrency", "2", env=env
    )
    assert child.stderr is not None
    for line in child.stderr:  # printed right before the first mutation
        if line.startswith("sending "):
            break
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 3, err
    assert "interrupted: resume with `bulkops resume r1`" in err
    status = json.loads(bulkops("status", "r1", "--json", env=env).stdout)
    assert status["phase"] == "interrupted" and status["remaining"] > 0
    emulator.clear_faults()
    done = bulkops("resume", env=env)  # the latest unfinished run
    assert done.returncode == 0, done.stderr
    assert len(api(emulator, "GET", "/holdouts/bulk_holdout")["data"]["gateIDs"]) == 41


def test_a_second_process_on_the_same_run_is_refused(env: dict, tmp_path: Path) -> None:
    assert bulkops("run", JOBFILE, "--count", "1", "--run-id", "r1", env=env).returncode == 2
    lock = JournalLock(tmp_path / "state" / "r1.journal")
    lock.acquire("r1")
    try:
        done = bulkops("resume", "r1", "--yes", env=env)
    finally:
        lock.release()
    assert done.returncode == 2 and "in use by process" in done.stderr
    assert bulkops("run", JOBFILE, "--run-id", "r1", env=env).returncode == 2  # id taken


def test_a_foreign_journal_is_reported_and_left_alone(env: dict, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    foreign = state / "x.journal"
    foreign.write_bytes(b"not a journal at all")
    done = bulkops("resume", "x", env=env)
    assert done.returncode == 2 and "is not a bulkops journal" in done.stderr
    assert foreign.read_bytes() == b"not a journal at all"
    assert bulkops("status", "x", env=env).returncode == 2


def test_the_key_is_in_no_file_and_no_output(
    emulator: RunningEmulator, env: dict, tmp_path: Path
) -> None:
    key = emulator.api_key()
    outputs = [
        bulkops("run", JOBFILE, "--count", "3", "--yes", "--run-id", "r1", env=env),
        bulkops("run", JOBFILE, "--count", "3", "--dry-run", "--json", env=env),
        bulkops("status", "r1", "--json", env=env),
        bulkops("report", "r1", "--format", "csv", env=env),
        bulkops("revert", "r1", "--yes", "--log-format", "json", env=env),
        bulkops(
            "run", JOBFILE, "--api-key", key, "--yes", env={**env, "STATSIG_CONSOLE_API_KEY": ""}
        ),
    ]
    for out in outputs:
        assert key not in out.stdout + out.stderr
    state = tmp_path / "state"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    files = [p for p in state.rglob("*") if p.is_file()]
    assert any(p.suffix == ".journal" for p in files)
    for path in files:
        assert key.encode() not in path.read_bytes(), path
        if path.suffix == ".journal":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_revert_undoes_done_operations(emulator: RunningEmulator, env: dict) -> None:
    assert (
        bulkops("run", JOBFILE, "--count", "3", "--yes", "--run-id", "r1", env=env).returncode == 0
    )
    dry = bulkops("revert", "r1", "--dry-run", env=env)
    assert dry.returncode == 0 and "DELETE /gates/bulk_gate_0002" in dry.stdout
    done = bulkops("revert", "r1", "--yes", "--run-id", "undo1", env=env)
    assert done.returncode == 0, done.stderr
    names = [g["name"] for g in api(emulator, "GET", "/gates")["data"]]
    assert names == ["someone_elses_gate"]
    holdout = api(emulator, "GET", "/holdouts/bulk_holdout")["data"]
    assert holdout["gateIDs"] == ["someone_elses_gate"]
    report = [json.loads(x) for x in bulkops("report", "undo1", env=env).stdout.splitlines()]
    assert {r["key"] for r in report if r["status"] == "SKIPPED"} == {
        f"bulk_gate_000{i}:rule" for i in range(3)
    }


def test_revert_reports_entities_changed_since_instead_of_overwriting(
    emulator: RunningEmulator, env: dict
) -> None:
    assert (
        bulkops("run", JOBFILE, "--count", "1", "--yes", "--run-id", "r1", env=env).returncode == 0
    )
    api(emulator, "PATCH", "/gates/bulk_gate_0000", {"description": "changed by a human"})
    done = bulkops("revert", "r1", "--yes", "--run-id", "undo1", env=env)
    assert done.returncode == 1
    failed = [
        json.loads(x)
        for x in bulkops("report", "undo1", "--failed-only", env=env).stdout.splitlines()
    ]
    conflict = next(r for r in failed if r["key"] == "revert:bulk_gate_0000:describe")
    assert conflict["error"] == "conflict" and "changed since the run" in conflict["message"]
    gate = api(emulator, "GET", "/gates/bulk_gate_0000")["data"]
    assert gate["description"] == "changed by a human"
    forced = bulkops("revert", "r1", "--yes", "--force", env=env)
    assert forced.returncode == 0, forced.stderr


def test_journal_files_are_private(tmp_path: Path) -> None:
    from bulkops.run.statedir import StateDir

    journal, lock = StateDir(tmp_path / "s").create("r", {"job": "x"})
    journal.close()
    lock.release()
    assert stat.S_IMODE(os.stat(tmp_path / "s").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "s" / "r.journal").st_mode) == 0o600
