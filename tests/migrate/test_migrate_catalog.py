"""Tags and target apps: migrate creates the ones its entities name, once; verify names a
missing one; revert deletes what the run created (CLI subprocesses, one emulator)."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from clihelp import bulkops
from jobcli import planned, run_id, sent
from migcli import api, env, migrate, seed, two_projects, verify

from bulkops.migrate.sample import half_populated, migration_sample
from bulkops.run.journal import Journal, OpRecord
from bulkops.run.states import OpStatus
from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = pytest.mark.timeout(180)

TAGS = {"checkout", "search", "growth", "payments", "undocumented"}
APPS = {"web", "ios"}


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return two_projects()


def _sample() -> dict[str, Any]:
    """The sample, with target apps on a few entities and a tag its catalog does not define."""
    sample = migration_sample()
    gates, experiments = sample["entities"]["gates"], sample["entities"]["experiments"]
    gates[0]["targetApps"] = ["web"]
    gates[1]["targetApps"] = ["web", "ios"]
    experiments[0]["targetApps"] = ["ios"]
    gates[2]["tags"] = [*gates[2]["tags"], "undocumented"]
    sample["catalog"]["target_apps"] = [{"id": "web", "name": "web"}, {"id": "ios", "name": "ios"}]
    return sample


def _catalog(emulator: RunningEmulator, table: str, project: str = "target") -> dict[str, Any]:
    entries = emulator.dump()["projects"][project]["catalog"][table]
    return {entry["name"]: entry for entry in entries}


def _catalog_creates(emulator: RunningEmulator) -> Counter[str]:
    return Counter(
        f"{m['path'].rsplit('/', 1)[-1]}/{m['body']['name']}"
        for m in emulator.mutation_log("target")
        if m["method"] == "POST" and m["path"].endswith(("/tags", "/target_app"))
    )


def _migrated(emulator: RunningEmulator, state: Path, *args: str) -> tuple[str, str]:
    emulator.reset_counters()
    done = migrate(emulator, state, *args, "--yes")
    assert done.returncode == 0, done.stderr
    assert all(200 <= m["status"] < 300 for m in emulator.mutation_log())
    return run_id(done.stderr), done.stderr


def test_into_an_empty_target_each_tag_and_target_app_is_created_once_before_its_entities(
    emulator, tmp_path: Path
) -> None:
    sample = seed(emulator, _sample())
    state = tmp_path / "state"
    run, output = _migrated(emulator, state)
    assert "tags: 5 to create, 1 not defined in the source" in output
    assert "target_apps: 2 to create" in output
    assert _catalog_creates(emulator) == Counter(
        [*(f"tags/{t}" for t in TAGS), *(f"target_app/{a}" for a in APPS)]
    )
    log = emulator.mutation_log("target")
    created_at = {
        (m["path"].rsplit("/", 1)[-1], m["body"]["name"]): i
        for i, m in enumerate(log)
        if m["path"].endswith(("/tags", "/target_app"))
    }
    for i, m in enumerate(log):  # every write naming one comes after its create
        body = m["body"] if isinstance(m["body"], dict) else {}
        named = [("tags", t) for t in body.get("tags") or ()]
        named += [("target_app", a) for a in body.get("targetApps") or ()]
        assert all(created_at[pair] < i for pair in named), m
    tags = _catalog(emulator, "tags")
    # the target gives IDs of its own: the name and the rest are the source's
    assert tags["checkout"] == {**sample["catalog"]["tags"][0], "id": tags["checkout"]["id"]}
    assert tags["checkout"]["id"] != "checkout"
    assert tags["undocumented"]["description"] == ""
    gates = {g["id"]: g for g in emulator.dump()["projects"]["target"]["entities"]["gates"]}
    source_gates = sample["entities"]["gates"]
    assert gates[source_gates[1]["id"]]["targetApps"] == ["web", "ios"]
    assert "undocumented" in gates[source_gates[2]["id"]]["tags"]
    checked = verify(emulator, state, run)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    emulator.reset_counters()
    again = migrate(emulator, state, "--yes")
    assert again.returncode == 0 and planned(again.stderr) == 0 and sent(emulator) == {}


def test_a_half_populated_target_reuses_the_tags_it_has(emulator, tmp_path: Path) -> None:
    sample = seed(emulator, _sample())
    theirs = half_populated(sample)
    theirs["catalog"] = {
        "tags": [{"id": "t-42", "name": "checkout", "description": "theirs", "isCore": True}],
        "target_apps": [{"id": "app-7", "name": "web"}],
    }
    emulator.load(theirs)
    _, output = _migrated(emulator, tmp_path / "state", "--on-conflict", "update")
    assert "tags: 4 to create, 1 equal" in output and "target_apps: 1 to create, 1 equal" in output
    assert _catalog_creates(emulator) == Counter(
        [*(f"tags/{t}" for t in TAGS - {"checkout"}), "target_app/ios"]
    )
    assert _catalog(emulator, "tags")["checkout"]["description"] == "theirs"  # untouched
    assert set(_catalog(emulator, "target_apps")) == APPS


def test_revert_deletes_the_tags_and_target_apps_the_run_created_only(
    emulator, tmp_path: Path
) -> None:
    seed(emulator, _sample())
    api(emulator, "POST", "/tags", {"name": "growth", "description": "theirs"}, "target")
    state = tmp_path / "state"
    run, _ = _migrated(emulator, state)
    assert set(_catalog(emulator, "tags")) == TAGS
    undone = bulkops("revert", run, "--yes", env=env(emulator, state))
    assert undone.returncode == 0, undone.stderr
    assert set(_catalog(emulator, "tags")) == {"growth"}
    assert _catalog(emulator, "target_apps") == {}
    assert emulator.dump()["projects"]["target"]["entities"]["gates"] == []


def test_verify_names_a_tag_the_target_lost(emulator, tmp_path: Path) -> None:
    seed(emulator, _sample())
    state = tmp_path / "state"
    run, _ = _migrated(emulator, state)
    payments, ios = _catalog(emulator, "tags")["payments"], _catalog(emulator, "target_apps")["ios"]
    api(emulator, "DELETE", f"/tags/{payments['id']}", None, "target")
    api(emulator, "DELETE", f"/target_app/{ios['id']}", None, "target")
    checked = verify(emulator, state, run)
    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    assert any(line.startswith("tags payments -> payments: (entity): source \"named by ")
               and line.endswith('target "missing"') for line in lines), lines  # fmt: skip
    assert any(line.startswith("target_apps ios -> ios: (entity)") for line in lines), lines
    assert len(lines) == 2


def test_from_a_snapshot_the_snapshots_catalog_gives_the_tags(emulator, tmp_path: Path) -> None:
    import orjson

    file = tmp_path / "export.json"
    file.write_bytes(orjson.dumps(_sample()))
    done = migrate(emulator, tmp_path / "state", "--from-snapshot", str(file), "--yes")
    assert done.returncode == 0, done.stderr
    assert _catalog(emulator, "tags")["search"]["description"] == "team search"
    assert set(_catalog(emulator, "target_apps")) == APPS


def test_a_tag_create_whose_answer_was_lost_is_found_by_name_on_resume_and_reverted_at_its_id(
    emulator, tmp_path: Path
) -> None:
    """The server gives tags IDs of its own: a create killed before its outcome was journaled is
    found by name in the target's list (not posted again), and the ID found is what revert
    deletes."""
    seed(emulator, _sample())
    state = tmp_path / "state"
    killed = migrate(
        emulator, state, "--yes", "--run-id", "lost", "--concurrency", "1",
        BULKOPS_TEST_KILL_AFTER_SEND="1",
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    first = emulator.mutation_log("target")
    assert len(first) == 1 and first[0]["path"].endswith(("/tags", "/target_app")), first
    name = first[0]["body"]["name"]
    assert _catalog_records(state)[name].status == OpStatus.IN_FLIGHT
    resumed = bulkops("resume", "lost", "--yes", env=env(emulator, state))
    assert resumed.returncode == 0, resumed.stderr
    assert max(_catalog_creates(emulator).values()) == 1
    created = {**_catalog(emulator, "tags"), **_catalog(emulator, "target_apps")}
    recorded = {name: rec.response_id for name, rec in _catalog_records(state).items()}
    assert recorded == {name: entry["id"] for name, entry in created.items()}
    found = _catalog_records(state)[name]  # DONE by reading, not by a second POST
    assert found.status == OpStatus.DONE and found.message == "already in the desired state"
    assert verify(emulator, state, "lost").returncode == 0
    undone = bulkops("revert", "lost", "--yes", env=env(emulator, state))
    assert undone.returncode == 0, undone.stderr
    assert _catalog(emulator, "tags") == {} and _catalog(emulator, "target_apps") == {}


def _catalog_records(state: Path) -> dict[str, OpRecord]:
    """The journal's tag and target-app creates of run ``lost``, by name."""
    journal = Journal.open(state / "lost.journal", readonly=True)
    try:
        return {
            rec.op.body["name"]: rec
            for batch in journal.iter_operations()
            for rec in batch
            if rec.op.key.startswith(("target:tags:", "target:target_apps:"))
        }
    finally:
        journal.close()
