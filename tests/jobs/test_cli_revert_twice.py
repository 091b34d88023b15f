"""`bulkops revert` run twice is a no-op, and its dry-run shows the whole plan honestly.

Against the emulator through the real CLI: a second revert of a run plans nothing ("already
reverted by RUN"), exits 0 and sends nothing; an entity that another run changed since is still
a conflict, announced by the dry-run; the dry-run lists every operation (unarchive and the
re-enable after it) with the value it expects, never ∅.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
from clihelp import bulkops, cli_env
from job_fakes import gate
from jobcli import entities, planned, run_job, seed, sent, two_projects

from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = pytest.mark.timeout(120)

OLD_MS = time.time() * 1000 - 200 * 86_400_000


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return two_projects()


def revert(emulator: RunningEmulator, state: Path, *args: str):  # type: ignore[no-untyped-def]
    return bulkops("revert", *args, env=cli_env(emulator, state))


def _patched(emulator: RunningEmulator, state: Path) -> None:
    seed(emulator, gates=[gate("a1", description="one"), gate("a2", description="two")])
    done = run_job(
        emulator, state, "patch", "--kind", "gates", "--set", "description=rt", "--yes",
        "--run-id", "rt1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_second_revert_plans_nothing_and_exits_0(emulator, tmp_path: Path) -> None:
    state = tmp_path / "state"
    _patched(emulator, state)
    first = revert(emulator, state, "rt1", "--yes", "--run-id", "rt1-undo")
    assert first.returncode == 0, first.stderr
    emulator.reset_counters()

    dry = revert(emulator, state, "rt1", "--dry-run")
    assert dry.returncode == 0 and planned(dry.stdout) == 0, dry.stdout
    assert "2 already reverted by rt1-undo" in dry.stdout, dry.stdout

    second = revert(emulator, state, "rt1", "--yes", "--run-id", "rt1-undo2")
    assert second.returncode == 0, second.stderr
    assert planned(second.stderr) == 0 and "FAILED" not in second.stderr, second.stderr
    assert sent(emulator) == Counter()
    gates = entities(emulator, "gates")
    assert (gates["a1"]["description"], gates["a2"]["description"]) == ("one", "two")


def test_a_revert_of_the_revert_makes_the_run_revertible_again(emulator, tmp_path) -> None:
    state = tmp_path / "state"
    _patched(emulator, state)
    assert revert(emulator, state, "rt1", "--yes", "--run-id", "undo").returncode == 0
    assert revert(emulator, state, "undo", "--yes", "--run-id", "redo").returncode == 0
    assert entities(emulator, "gates")["a1"]["description"] == "rt"
    dry = revert(emulator, state, "rt1", "--dry-run")
    assert planned(dry.stdout) == 2 and "changed since" not in dry.stdout, dry.stdout
    again = revert(emulator, state, "rt1", "--yes")
    assert again.returncode == 0, again.stderr
    assert entities(emulator, "gates")["a1"]["description"] == "one"


def test_an_entity_changed_by_a_later_run_is_announced_and_stays_a_conflict(
    emulator, tmp_path
) -> None:
    state = tmp_path / "state"
    _patched(emulator, state)
    other = run_job(
        emulator, state, "patch", "--kind", "gates", "--where", "name~a2", "--set",
        "description=theirs", "--yes", "--run-id", "later",
    )  # fmt: skip
    assert other.returncode == 0, other.stderr
    dry = revert(emulator, state, "rt1", "--dry-run")
    [line] = [x for x in dry.stdout.splitlines() if "a2" in x and "undo" in x]
    assert "changed since the run, by run later (description)" in line, dry.stdout
    assert "reported, not overwritten" in line
    done = revert(emulator, state, "rt1", "--yes")
    assert done.returncode == 1, done.stderr  # the conflict is reported, not overwritten
    assert entities(emulator, "gates")["a2"]["description"] == "theirs"


def test_revert_dry_run_lists_unarchive_and_re_enable_with_known_values(emulator, tmp_path) -> None:
    state = tmp_path / "state"
    seed(emulator, gates=[gate(f"s{i}", type="STALE", lastModifiedTime=OLD_MS) for i in range(3)])
    done = run_job(emulator, state, "archive-stale-gates", "--yes", "--run-id", "arch")
    assert done.returncode == 0, done.stderr
    dry = revert(emulator, state, "arch", "--dry-run")
    lines = [x.strip() for x in dry.stdout.splitlines() if x.startswith("  ") and "s1" in x]
    assert lines == [
        "undo archive stale gate s1 (status Archived → not Archived)",
        "then restore isEnabled of /gates/s1 (isEnabled (current) → true)",
    ], dry.stdout
    assert "∅" not in dry.stdout
    doc = json.loads(revert(emulator, state, "arch", "--dry-run", "--json").stdout)
    assert len(doc["operations"]) == 6 and doc["summary"]["to_send"] == 6
    assert {c["entity"].rsplit("/", 1)[-1] for c in doc["changes"]} == {
        "unarchive",
        "s0",
        "s1",
        "s2",
    }

    assert revert(emulator, state, "arch", "--yes", "--run-id", "arch-undo").returncode == 0
    twice = revert(emulator, state, "arch", "--yes")
    assert twice.returncode == 0 and planned(twice.stderr) == 0, twice.stderr


def test_a_revert_already_in_effect_is_skipped_not_a_conflict(emulator, tmp_path: Path) -> None:
    # someone put a1's description back by hand (another machine: another state dir)
    state = tmp_path / "state"
    _patched(emulator, state)
    by_hand = run_job(
        emulator, tmp_path / "elsewhere", "patch", "--kind", "gates", "--where", "name~a1",
        "--set", "description=one", "--yes",
    )  # fmt: skip
    assert by_hand.returncode == 0, by_hand.stderr
    emulator.reset_counters()
    done = revert(emulator, state, "rt1", "--yes", "--run-id", "rt1-undo")
    assert done.returncode == 0 and "FAILED" not in done.stderr, done.stderr
    assert sent(emulator) == Counter({"PATCH /gates/a2": 1})
    gates = entities(emulator, "gates")
    assert (gates["a1"]["description"], gates["a2"]["description"]) == ("one", "two")
    rows = [json.loads(line) for line in bulkops(
        "report", "rt1-undo", env=cli_env(emulator, state)
    ).stdout.splitlines()]  # fmt: skip
    assert sorted(row["status"] for row in rows) == ["DONE", "SKIPPED"], rows
