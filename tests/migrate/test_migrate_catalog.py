"""Tags and target apps: migrate creates the ones its entities name, once; verify names a
missing one; revert deletes what the run created (CLI subprocesses, one emulator)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from clihelp import bulkops
from jobcli import planned, run_id, sent
from migcli import api, env, migrate, seed, two_projects, verify

from bulkops.migrate.sample import half_populated, migration_sample
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
    assert tags["checkout"] == {**sample["catalog"]["tags"][0]}
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
    api(emulator, "DELETE", "/tags/payments", None, "target")
    api(emulator, "DELETE", "/target_app/ios", None, "target")
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
