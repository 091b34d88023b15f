"""kill -9 mid-job then `bulkops resume`: no duplicates; `bulkops revert`: the before-state.

Kills use the runner's hook ``BULKOPS_TEST_KILL_AFTER_SEND=N`` (the process SIGKILLs itself
right after its N-th mutation came back, before the journal records it).
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from clihelp import bulkops, cli_env
from job_fakes import gate
from jobcli import (
    TARGET_KEY,
    comparable,
    differences,
    entities,
    experiment,
    overrides,
    run_id,
    run_job,
    seed,
    seed_source,
    sent,
    two_projects,
)

from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = pytest.mark.timeout(180)

KILL = "BULKOPS_TEST_KILL_AFTER_SEND"
TARGET_ENV = {"STATSIG_TARGET_CONSOLE_API_KEY": TARGET_KEY}


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return two_projects()


def _kill_then_resume(
    emulator: RunningEmulator,
    state: Path,
    args: tuple[str, ...],
    kill_after: tuple[int, ...],
    env: dict[str, str] | None = None,
) -> None:
    env = env or {}
    first = run_job(
        emulator,
        state,
        *args,
        "--yes",
        "--run-id",
        "k",
        "--concurrency",
        "2",
        env={**env, KILL: str(kill_after[0])},
    )
    assert first.returncode == -signal.SIGKILL, first.stderr
    cli = cli_env(emulator, state, **env)
    for n in kill_after[1:]:
        killed = bulkops("resume", "k", "--concurrency", "2", env={**cli, KILL: str(n)})
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    done = bulkops("resume", "k", env=cli)
    assert done.returncode == 0, done.stderr


def test_copy_experiments_killed_mid_creates_leaves_no_duplicates(emulator, tmp_path) -> None:
    seed_source(emulator)
    seed(emulator, "target")
    emulator.reset_counters()
    _kill_then_resume(
        emulator,
        tmp_path / "state",
        ("copy-experiments", "--to", "staging"),
        (1, 1, 2),
        env=TARGET_ENV,
    )
    creates = Counter(
        (m["path"].rsplit("/", 1)[-1], m["body"].get("name"))
        for m in emulator.mutation_log("target")
        if m["method"] == "POST" and 200 <= m["status"] < 300
    )
    assert creates and max(creates.values()) == 1, creates
    assert sorted(entities(emulator, "experiments", "target")) == [
        "checkout_a",
        "checkout_b",
        "search_c",
    ]
    assert len(entities(emulator, "gates", "target")) == 1


def test_archive_stale_gates_killed_and_resumed_archives_each_once(emulator, tmp_path) -> None:
    old = time.time() * 1000 - 200 * 86_400_000
    seed(
        emulator,
        gates=[
            gate(f"s{i:03}", type="STALE", typeReason="STALE_NO_RULES", lastModifiedTime=old)
            for i in range(300)
        ],
    )
    emulator.reset_counters()
    _kill_then_resume(emulator, tmp_path / "state", ("archive-stale-gates",), (40, 60, 100))
    gates = entities(emulator, "gates")
    assert all(g["status"] == "Archived" for g in gates.values()) and len(gates) == 300
    per_gate = Counter(m["path"] for m in emulator.mutation_log() if 200 <= m["status"] < 300)
    assert len(per_gate) == 300 and max(per_gate.values()) == 1, per_gate.most_common(3)


def _run_then_revert(
    emulator: RunningEmulator,
    state: Path,
    *args: str,
    env: dict[str, str] | None = None,
    project: str = "default",
) -> None:
    before = comparable(emulator, project)
    done = run_job(emulator, state, *args, "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert comparable(emulator, project) != before, "the job changed nothing"
    undone = bulkops(
        "revert", run_id(done.stderr), "--yes", env=cli_env(emulator, state, **(env or {}))
    )
    assert undone.returncode == 0, undone.stderr
    assert not differences(before, comparable(emulator, project))


def test_revert_attach_holdout(emulator, tmp_path) -> None:
    seed(
        emulator,
        gates=[gate("g0", holdoutIDs=["h1"]), *(gate(f"g{i}") for i in range(1, 5))],
        holdouts=[{"id": "h1", "name": "h1", "gateIDs": ["g0"]}],
    )
    _run_then_revert(emulator, tmp_path / "state", "attach-holdout", "--holdout", "h1")


def test_revert_overrides(emulator, tmp_path) -> None:
    seed(emulator, gates=[gate("g1"), gate("g2")])
    state = tmp_path / "state"
    assert (
        run_job(
            emulator, state, "overrides", "--kind", "gates", "--add-passing", "a,b", "--yes"
        ).returncode
        == 0
    )
    _run_then_revert(
        emulator,
        state,
        "overrides",
        "--kind",
        "gates",
        "--add-passing",
        "c",
        "--remove-passing",
        "a",
        "--add-failing",
        "x",
    )
    assert sorted(overrides(emulator, "gates")["g1"]["passingUserIDs"]) == ["a", "b"]


def test_revert_experiment_group_overrides_per_environment(emulator, tmp_path) -> None:
    seed(emulator, experiments=[experiment("onboarding_a", status="setup")])
    state = tmp_path / "state"
    base = ("overrides", "--kind", "experiments", "--group", "test")
    assert run_job(emulator, state, *base, "--add-passing", "g1", "--yes").returncode == 0
    _run_then_revert(emulator, state, *base, "--environment", "staging", "--add-passing", "s1")
    _run_then_revert(emulator, state, *base, "--remove-passing", "g1")


def test_revert_environment_overrides(emulator, tmp_path) -> None:
    seed(emulator, gates=[gate("g1", idType="stableID")])
    _run_then_revert(
        emulator,
        tmp_path / "state",
        "overrides",
        "--kind",
        "gates",
        "--environment",
        "staging",
        "--add-passing",
        "d1",
    )


def test_revert_archive_unarchives_and_re_enables_what_was_enabled(emulator, tmp_path) -> None:
    # Archiving also disables a gate and `unarchive` does not enable it again: the archive
    # operation's `restore` finishes the revert, and a gate that was off stays off.
    old = time.time() * 1000 - 200 * 86_400_000
    seed(
        emulator,
        gates=[gate(f"s{i}", type="STALE", lastModifiedTime=old) for i in range(4)]
        + [gate("off", type="STALE", lastModifiedTime=old, isEnabled=False)],
    )
    state = tmp_path / "state"
    before = comparable(emulator)
    done = run_job(emulator, state, "archive-stale-gates", "--older-than", "90d", "--yes")
    assert done.returncode == 0, done.stderr
    assert differences(before, comparable(emulator))
    undone = bulkops("revert", run_id(done.stderr), "--yes", env=cli_env(emulator, state))
    assert undone.returncode == 0, undone.stderr
    assert not differences(before, comparable(emulator))


def test_revert_disable_stale_gates(emulator, tmp_path) -> None:
    old = time.time() * 1000 - 200 * 86_400_000
    seed(emulator, gates=[gate(f"s{i}", type="STALE", lastModifiedTime=old) for i in range(4)])
    _run_then_revert(emulator, tmp_path / "state", "archive-stale-gates", "--action", "disable")


def test_revert_patch(emulator, tmp_path) -> None:
    seed(emulator, gates=[gate("a1", tags=["x"]), gate("a2", description="d")])
    _run_then_revert(
        emulator,
        tmp_path / "state",
        "patch",
        "--kind",
        "gates",
        "--set",
        "description=new",
        "--set",
        "tags=y,z",
        "--set",
        "isEnabled=false",
    )


def test_revert_copy_experiments_deletes_the_creates(emulator, tmp_path) -> None:
    seed_source(emulator)
    seed(emulator, "target", experiments=[experiment("unrelated", status="setup")])
    _run_then_revert(
        emulator,
        tmp_path / "state",
        "copy-experiments",
        "--to",
        "staging",
        env=TARGET_ENV,
        project="target",
    )
    assert sent(emulator, "default") == {}
