"""copy-experiments and ID-list segments, through the CLI: their IDs arrive in the fewest calls."""

from __future__ import annotations

import json
import signal
from collections import Counter
from pathlib import Path

import pytest
from clihelp import bulkops, cli_env
from job_fakes import gate
from jobcli import (
    TARGET_KEY,
    experiment,
    planned,
    run_id,
    run_job,
    run_ok,
    seed,
    sent,
    two_projects,
)

from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = pytest.mark.timeout(120)

BETA_IDS = [f"user-{i:05}" for i in range(2_500)]
STORE_IDS = [f"store-{i:05}" for i in range(2_500)]
KILL = "BULKOPS_TEST_KILL_AFTER_SEND"
TARGET_ENV = {"STATSIG_TARGET_CONSOLE_API_KEY": TARGET_KEY}
COPY = ("copy-experiments", "--to", "staging")


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return two_projects()


def _segment(segment_id: str, segment_type: str) -> dict:
    return {
        "id": segment_id,
        "name": segment_id,
        "type": segment_type,
        "idType": "userID",
        "description": "",
        "count": 0,
    }


def _passes(segment_id: str) -> dict:
    return {
        "name": segment_id,
        "passPercentage": 100,
        "conditions": [{"type": "passes_segment", "targetValue": [segment_id]}],
    }


def seed_id_lists(
    emulator: RunningEmulator, project: str = "default", **id_lists: list[str]
) -> None:
    """Source: two experiments gated on an id_list and a user_store_id_list segment."""
    segments = [_segment("beta_users", "id_list"), _segment("store_users", "user_store_id_list")]
    state = {
        "entities": {
            "segments": segments,
            "gates": [
                gate("beta_gate", rules=[_passes("beta_users")]),
                gate("store_gate", rules=[_passes("store_users")]),
            ],
            "experiments": [
                experiment("checkout_a", targetingGateID="beta_gate"),
                experiment("checkout_b", targetingGateID="store_gate"),
            ],
        },
        "id_lists": id_lists or {"beta_users": BETA_IDS, "store_users": STORE_IDS},
    }
    emulator.load({"format": "bulkops-snapshot/1", "projects": {project: state}})


def seed_target_segments(emulator: RunningEmulator, **id_lists: list[str]) -> None:
    """Target: the two segments (same fields as the source) with these IDs."""
    types = {"beta_users": "id_list", "store_users": "user_store_id_list"}
    state = {
        "entities": {"segments": [_segment(s, types[s]) for s in id_lists]},
        "id_lists": id_lists,
    }
    emulator.load({"format": "bulkops-snapshot/1", "projects": {"target": state}})


def id_lists(emulator: RunningEmulator, project: str = "target") -> dict[str, list[str]]:
    return emulator.dump()["projects"][project].get("id_lists", {})


def counted(log: list[dict]) -> Counter[str]:
    """Mutations as ``METHOD /path`` counts."""
    return Counter(f"{m['method']} {m['path'].split('/console/v1')[-1]}" for m in log)


def copy_twice(emulator: RunningEmulator, state: Path, *args: str) -> list[dict]:
    """Copy (what is sent equals the plan), copy again (plans 0): the first run's mutations."""
    run_ok(emulator, state, *COPY, *args, env=TARGET_ENV)
    calls = emulator.mutation_log("target")
    emulator.reset_counters()
    again = run_job(emulator, state, *COPY, *args, "--yes", env=TARGET_ENV)
    assert again.returncode == 0 and planned(again.stderr) == 0, again.stderr
    assert sent(emulator) == {}
    return calls


def test_id_list_segments_arrive_with_their_ids_in_the_fewest_calls(
    emulator, tmp_path: Path
) -> None:
    seed_id_lists(emulator)
    seed(emulator, "target")
    log = copy_twice(emulator, tmp_path / "state")
    lists = id_lists(emulator)
    assert sorted(lists["beta_users"]) == BETA_IDS and sorted(lists["store_users"]) == STORE_IDS
    # One reset for the id_list (2,500 <= 100,000 a call), three add_ids of <= 1,000.
    assert counted(log) == {
        "POST /segments": 2,
        "POST /segments/beta_users/id_list/reset": 1,
        "PATCH /segments/store_users/add_ids": 3,
        "POST /gates": 2,
        "POST /experiments": 2,
    }
    sizes = [len(m["body"]["ids"]) for m in log if "ids" in m["body"]]
    assert sorted(sizes) == [500, 1_000, 1_000, 2_500]


def test_gates_are_created_after_their_segment_is_filled(emulator, tmp_path: Path) -> None:
    seed_id_lists(emulator)
    seed(emulator, "target")
    emulator.reset_counters()
    done = run_job(emulator, tmp_path / "state", *COPY, "--yes", env=TARGET_ENV)
    assert done.returncode == 0, done.stderr
    log = emulator.mutation_log("target")
    for gate_id, segment_id in (("beta_gate", "beta_users"), ("store_gate", "store_users")):
        created = next(i for i, m in enumerate(log) if m["body"].get("id") == gate_id)
        fills = [i for i, m in enumerate(log) if f"/segments/{segment_id}/" in m["path"]]
        assert fills and max(fills) < created, (gate_id, fills, created)


def test_existing_segments_with_the_same_ids_in_another_order_plan_nothing(
    emulator, tmp_path: Path
) -> None:
    seed_id_lists(emulator)
    seed_target_segments(
        emulator, beta_users=BETA_IDS[::-1], store_users=STORE_IDS[1_000:] + STORE_IDS[:1_000]
    )
    emulator.reset_counters()
    done = run_job(emulator, tmp_path / "state", *COPY, "--yes", env=TARGET_ENV)
    assert done.returncode == 0, done.stderr
    assert sent(emulator, "target") == {"POST /gates": 2, "POST /experiments": 2}


