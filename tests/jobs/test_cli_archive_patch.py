"""`bulkops run archive-stale-gates` and `bulkops run patch` end to end through the CLI."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelp import bulkops, cli_env
from job_fakes import gate
from jobcli import (
    converges,
    entities,
    experiment,
    planned,
    run_id,
    run_job,
    seed,
    sent,
    two_projects,
)

from bulkops.testing import EmulatorConfig

pytestmark = pytest.mark.timeout(120)

DAY_MS = 86_400_000


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return two_projects()


def _stale_fleet(emulator) -> None:
    now = time.time() * 1000
    old, recent = now - 200 * DAY_MS, now - 10 * DAY_MS
    seed(
        emulator,
        gates=[
            gate("old1", type="STALE", typeReason="STALE_NO_RULES", lastModifiedTime=old),
            gate("old2", type="STALE", typeReason="STALE_PROBABLY_LAUNCHED", lastModifiedTime=old),
            gate(
                "kept",
                type="STALE",
                typeReason="STALE_NO_RULES",
                lastModifiedTime=old,
                tags=["keep"],
            ),
            gate("fresh", type="STALE", typeReason="STALE_NO_RULES", lastModifiedTime=recent),
            gate("used", type="STALE", typeReason="STALE_NO_RULES", lastModifiedTime=old),
            gate("live", lastModifiedTime=old),
        ],
        experiments=[
            {
                "id": "checkout_exp",
                "name": "checkout_exp",
                "status": "active",
                "targetingGateID": "used",
            }
        ],
    )


def test_archive_stale_gates_older_than_and_exclude_tag(emulator, tmp_path: Path) -> None:
    _stale_fleet(emulator)
    state = tmp_path / "state"
    first = converges(
        emulator, state, "archive-stale-gates", "--older-than", "90d", "--exclude-tag", "keep"
    )
    assert planned(first.stderr) == 2 and "1 item(s) BLOCKED" in first.stderr
    archived = {k for k, g in entities(emulator, "gates").items() if g["status"] == "Archived"}
    assert archived == {"old1", "old2"}
    report = bulkops("report", run_id(first.stderr), "--failed-only", env=cli_env(emulator, state))
    assert "gates:used" in report.stdout and "checkout_exp" in report.stdout, report.stdout


def test_archive_stale_gates_disable_with_a_server_side_filter(emulator, tmp_path: Path) -> None:
    _stale_fleet(emulator)
    converges(
        emulator,
        tmp_path / "state",
        "archive-stale-gates",
        "--action",
        "disable",
        "--where",
        "typeReason=STALE_PROBABLY_LAUNCHED",
        "--older-than",
        "90d",
    )
    gates = entities(emulator, "gates")
    assert [k for k, g in gates.items() if not g["isEnabled"]] == ["old2"]
    assert all(g["status"] != "Archived" for g in gates.values())


def test_archive_dry_run_shows_the_diff_and_sends_nothing(emulator, tmp_path: Path) -> None:
    _stale_fleet(emulator)
    emulator.reset_counters()
    done = run_job(
        emulator, tmp_path / "state", "archive-stale-gates", "--older-than", "90d", "--dry-run"
    )
    assert done.returncode == 0 and "ETA" in done.stdout and "old1" in done.stdout, done
    assert "→" in done.stdout and sent(emulator) == {}
    lines = done.stdout.splitlines()
    # one line per operation, saying what changes for the user (status), not the body the
    # endpoint takes (archiveReason), and never ∅ for a value
    assert "  archive stale gate old1 (status In Progress → Archived)" in lines, done.stdout
    assert "archiveReason" not in done.stdout and "∅" not in done.stdout
    # the blocked item and its reason inline; skips grouped by reason; the run id on stdout
    assert "  gate used: still referenced by experiment checkout_exp (targeting gate)" in lines
    assert "  1 modified less than 90d ago" in lines, done.stdout
    assert f"run id: {run_id(done.stderr)}" in lines


def test_archive_dry_run_json_lists_blocked_and_skipped_items(emulator, tmp_path: Path) -> None:
    _stale_fleet(emulator)
    done = run_job(
        emulator, tmp_path / "state", "archive-stale-gates", "--older-than", "90d", "--dry-run",
        "--json", "--exclude-tag", "keep",
    )  # fmt: skip
    doc = json.loads(done.stdout)
    assert doc["run_id"] == run_id(done.stderr)
    assert doc["blocked"] == [
        {
            "item": "source:gates:used",
            "reason": "still referenced by experiment checkout_exp (targeting gate)",
        }
    ]
    assert {s["reason"] for s in doc["skipped"]} == {
        "excluded by tag keep",
        "modified less than 90d ago",
    }
    assert len(doc["operations"]) == doc["summary"]["to_send"] == 2


def test_second_archive_run_counts_archived_gates_already_fine(emulator, tmp_path: Path) -> None:
    _stale_fleet(emulator)
    state = tmp_path / "state"
    converges(emulator, state, "archive-stale-gates", "--older-than", "90d")
    again = run_job(emulator, state, "archive-stale-gates", "--older-than", "90d", "--dry-run")
    # old1, old2 and kept were archived (which bumps lastModifiedTime): already fine, not recent
    assert "3 item(s) already fine of 5 listed" in again.stdout, again.stdout
    assert "  1 modified less than 90d ago" in again.stdout.splitlines()


def test_archive_without_yes_and_without_a_terminal_exits_2(emulator, tmp_path: Path) -> None:
    _stale_fleet(emulator)
    emulator.reset_counters()
    done = run_job(emulator, tmp_path / "state", "archive-stale-gates", "--older-than", "90d")
    assert done.returncode == 2 and planned(done.stderr) == 3 and sent(emulator) == {}


def test_patch_set_writes_only_differing_entities(emulator, tmp_path: Path) -> None:
    seed(
        emulator,
        gates=[
            gate("legacy_a", tags=["legacy"]),
            gate("legacy_b", tags=["legacy"], description="Owned by growth"),
            gate("other"),
        ],
    )
    converges(
        emulator,
        tmp_path / "state",
        "patch",
        "--kind",
        "gates",
        "--where",
        "tag=legacy",
        "--set",
        "description=Owned by growth",
        "--set",
        "isEnabled=false",
    )
    gates = entities(emulator, "gates")
    for name in ("legacy_a", "legacy_b"):
        assert (gates[name]["description"], gates[name]["isEnabled"]) == ("Owned by growth", False)
    assert gates["other"]["description"] == "" and gates["other"]["isEnabled"] is True


def test_patch_merge_file(emulator, tmp_path: Path) -> None:
    seed(emulator, gates=[gate("a1"), gate("a2"), gate("b1")])
    merge = tmp_path / "defaults.json"
    merge.write_text('{"description": "merged", "tags": ["fleet"]}')
    first = converges(
        emulator,
        tmp_path / "state",
        "patch",
        "--kind",
        "gates",
        "--where",
        "name~a*",
        "--merge",
        str(merge),
    )
    assert planned(first.stderr) == 2
    gates = entities(emulator, "gates")
    assert [gates[k]["tags"] for k in ("a1", "a2", "b1")] == [["fleet"], ["fleet"], []]


def test_patch_sets_a_field_only_the_live_api_has(emulator, tmp_path: Path) -> None:
    # turboMode is not in the 2025-10 spec snapshot; the live API (2026-03) takes it
    seed(emulator, experiments=[experiment("exp_a"), experiment("exp_b", turboMode=True)])
    first = converges(
        emulator, tmp_path / "state", "patch", "--kind", "experiments", "--set", "turboMode=true"
    )
    assert planned(first.stderr) == 1
    assert {e["turboMode"] for e in entities(emulator, "experiments").values()} == {True}
    wrong = run_job(
        emulator, tmp_path / "state", "patch", "--kind", "experiments", "--set", "turboMode=on"
    )
    assert wrong.returncode == 2 and "turboMode is a boolean" in wrong.stderr, wrong.stderr


@pytest.mark.parametrize(
    ("setting", "field"), [("colour=blue", "colour"), ("lastModifiedTime=5", "lastModifiedTime")]
)
def test_patch_unknown_or_read_only_field_exits_2(
    emulator, tmp_path: Path, setting: str, field: str
) -> None:
    seed(emulator, gates=[gate("a1")])
    emulator.reset_counters()
    done = run_job(
        emulator, tmp_path / "state", "patch", "--kind", "gates", "--set", setting, "--yes"
    )
    assert done.returncode == 2 and field in done.stderr, done.stderr
    assert sent(emulator) == {}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("isEnabled=yes", "isEnabled is a boolean: use true or false"),
        ("rules=notjson", "rules is a list"),
    ],
)
def test_patch_value_of_the_wrong_type_exits_2_and_sends_nothing(
    emulator, tmp_path: Path, setting: str, message: str
) -> None:
    seed(emulator, gates=[gate("a1"), gate("a2")])
    emulator.reset_counters()
    done = run_job(
        emulator, tmp_path / "state", "patch", "--kind", "gates", "--set", setting, "--yes"
    )
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert sent(emulator) == {}


def test_dry_run_piped_into_head_exits_quietly(emulator, tmp_path: Path) -> None:
    # more output than a pipe holds, so writes after `head` left fail for sure
    seed(emulator, gates=[gate(f"g{i}") for i in range(1500)])
    env = cli_env(emulator, tmp_path / "state")
    command = (
        f"{shlex.quote(sys.executable)} -m bulkops run patch --kind gates "
        "--set description=pipe --dry-run | head -1"
    )
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.stdout.startswith("run id: ")
