"""`bulkops run migrate` and `bulkops verify` end to end: CLI subprocesses, one emulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobcli import comparable, differences, planned, run_id, sent
from migcli import (
    KINDS,
    api,
    counts,
    creates,
    env,
    migrate,
    seed,
    two_projects,
    verify,
)

from bulkops.migrate.sample import COLLIDING_NAME, half_populated
from bulkops.testing import EmulatorConfig

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return two_projects()


def _migrated(emulator, state: Path, *args: str) -> str:
    emulator.reset_counters()
    done = migrate(emulator, state, *args, "--yes")
    assert done.returncode == 0, done.stderr
    log = emulator.mutation_log()
    assert len(log) == planned(done.stderr) and all(200 <= m["status"] < 300 for m in log)
    return run_id(done.stderr)


def test_into_an_empty_project_verify_passes_counts_are_exact_and_nothing_is_doubled(
    emulator, tmp_path: Path
) -> None:
    seed(emulator)
    state = tmp_path / "state"
    run = _migrated(emulator, state)
    assert counts(emulator, "target") == counts(emulator, "default")
    assert max(creates(emulator).values()) == 1
    assert sent(emulator, "default") == {}
    checked = verify(emulator, state, run)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "242 mapped entities compared, 0 difference(s)" in checked.stderr
    emulator.reset_counters()
    again = migrate(emulator, state, "--yes")
    assert again.returncode == 0 and planned(again.stderr) == 0 and sent(emulator) == {}


def test_experiments_arrive_in_setup_whatever_their_source_status(emulator, tmp_path: Path) -> None:
    seed(emulator)
    _migrated(emulator, tmp_path / "state")
    statuses = {
        e["status"] for e in emulator.dump()["projects"]["target"]["entities"]["experiments"]
    }
    assert statuses == {"setup"}


def test_after_five_source_changes_a_sync_plans_exactly_those_five(
    emulator, tmp_path: Path
) -> None:
    seed(emulator)
    state = tmp_path / "state"
    _migrated(emulator, state)
    api(emulator, "PATCH", "/gates/search_gate_1", {"description": "new words"})
    api(emulator, "PATCH", "/dynamic_configs/config_1", {"defaultValue": {"limit": 99}})
    api(emulator, "PATCH", "/experiments/experiment_2", {"hypothesis": "a sharper one"})
    api(emulator, "PATCH", "/holdouts/holdout_0", {"passPercentage": 7})
    api(emulator, "PATCH", "/segments/list_0/id_list", {"ids": ["one-more-user"]})
    stopped = migrate(emulator, state, "--dry-run")
    assert stopped.returncode == 2 and "5 entities of the target differ" in stopped.stderr
    run = _migrated(emulator, state, "--on-conflict", "update")
    assert sent(emulator, "target") == {
        "PATCH /gates/search_gate_1": 1,
        "PATCH /dynamic_configs/config_1": 1,
        "PATCH /experiments/experiment_2": 1,
        "PATCH /holdouts/holdout_0": 1,
        "PATCH /segments/list_0/id_list": 1,
    }
    assert verify(emulator, state, run).returncode == 0


def test_verify_exits_1_and_names_a_tampered_target_entity(emulator, tmp_path: Path) -> None:
    seed(emulator)
    state = tmp_path / "state"
    run = _migrated(emulator, state)
    api(emulator, "PATCH", "/dynamic_configs/config_3", {"description": "edited by hand"}, "target")
    checked = verify(emulator, state, run)
    assert checked.returncode == 1
    expected = 'dynamic_configs config_3 -> config_3: description: source "config 3", target '
    assert checked.stdout.splitlines() == [expected + '"edited by hand"']


def test_into_a_half_populated_project_conflicts_stop_then_rename_verifies(
    emulator, tmp_path: Path
) -> None:
    sample = seed(emulator)
    emulator.load(half_populated(sample))
    theirs = comparable(emulator, "target")
    state = tmp_path / "state"
    emulator.reset_counters()
    stopped = migrate(emulator, state, "--yes")
    assert stopped.returncode == 2 and sent(emulator) == {}
    assert f"gates {COLLIDING_NAME} differs: description" in stopped.stderr
    run = _migrated(emulator, state, "--on-conflict", "rename")
    target = emulator.dump()["projects"]["target"]["entities"]
    copies = {k: sum(e["id"].endswith("_copy") for e in target[k]) for k in KINDS}
    assert copies["gates"] >= 1 and f"{COLLIDING_NAME}_copy" in {g["id"] for g in target["gates"]}
    # One copy per entity that differed (the gate, and those naming the target's own gate).
    assert counts(emulator, "target") == {
        k: n + copies[k] for k, n in counts(emulator, "default").items()
    }
    assert max(creates(emulator).values()) == 1
    kept = comparable(emulator, "target")["entities"]
    for kind, rows in theirs["entities"].items():  # the target's own entities are untouched
        ids = {t["id"] for t in rows}
        # (holdoutIDs is the server's record of the holdouts naming an entity, not a write)
        now = [{**r, "holdoutIDs": None} for r in kept[kind] if r["id"] in ids]
        assert differences([{**r, "holdoutIDs": None} for r in rows], now) == []
    assert verify(emulator, state, run).returncode == 0
    emulator.reset_counters()
    again = migrate(emulator, state, "--on-conflict", "rename", "--yes")
    assert again.returncode == 0 and planned(again.stderr) == 0 and sent(emulator) == {}


def test_into_a_half_populated_project_update_verifies_with_exact_counts(
    emulator, tmp_path: Path
) -> None:
    emulator.load(half_populated(seed(emulator)))
    state = tmp_path / "state"
    run = _migrated(emulator, state, "--on-conflict", "update")
    assert counts(emulator, "target") == counts(emulator, "default")
    assert max(creates(emulator).values()) == 1
    assert sent(emulator, "target")[f"PATCH /gates/{COLLIDING_NAME}"] == 1
    assert verify(emulator, state, run).returncode == 0


def test_revert_deletes_what_the_migration_created_and_restores_what_it_updated(
    emulator, tmp_path: Path
) -> None:
    sample = seed(emulator)
    emulator.load(half_populated(sample))
    api(
        emulator,
        "POST",
        "/gates/checkout/overrides",
        {"passingUserIDs": ["theirs"], "failingUserIDs": []},
        "target",
    )
    before = comparable(emulator, "target")
    state = tmp_path / "state"
    run = _migrated(emulator, state, "--on-conflict", "update")
    assert comparable(emulator, "target") != before
    from clihelp import bulkops

    undone = bulkops("revert", run, "--yes", env=env(emulator, state))
    assert undone.returncode == 0, undone.stderr
    assert differences(before, comparable(emulator, "target")) == []


def test_verify_refuses_an_unknown_run_and_a_run_of_another_job(emulator, tmp_path: Path) -> None:
    seed(emulator)
    state = tmp_path / "state"
    assert verify(emulator, state, "no-such-run").returncode == 2
    from clihelp import bulkops

    other = bulkops(
        "run",
        "patch",
        "--kind",
        "gates",
        "--set",
        "description=x",
        "--dry-run",
        env=env(emulator, state),
    )
    assert other.returncode == 0, other.stderr
    refused = verify(emulator, state, run_id(other.stdout))
    assert refused.returncode == 2 and "not a migrate run" in refused.stderr


def test_verify_without_the_target_key_is_a_usage_error(emulator, tmp_path: Path) -> None:
    seed(emulator)
    state = tmp_path / "state"
    run = _migrated(emulator, state, "--kinds", "layers")
    missing = verify(emulator, state, run, STATSIG_TARGET_CONSOLE_API_KEY="")
    assert missing.returncode == 2 and "STATSIG_TARGET_CONSOLE_API_KEY" in missing.stderr


def test_verify_takes_the_key_named_after_the_target(emulator, tmp_path: Path) -> None:
    seed(emulator)
    state = tmp_path / "state"
    run = _migrated(emulator, state, "--kinds", "layers")
    named = verify(
        emulator,
        state,
        run,
        STATSIG_TARGET_CONSOLE_API_KEY="",
        STATSIG_PROD_CONSOLE_API_KEY="console-dst",
    )
    assert named.returncode == 0, named.stderr
    assert set(KINDS)
