"""A source project made by an API newer than the 2025-10 spec snapshot: what migrate copies.

The fields the live API added (``bulkops.api.live_fields``) are copied and compared like any
other; a field bulkops does not know at all cannot be written (the API refuses a property it
does not know), so the plan and ``verify`` name it instead of dropping it silently, and it
never makes a re-run plan anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import bulkops
from jobcli import planned, run_id, sent
from migcli import api, env, migrate, seed, two_projects, verify

from bulkops.migrate.sample import migration_sample
from bulkops.testing import EmulatorConfig

pytestmark = pytest.mark.timeout(180)

LIVE = {"enabledNonProdEnvironments": ["staging"], "turboMode": True, "userBuckets": [1]}
UNKNOWN = "not copied: experiments.futureSetting (2), gates.newFlag (1)"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return two_projects()


def _newer_api_sample() -> dict:
    """The sample as a newer API would list it: two experiments and a gate hold a field that
    bulkops does not know (null and empty values are not reported)."""
    snapshot = migration_sample()
    entities = snapshot["entities"]
    entities["experiments"][1]["futureSetting"] = {"mode": "fast"}
    entities["experiments"][2]["futureSetting"] = 3
    entities["experiments"][3]["futureSetting"] = None
    entities["gates"][0]["newFlag"] = True
    entities["gates"][1]["emptyList"] = []
    return snapshot


def test_live_fields_are_copied_and_unknown_ones_are_named_by_the_plan_and_verify(
    emulator, tmp_path: Path
) -> None:
    seed(emulator, _newer_api_sample())
    state = tmp_path / "state"
    preview = migrate(emulator, state, "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert UNKNOWN in preview.stdout + preview.stderr

    done = migrate(emulator, state, "--yes")
    assert done.returncode == 0, done.stderr
    assert UNKNOWN in done.stdout + done.stderr
    target = {e["id"]: e for e in emulator.dump()["projects"]["target"]["entities"]["experiments"]}
    carrying = [e for e in migration_sample()["entities"]["experiments"] if "turboMode" in e]
    assert carrying, "the sample has experiments with live fields"
    for source in carrying:
        assert {k: target[source["id"]].get(k) for k in LIVE} == {k: source[k] for k in LIVE}, (
            source["id"]
        )
    assert not any("futureSetting" in e for e in target.values())  # never sent: a 400

    run = run_id(done.stderr)
    checked = verify(emulator, state, run)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert UNKNOWN.replace("not copied", "not compared") in checked.stderr
    report = json.loads(bulkops("verify", run, "--json", env=env(emulator, state)).stdout)
    assert report["differences"] == []
    assert report["not_compared"] == {"experiments": {"futureSetting": 2}, "gates": {"newFlag": 1}}

    emulator.reset_counters()
    again = migrate(emulator, state, "--yes")
    assert again.returncode == 0 and planned(again.stderr) == 0 and sent(emulator) == {}


def test_a_changed_live_field_is_synced_by_one_patch(emulator, tmp_path: Path) -> None:
    seed(emulator)
    state = tmp_path / "state"
    assert migrate(emulator, state, "--yes").returncode == 0
    api(emulator, "PATCH", "/experiments/experiment_1", {"turboMode": False})
    stopped = migrate(emulator, state, "--dry-run")
    assert stopped.returncode == 2
    assert "experiments experiment_1 differs: turboMode" in stopped.stderr
    emulator.reset_counters()
    synced = migrate(emulator, state, "--yes", "--on-conflict", "update")
    assert synced.returncode == 0, synced.stderr
    assert sent(emulator, "target") == {"PATCH /experiments/experiment_1": 1}
    copy = next(
        e
        for e in emulator.dump()["projects"]["target"]["entities"]["experiments"]
        if e["id"] == "experiment_1"
    )
    assert copy["turboMode"] is False
