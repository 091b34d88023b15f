"""`bulkops run copy-experiments` end to end through the CLI, source and target projects."""

from __future__ import annotations

from pathlib import Path

import pytest
from job_fakes import gate
from jobcli import (
    TARGET_KEY,
    converges,
    entities,
    experiment,
    planned,
    run_job,
    seed,
    seed_source,
    sent,
    two_projects,
)

from bulkops.testing import EmulatorConfig

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return two_projects()


def test_copies_with_target_key_flag_and_converges(emulator, tmp_path: Path) -> None:
    seed_source(emulator)
    seed(emulator, "target")
    first = converges(
        emulator,
        tmp_path / "state",
        "copy-experiments",
        "--to",
        "staging",
        "--target-api-key",
        TARGET_KEY,
        "--where",
        "name~checkout_*",
    )
    assert planned(first.stderr) == 5  # segment, gate, layer, two experiments
    target = {k: entities(emulator, k, "target") for k in ("experiments", "gates", "segments")}
    assert sorted(target["experiments"]) == ["checkout_a", "checkout_b"]
    assert {e["status"] for e in target["experiments"].values()} == {"setup"}
    copied = target["experiments"]["checkout_a"]
    assert copied["targetingGateID"] in target["gates"]
    assert copied["layerID"] in entities(emulator, "layers", "target")
    assert "beta_users" in target["segments"]
    assert sent(emulator, "default") == {}


@pytest.mark.parametrize("mode", ["skip", "update", "rename"])
def test_on_conflict_modes_with_the_key_from_the_environment(
    emulator, tmp_path: Path, mode: str
) -> None:
    seed(
        emulator,
        gates=[gate("beta_gate", description="from source")],
        experiments=[experiment("checkout_a", targetingGateID="beta_gate")],
    )
    seed(emulator, "target", gates=[gate("beta_gate", description="theirs")])
    env = {"STATSIG_TARGET_CONSOLE_API_KEY": TARGET_KEY}
    converges(
        emulator,
        tmp_path / "state",
        "copy-experiments",
        "--to",
        "staging",
        "--on-conflict",
        mode,
        env=env,
    )
    target_gates = entities(emulator, "gates", "target")
    experiment_gate = entities(emulator, "experiments", "target")["checkout_a"]["targetingGateID"]
    if mode == "skip":
        assert (experiment_gate, target_gates["beta_gate"]["description"]) == (
            "beta_gate",
            "theirs",
        )
    elif mode == "update":
        assert (experiment_gate, target_gates["beta_gate"]["description"]) == (
            "beta_gate",
            "from source",
        )
    else:
        assert experiment_gate == "beta_gate_copy" and len(target_gates) == 2
        assert target_gates["beta_gate"]["description"] == "theirs"
        assert target_gates["beta_gate_copy"]["description"] == "from source"


def test_no_target_key_exits_2_naming_the_variable(emulator, tmp_path: Path) -> None:
    seed_source(emulator)
    emulator.reset_counters()
    done = run_job(emulator, tmp_path / "state", "copy-experiments", "--to", "staging", "--yes")
    assert done.returncode == 2 and "STATSIG_TARGET_CONSOLE_API_KEY" in done.stderr
    assert "STATSIG_STAGING_CONSOLE_API_KEY" in done.stderr
    assert sent(emulator) == {}


def test_to_name_takes_the_named_projects_key(emulator, tmp_path: Path) -> None:
    seed_source(emulator)
    seed(emulator, "target")
    named = {"STATSIG_STAGING_CONSOLE_API_KEY": TARGET_KEY}
    done = run_job(emulator, tmp_path / "state", *COPY, "--yes", env=named)
    assert done.returncode == 0, done.stderr
    assert sent(emulator, "target") and not sent(emulator, "default")