@pytest.mark.parametrize("mode", ["skip", "update", "rename"])
def test_on_conflict_decides_for_segments_whose_ids_differ(
    emulator, tmp_path: Path, mode: str
) -> None:
    seed_id_lists(emulator)
    theirs = {"beta_users": BETA_IDS[:2_000] + ["x1", "x2"], "store_users": STORE_IDS[:2_400]}
    seed_target_segments(emulator, **theirs)
    calls = counted(copy_twice(emulator, tmp_path / "state", "--on-conflict", mode))
    lists = id_lists(emulator)
    if mode == "skip":
        assert lists == theirs and not any("ids" in c or "id_list" in c for c in calls)
    elif mode == "update":
        assert sorted(lists["beta_users"]) == BETA_IDS
        assert sorted(lists["store_users"]) == STORE_IDS
        # beta: 500 missing and 2 extra; one reset beats an add and a remove.
        # store: 100 missing: one add_ids.
        assert calls == {
            "POST /segments/beta_users/id_list/reset": 1,
            "PATCH /segments/store_users/add_ids": 1,
            "POST /gates": 2,
            "POST /experiments": 2,
        }
    else:
        assert {k: v for k, v in lists.items() if k in theirs} == theirs
        assert sorted(lists["beta_users_copy"]) == BETA_IDS
        assert sorted(lists["store_users_copy"]) == STORE_IDS


def test_killed_mid_fill_then_resumed_sends_each_call_once(emulator, tmp_path: Path) -> None:
    seed_id_lists(emulator)
    seed(emulator, "target")
    emulator.reset_counters()
    state, cli = tmp_path / "state", cli_env(emulator, tmp_path / "state", **TARGET_ENV)
    args = (*COPY, "--yes", "--run-id", "k", "--concurrency", "2")
    killed = run_job(emulator, state, *args, env={**TARGET_ENV, KILL: "3"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    for kill_after in ("1", "2"):
        again = bulkops("resume", "k", "--concurrency", "2", env={**cli, KILL: kill_after})
        assert again.returncode == -signal.SIGKILL, again.stderr
    done = bulkops("resume", "k", env=cli)
    assert done.returncode == 0, done.stderr
    lists = id_lists(emulator)
    assert sorted(lists["beta_users"]) == BETA_IDS and sorted(lists["store_users"]) == STORE_IDS
    calls = Counter(
        (m["method"], m["path"], m["body"].get("id") or (m["body"].get("ids") or [None])[0])
        for m in emulator.mutation_log("target")
        if 200 <= m["status"] < 300
    )
    assert len(calls) == 10 and max(calls.values()) == 1, calls
    emulator.reset_counters()
    rerun = run_job(emulator, state, *COPY, "--yes", env=TARGET_ENV)
    assert rerun.returncode == 0 and planned(rerun.stderr) == 0 and sent(emulator) == {}


def test_revert_deletes_copied_segments_and_gives_updated_ones_their_ids_back(
    emulator, tmp_path: Path
) -> None:
    seed_id_lists(emulator)
    theirs = {"beta_users": BETA_IDS[:100] + ["x1"], "store_users": STORE_IDS[:1_200] + ["x2"]}
    seed_target_segments(emulator, **theirs)
    state = tmp_path / "state"
    before = emulator.dump()["projects"]["target"]
    done = run_job(emulator, state, *COPY, "--on-conflict", "update", "--yes", env=TARGET_ENV)
    assert done.returncode == 0, done.stderr
    assert sorted(id_lists(emulator)["store_users"]) == STORE_IDS
    undone = bulkops(
        "revert", run_id(done.stderr), "--yes", env=cli_env(emulator, state, **TARGET_ENV)
    )
    assert undone.returncode == 0, undone.stderr
    after = emulator.dump()["projects"]["target"]
    assert {k: sorted(v) for k, v in after["id_lists"].items()} == {
        k: sorted(v) for k, v in theirs.items()
    }
    assert sorted(e["id"] for e in after["entities"]["segments"]) == ["beta_users", "store_users"]
    assert not after["entities"].get("gates") and not after["entities"].get("experiments")
    assert before["id_lists"].keys() == after["id_lists"].keys()


def test_revert_of_a_fresh_copy_deletes_the_segments_with_their_ids(
    emulator, tmp_path: Path
) -> None:
    seed_id_lists(emulator)
    seed(emulator, "target")
    state = tmp_path / "state"
    done = run_job(emulator, state, *COPY, "--yes", env=TARGET_ENV)
    assert done.returncode == 0, done.stderr
    emulator.reset_counters()
    undone = bulkops(
        "revert", run_id(done.stderr), "--yes", env=cli_env(emulator, state, **TARGET_ENV)
    )
    assert undone.returncode == 0, undone.stderr
    target = emulator.dump()["projects"]["target"]
    assert not any(target["entities"].values()) and not target["id_lists"]
    assert sent(emulator, "target") == {
        "DELETE /segments/beta_users": 1,
        "DELETE /segments/store_users": 1,
        "DELETE /gates/beta_gate": 1,
        "DELETE /gates/store_gate": 1,
        "DELETE /experiments/checkout_a": 1,
        "DELETE /experiments/checkout_b": 1,
    }
    report = bulkops("report", run_id(undone.stderr), env=cli_env(emulator, state, **TARGET_ENV))
    fills = [row for row in map(json.loads, report.stdout.splitlines()) if ":ids:" in row["key"]]
    assert fills and all(
        row["status"] == "SKIPPED" and "undone by the revert of target:segments:" in row["message"]
        for row in fills
    ), fills
