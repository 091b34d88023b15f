"""docs/custom-jobs.md works as written: its job file runs, plans, sends and reverts; its test runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bulkops.testing import EmulatorConfig, RunningEmulator

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "custom-jobs.md"


def blocks(language: str) -> list[str]:
    found, current, inside = [], [], False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            if inside:
                found.append("\n".join(current))
            inside, current = line.strip() == f"```{language}", []
            continue
        if inside:
            current.append(line)
    return found


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    gates = [{"id": g, "name": g, "description": ""} for g in ("g1", "g2", "g3")]
    passing = {"g1": ["alice", "bob"], "g2": ["bob"], "g3": ["alice"]}
    docs = {g: {"passingUserIDs": ids, "failingUserIDs": []} for g, ids in passing.items()}
    project = {"entities": {"gates": gates}, "overrides": {"gates": docs}}
    snapshot = {"format": "bulkops-snapshot/1", "projects": {"default": project}}
    return EmulatorConfig(mutation_limits=((1_000_000, 1.0),), seed=snapshot)


def overrides(emulator: RunningEmulator) -> dict:
    return emulator.dump()["projects"]["default"].get("overrides", {}).get("gates", {})


def test_the_worked_example_runs_plans_sends_and_reverts(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    job, test = blocks("python")
    (tmp_path / "remove_user.py").write_text(job)
    (tmp_path / "test_it.py").write_text(test)
    env = dict(
        os.environ,
        STATSIG_CONSOLE_API_URL=emulator.base_url,
        STATSIG_CONSOLE_API_KEY=emulator.api_key(),
        BULKOPS_STATE_DIR=str(tmp_path / "state"),
        PYTHONPATH=os.pathsep.join([str(REPO), str(tmp_path)]),
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bulkops", *args], env=env, cwd=tmp_path,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    dry = run("run", "./remove_user.py", "--user", "alice", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert len(json.loads(dry.stdout)["operations"]) == 2, dry.stdout + dry.stderr
    sent = run("run", "./remove_user.py", "--user", "alice", "--yes", "--run-id", "gone")
    assert sent.returncode == 0, sent.stderr
    assert all("alice" not in doc["passingUserIDs"] for doc in overrides(emulator).values())
    assert overrides(emulator)["g1"]["passingUserIDs"] == ["bob"]
    undone = run("revert", "gone", "--yes")
    assert undone.returncode == 0, undone.stderr
    assert "alice" in overrides(emulator)["g1"]["passingUserIDs"]
    assert "alice" in overrides(emulator)["g3"]["passingUserIDs"]
    tested = subprocess.run(
        [sys.executable, "test_it.py"], env=env, cwd=tmp_path, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert tested.returncode == 0, tested.stderr