def test_copy_dry_run_and_no_terminal(emulator, tmp_path: Path) -> None:
    seed_source(emulator)
    env = {"STATSIG_TARGET_CONSOLE_API_KEY": TARGET_KEY}
    emulator.reset_counters()
    dry = run_job(
        emulator, tmp_path / "state", "copy-experiments", "--to", "staging", "--dry-run", env=env
    )
    assert dry.returncode == 0 and "ETA" in dry.stdout and "checkout_a" in dry.stdout, dry
    unconfirmed = run_job(
        emulator, tmp_path / "state", "copy-experiments", "--to", "staging", env=env
    )
    assert unconfirmed.returncode == 2 and planned(unconfirmed.stderr) == 6
    assert sent(emulator) == {}


# -- ID-list segments ------------------------------------------------------------------------

TARGET_ENV = {"STATSIG_TARGET_CONSOLE_API_KEY": TARGET_KEY}
COPY = ("copy-experiments", "--to", "staging")


def _passes_gate(gate_id: str) -> dict:
    return {
        "name": f"passes {gate_id}",
        "passPercentage": 100,
        "conditions": [{"type": "passes_gate", "targetValue": [gate_id]}],
    }


def test_gates_in_a_reference_cycle_are_created_then_given_their_rules(
    emulator, tmp_path: Path
) -> None:
    # loop_a names loop_b and loop_b names loop_a: neither can be created with its rules first
    source = {
        "entities": {
            "gates": [
                gate("loop_a", rules=[_passes_gate("loop_b")]),
                gate("loop_b", rules=[_passes_gate("loop_a")]),
            ],
            "experiments": [experiment("checkout_loop", targetingGateID="loop_a")],
        }
    }
    emulator.load({"format": "bulkops-snapshot/1", "projects": {"default": source}})
    first = converges(emulator, tmp_path / "state", *COPY, env=TARGET_ENV)
    assert planned(first.stderr) == 4, first.stderr  # 2 gate creates, 1 rules PATCH, 1 experiment
    gates = entities(emulator, "gates", "target")
    for name, other in (("loop_a", "loop_b"), ("loop_b", "loop_a")):
        conditions = [c for r in gates[name]["rules"] for c in r["conditions"]]
        assert conditions == [{"type": "passes_gate", "targetValue": [other]}], gates[name]


def test_a_stale_gate_is_created_as_temporary(emulator, tmp_path: Path) -> None:
    # STALE is a type the API computes; the create endpoint takes PERMANENT or TEMPORARY only
    source = {
        "entities": {
            "gates": [gate("old_gate", type="STALE", typeReason="STALE_NO_RULES")],
            "experiments": [experiment("checkout_old", targetingGateID="old_gate")],
        }
    }
    emulator.load({"format": "bulkops-snapshot/1", "projects": {"default": source}})
    converges(emulator, tmp_path / "state", *COPY, env=TARGET_ENV)
    assert entities(emulator, "gates", "target")["old_gate"]["type"] == "TEMPORARY"
    assert "checkout_old" in entities(emulator, "experiments", "target")


def test_live_fields_are_copied_and_unknown_ones_named_in_the_plan(
    emulator, tmp_path: Path
) -> None:
    # turboMode and enabledNonProdEnvironments: the live API's (bulkops.api.live_fields);
    # futureSetting and newFlag: fields no version of the spec bulkops knows has
    source = {
        "entities": {
            "gates": [gate("beta_gate", newFlag=True)],
            "experiments": [
                experiment(
                    "checkout_new",
                    targetingGateID="beta_gate",
                    turboMode=True,
                    enabledNonProdEnvironments=["staging"],
                    futureSetting={"mode": "fast"},
                )
            ],
        }
    }
    emulator.load({"format": "bulkops-snapshot/1", "projects": {"default": source}})
    first = converges(emulator, tmp_path / "state", *COPY, env=TARGET_ENV)
    assert "not copied: experiments.futureSetting (1), gates.newFlag (1)" in first.stderr
    copied = entities(emulator, "experiments", "target")["checkout_new"]
    assert copied["turboMode"] is True and copied["enabledNonProdEnvironments"] == ["staging"]
    assert "futureSetting" not in copied
    assert "newFlag" not in entities(emulator, "gates", "target")["beta_gate"]
