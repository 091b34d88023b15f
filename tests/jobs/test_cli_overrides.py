"""`bulkops run overrides` end to end: real CLI subprocess, real journal, the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from job_fakes import gate
from jobcli import (
    converges,
    experiment,
    overrides,
    planned,
    run_job,
    run_ok,
    seed,
    sent,
    two_projects,
)

from bulkops.testing import EmulatorConfig

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return two_projects()


def test_global_add_from_a_file_of_thousands_of_ids(emulator, tmp_path: Path) -> None:
    ids = [f"user_{i:05}" for i in range(3000)]
    (tmp_path / "qa.txt").write_text("\n".join(ids) + "\n")
    seed(emulator, gates=[gate("g1", tags=["qa"]), gate("g2", tags=["qa"]), gate("g3")])
    converges(
        emulator,
        tmp_path / "state",
        "overrides",
        "--kind",
        "gates",
        "--where",
        "tag=qa",
        "--add-passing",
        f"@{tmp_path / 'qa.txt'}",
    )
    docs = overrides(emulator, "gates")
    assert docs["g1"]["passingUserIDs"] == ids and docs["g2"]["passingUserIDs"] == ids
    assert not docs.get("g3", {}).get("passingUserIDs")


def test_global_remove_keeps_the_other_ids(emulator, tmp_path: Path) -> None:
    seed(emulator, gates=[gate("g1"), gate("g2")])
    state = tmp_path / "state"
    run_ok(
        emulator,
        state,
        "overrides",
        "--kind",
        "gates",
        "--add-passing",
        "a,b,c",
        "--add-failing",
        "x",
    )
    first = converges(
        emulator,
        state,
        "overrides",
        "--kind",
        "gates",
        "--where",
        "name=g1",
        "--remove-passing",
        "b",
        "--remove-failing",
        "x",
    )
    assert planned(first.stderr) == 1
    docs = overrides(emulator, "gates")
    assert (docs["g1"]["passingUserIDs"], docs["g1"]["failingUserIDs"]) == (["a", "c"], [])
    assert (docs["g2"]["passingUserIDs"], docs["g2"]["failingUserIDs"]) == (["a", "b", "c"], ["x"])


def test_environment_add_then_replace(emulator, tmp_path: Path) -> None:
    seed(emulator, gates=[gate("g1", idType="stableID"), gate("g2", idType="stableID")])
    state = tmp_path / "state"
    run_ok(
        emulator,
        state,
        "overrides",
        "--kind",
        "gates",
        "--environment",
        "staging",
        "--add-failing",
        "d1,d2",
    )
    converges(
        emulator,
        state,
        "overrides",
        "--kind",
        "gates",
        "--environment",
        "staging",
        "--where",
        "name=g2",
        "--add-failing",
        "d3",
        "--replace",
    )
    docs = overrides(emulator, "gates")
    [g1], [g2] = docs["g1"]["environmentOverrides"], docs["g2"]["environmentOverrides"]
    assert (g1["environment"], g1["unitID"], g1["failingIDs"]) == (
        "staging",
        "stableID",
        ["d1", "d2"],
    )
    assert g2["failingIDs"] == ["d3"] and not docs["g2"]["failingUserIDs"]


@pytest.mark.parametrize(
    ("ids", "problem"),
    [
        ("a,,b", "ID #2 on the command line is empty"),
        ("a,b,a", "ID 'a' is given twice"),
        ("@missing.txt", "does not exist"),
    ],
)
def test_bad_ids_exit_2_before_anything_is_sent(
    emulator, tmp_path: Path, ids: str, problem: str
) -> None:
    seed(emulator, gates=[gate("g1")])
    emulator.reset_counters()
    done = run_job(
        emulator, tmp_path / "state", "overrides", "--kind", "gates", "--add-passing", ids, "--yes"
    )
    assert done.returncode == 2 and problem in done.stderr, done.stderr
    assert sent(emulator) == {}


def test_duplicate_in_a_file_exits_2_naming_the_id(emulator, tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text("".join(f"u{i}\n" for i in range(2000)) + "u17\n")
    seed(emulator, gates=[gate("g1")])
    emulator.reset_counters()
    done = run_job(
        emulator,
        tmp_path / "state",
        "overrides",
        "--kind",
        "gates",
        "--add-passing",
        f"@{tmp_path / 'ids.txt'}",
        "--yes",
    )
    assert done.returncode == 2 and "'u17' is given twice" in done.stderr, done.stderr
    assert sent(emulator) == {}


def test_no_terminal_without_yes_prints_the_plan_and_exits_2(emulator, tmp_path: Path) -> None:
    seed(emulator, gates=[gate("g1"), gate("g2")])
    emulator.reset_counters()
    done = run_job(
        emulator, tmp_path / "state", "overrides", "--kind", "gates", "--add-passing", "a"
    )
    assert done.returncode == 2 and planned(done.stderr) == 2, done.stderr
    assert "--yes" in done.stderr and sent(emulator) == {}


def test_dry_run_prints_the_diff_and_the_eta(emulator, tmp_path: Path) -> None:
    seed(emulator, gates=[gate("g1")])
    emulator.reset_counters()
    done = run_job(
        emulator,
        tmp_path / "state",
        "overrides",
        "--kind",
        "gates",
        "--add-passing",
        "alice",
        "--dry-run",
    )
    assert done.returncode == 0, done.stderr
    assert "ETA" in done.stdout and sent(emulator) == {}
    lines = done.stdout.splitlines()
    # one line per operation; a union add says what it adds, and untouched lists say nothing
    assert "  overrides of gates g1 (passingUserIDs +1 (alice))" in lines, done.stdout
    assert "[] → []" not in done.stdout and "failingUserIDs" not in done.stdout


def test_dry_run_of_a_large_union_add_shows_a_count_and_a_sample(emulator, tmp_path) -> None:
    (tmp_path / "ids.txt").write_text("".join(f"user{i}\n" for i in range(1500)))
    seed(emulator, gates=[gate("g1"), gate("g2")])
    done = run_job(
        emulator, tmp_path / "state", "overrides", "--kind", "gates", "--where", "name~g1",
        "--add-passing", f"@{tmp_path / 'ids.txt'}", "--dry-run",
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert "  overrides of gates g1 (passingUserIDs +1500 (user0, user1, user2, …))" in lines
    assert "  1 not selected by name~g1" in lines, done.stdout


@pytest.mark.parametrize(
    ("kind", "why"),
    [
        ("dynamic_configs", "no overrides endpoint for dynamic configs"),
        ("layers", "layer overrides (POST /layers/{id}/overrides) are not supported"),
        ("segments", "--kind 'segments'"),
    ],
)
def test_kind_error_and_choices_agree(emulator, tmp_path: Path, kind: str, why: str) -> None:
    done = run_job(
        emulator, tmp_path / "state", "overrides", "--kind", kind, "--add-passing", "a", "--yes"
    )
    assert done.returncode == 2 and why in done.stderr, done.stderr
    assert "choose one of gates, experiments, holdouts" in done.stderr
    assert "invalid choice" not in done.stderr


def test_experiment_group_overrides_global_and_per_environment(emulator, tmp_path: Path) -> None:
    seed(emulator, experiments=[experiment("onboarding_a", status="setup")])
    state = tmp_path / "state"
    base = ("overrides", "--kind", "experiments", "--where", "name~onboarding_*", "--group", "test")
    run_ok(emulator, state, *base, "--add-passing", "alice,bob")
    run_ok(emulator, state, *base, "--environment", "staging", "--add-passing", "carol")
    converges(
        emulator,
        state,
        *base,
        "--environment",
        "staging",
        "--remove-passing",
        "carol",
        "--add-passing",
        "dave",
    )
    groups = overrides(emulator, "experiments")["onboarding_a"]["userIDOverrides"]
    by_environment = {g.get("environment"): g["ids"] for g in groups if g["groupID"] == "test"}
    assert by_environment == {None: ["alice", "bob"], "staging": ["dave"]}
