"""The Python API: run_job / resume_run / revert_run behave like the CLI; the docs' examples run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import bulkops
from bulkops.run import Item, Job, JobConfigError, Operation, ReadContext, Source
from bulkops.testing import EmulatorConfig, RunningEmulator

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "python-api.md"
UNMETERED = ((1_000_000, 1.0),)
OLD = (time.time() - 200 * 86_400) * 1000


def _gate(gate_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": gate_id, "name": gate_id, "description": "", "isEnabled": True,
            "type": "TEMPORARY", "tags": [], "rules": [], **fields}  # fmt: skip


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    gates = [
        _gate("checkout_a"),
        _gate("checkout_b"),
        _gate("search_c", type="PERMANENT"),
        _gate("old_1", type="STALE", typeReason="STALE_PROBABLY_LAUNCHED", lastModifiedTime=OLD),
        _gate("old_2", type="STALE", typeReason="STALE_PROBABLY_LAUNCHED", lastModifiedTime=OLD),
    ]
    snapshot = {
        "format": "bulkops-snapshot/1",
        "projects": {"default": {"entities": {"gates": gates}}},
    }
    # "prod": the target of the docs' migration example (STATSIG_PROD_CONSOLE_API_KEY)
    projects = {"default": "console-local", "prod": "console-prod"}
    return EmulatorConfig(projects=projects, mutation_limits=UNMETERED, seed=snapshot)


@pytest.fixture
def where(emulator: RunningEmulator, tmp_path: Path) -> dict[str, Any]:
    return {"api_key": emulator.api_key(), "base_url": emulator.base_url, "state_dir": tmp_path}


def _overrides(emulator: RunningEmulator) -> dict[str, Any]:
    return emulator.dump()["projects"]["default"].get("overrides", {}).get("gates", {})


def test_run_job_sends_a_confirmed_plan_and_says_how_it_ended(
    emulator: RunningEmulator, where: dict[str, Any]
) -> None:
    result = bulkops.run_job(
        "overrides", kind="gates", where="type=TEMPORARY", add_passing="qa-1", confirm=True, **where
    )
    assert result.ok and result.exit_code == bulkops.ExitCode.OK, result.message
    assert result.counts == {"DONE": 2}
    assert sorted(_overrides(emulator)) == ["checkout_a", "checkout_b"]
    assert {row["status"] for row in result.report()} == {"DONE"}


def test_nothing_is_sent_unless_confirmed_and_the_plan_is_kept(
    emulator: RunningEmulator, where: dict[str, Any]
) -> None:
    result = bulkops.run_job("overrides", kind="gates", add_passing="qa-1", **where)
    assert result.exit_code == bulkops.ExitCode.USAGE
    assert result.message and "confirm=True" in result.message
    assert emulator.mutation_log() == []
    sent = bulkops.resume_run(result.run_id, confirm=True, **where)
    assert sent.ok and sent.counts == {"DONE": 5}


def test_a_callable_confirm_sees_the_plan(emulator: RunningEmulator, where: dict) -> None:
    seen = []

    def small_enough(plan: bulkops.run.PlanSummary) -> bool:
        seen.append(plan.to_send)
        return plan.to_send < 2

    result = bulkops.run_job(
        "overrides", kind="gates", add_passing="x", confirm=small_enough, **where
    )
    assert seen == [5] and result.exit_code == bulkops.ExitCode.USAGE
    assert emulator.mutation_log() == []


def test_dry_run_lists_the_changes_and_sends_nothing(
    emulator: RunningEmulator, where: dict[str, Any]
) -> None:
    result = bulkops.run_job("archive-stale-gates", older_than="90d", dry_run=True, **where)
    assert result.ok and emulator.mutation_log() == []
    assert [c["entity"] for c in result.changes()] == [
        "PUT /gates/old_1/archive",
        "PUT /gates/old_2/archive",
    ]


def test_revert_run_undoes_a_run(emulator: RunningEmulator, where: dict[str, Any]) -> None:
    first = bulkops.run_job(
        "patch", kind="gates", where=["name~checkout_*"], set=["description=x"], confirm=True,
        **where,
    )  # fmt: skip
    assert first.ok, first.message
    undo = bulkops.revert_run(str(first.run_id), confirm=True, **where)
    assert undo.ok and undo.counts == {"DONE": 2}
    gates = emulator.dump()["projects"]["default"]["entities"]["gates"]
    assert {g["id"]: g["description"] for g in gates}["checkout_a"] == ""


def test_a_missing_key_comes_back_as_a_usage_result(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("STATSIG_CONSOLE_API_KEY", raising=False)
    result = bulkops.run_job("overrides", kind="gates", add_passing="x", state_dir=tmp_path)
    assert result.exit_code == bulkops.ExitCode.USAGE and result.run_id is None
    assert result.message and "STATSIG_CONSOLE_API_KEY" in result.message


def test_unknown_and_missing_job_options_are_refused_by_name(where: dict[str, Any]) -> None:
    with pytest.raises(JobConfigError, match="no option 'colour'"):
        bulkops.run_job("overrides", kind="gates", colour="red", **where)
    with pytest.raises(JobConfigError, match=r"'kind' \(--kind\) is required"):
        bulkops.run_job("overrides", add_passing="x", **where)


def test_a_job_class_runs_with_its_options(emulator: RunningEmulator, where: dict) -> None:
    class Describe(Job):
        name = "describe"

        def sources(self) -> list[Source]:
            return [Source("gates", {"type": "PERMANENT"})]

        async def plan_item(self, item: Item, ctx: ReadContext) -> Operation:
            return Operation(
                f"d:{item.id}", "PATCH", f"/gates/{item.id}", body={"description": "p"}
            )

    result = bulkops.run_job(Describe, confirm=True, **where)
    assert result.ok and result.counts == {"DONE": 1}


@pytest.mark.anyio
async def test_run_job_inside_an_event_loop_points_to_arun_job(where: dict[str, Any]) -> None:
    with pytest.raises(bulkops.BulkopsError, match="await bulkops.arun_job"):
        bulkops.run_job("overrides", kind="gates", add_passing="x", **where)
    result = await bulkops.arun_job(
        "overrides", kind="gates", add_passing="x", dry_run=True, **where
    )
    assert result.ok


def _python_blocks() -> list[str]:
    blocks, current, inside = [], [], False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            if inside:
                blocks.append("\n".join(current))
            inside, current = line.strip() == "```python", []
            continue
        if inside:
            current.append(line)
    return blocks


def test_every_python_example_of_the_docs_runs(emulator: RunningEmulator, tmp_path: Path) -> None:
    blocks = _python_blocks()
    assert len(blocks) >= 5
    env = dict(
        os.environ,
        STATSIG_CONSOLE_API_KEY=emulator.api_key(),
        STATSIG_CONSOLE_API_URL=emulator.base_url,
        STATSIG_PROD_CONSOLE_API_KEY=emulator.api_key("prod"),
        STATSIG_PROD_CONSOLE_API_URL=emulator.base_url,
        BULKOPS_MUTATION_LIMITS="1000000/1s",
        BULKOPS_STATE_DIR=str(tmp_path / "state"),
        PYTHONPATH=str(REPO),
    )
    for block in blocks:
        done = subprocess.run(
            [sys.executable, "-c", block],
            env=env,
            cwd=tmp_path,  # an example may write a file (export_project)
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{block}\n---\n{done.stderr}"
