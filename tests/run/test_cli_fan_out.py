"""One job over several named projects in one run: --project NAME, repeated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import bulkops, cli_env

from bulkops.testing import EmulatorConfig, RunningEmulator

PROJECTS = {
    "default": "console-default",
    "p1": "console-p1",
    "p2": "console-p2",
    "p3": "console-p3",
}
FAN_OUT = ("--project", "p1", "--project", "p2", "--project", "p3")
PATCH = ("run", "patch", "--kind", "gates", "--set", "description=fleet", *FAN_OUT)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(projects=dict(PROJECTS), mutation_limits=((1_000_000, 1.0),))


@pytest.fixture
def env(emulator: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    for project in ("p1", "p2", "p3"):
        gates = [
            {"id": f"{project}_g{i}", "name": f"{project}_g{i}", "description": ""}
            for i in range(4)
        ]
        emulator.load(
            {"format": "bulkops-snapshot/1", "projects": {project: {"entities": {"gates": gates}}}}
        )
    keys = {
        f"STATSIG_{p.upper()}_CONSOLE_API_KEY": k for p, k in PROJECTS.items() if p != "default"
    }
    return cli_env(emulator, tmp_path / "state", **keys)


def descriptions(emulator: RunningEmulator, project: str) -> set[str]:
    gates = emulator.dump()["projects"][project]["entities"]["gates"]
    return {g.get("description", "") for g in gates}


def status(env: dict[str, str], run_id: str) -> dict:
    done = bulkops("status", run_id, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_one_run_changes_every_project_with_its_own_counts(
    emulator: RunningEmulator, env: dict[str, str]
) -> None:
    done = bulkops(*PATCH, "--yes", "--run-id", "fleet", env=env)
    assert done.returncode == 0, done.stderr
    for project in ("p1", "p2", "p3"):
        assert descriptions(emulator, project) == {"fleet"}
        assert len(emulator.mutation_log(project)) == 4
    assert emulator.mutation_log("default") == []
    assert "project p2: 4 to send" in done.stderr
    projects = status(env, "fleet")["projects"]
    assert {p: part["counts"].get("DONE") for p, part in projects.items()} == {
        "p1": 4,
        "p2": 4,
        "p3": 4,
    }
    again = bulkops(*PATCH, "--yes", env=env)
    assert again.returncode == 0 and "plan: 0 operation(s) to send" in again.stderr


def test_one_projects_rejected_key_does_not_stop_the_others(
    emulator: RunningEmulator, env: dict[str, str]
) -> None:
    broken = {**env, "STATSIG_P2_CONSOLE_API_KEY": "console-wrong"}
    done = bulkops(*PATCH, "--yes", "--run-id", "partial", env=broken)
    assert done.returncode == 1, done.stderr
    assert "project p2:" in done.stderr and "401" in done.stderr
    assert descriptions(emulator, "p1") == descriptions(emulator, "p3") == {"fleet"}
    assert descriptions(emulator, "p2") == {""}
    part = status(env, "partial")["projects"]["p2"]
    assert part["plan_failed"] and "401" in part["plan_failed"]
    resumed = bulkops("resume", "partial", "--yes", env=env)  # the key is right again
    assert resumed.returncode == 0, resumed.stderr
    assert descriptions(emulator, "p2") == {"fleet"}
    assert len(emulator.mutation_log("p1")) == 4  # nothing sent twice


def test_a_key_rejected_while_sending_stops_only_that_project(
    emulator: RunningEmulator, env: dict[str, str]
) -> None:
    emulator.fail_next(1, "PATCH", status=401, project="p3")
    done = bulkops(*PATCH, "--yes", "--run-id", "mid", "--concurrency", "1", env=env)
    assert done.returncode == 1, done.stderr
    assert "project p3:" in done.stderr
    assert descriptions(emulator, "p1") == descriptions(emulator, "p2") == {"fleet"}
    assert status(env, "mid")["projects"]["p3"]["remaining"] == 4
    resumed = bulkops("resume", "mid", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert descriptions(emulator, "p3") == {"fleet"}


def test_revert_of_a_fan_out_run_undoes_every_project(
    emulator: RunningEmulator, env: dict[str, str]
) -> None:
    assert bulkops(*PATCH, "--yes", "--run-id", "undo-me", env=env).returncode == 0
    done = bulkops("revert", "undo-me", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert all(descriptions(emulator, p) == {""} for p in ("p1", "p2", "p3"))


def test_a_job_with_a_target_takes_one_project(env: dict[str, str]) -> None:
    done = bulkops("run", "copy-experiments", "--to", "p3", "--project", "p1", "--project", "p2",
                   "--dry-run", env=env)  # fmt: skip
    assert done.returncode == 2 and "one --project" in done.stderr


def test_an_unknown_project_names_the_variables_to_set(env: dict[str, str]) -> None:
    done = bulkops("run", "patch", "--kind", "gates", "--set", "description=x",
                   "--project", "nowhere", "--dry-run", env=env)  # fmt: skip
    assert done.returncode == 2
    assert "STATSIG_NOWHERE_CONSOLE_API_KEY" in done.stderr
