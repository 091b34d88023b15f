"""``bulkops.verify_run`` and ``bulkops.export_project``: the Python doors to ``bulkops verify``
and ``bulkops export``, on the migration sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from migcli import SOURCE_KEY, TARGET_KEY, api, seed, two_projects

import bulkops
from bulkops.errors import ConfigError, JournalError
from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return two_projects()


@pytest.fixture
def where(emulator: RunningEmulator, tmp_path: Path) -> dict[str, Any]:
    return {
        "api_key": SOURCE_KEY,
        "base_url": emulator.base_url,
        "keys": {"target": TARGET_KEY},
        "base_urls": {"target": emulator.base_url},
        "state_dir": tmp_path / "state",
        "mutation_limits": ["1000000/1s"],  # as the emulator meters them (two_projects)
    }


def test_a_migrate_run_verifies_then_names_a_hand_edit(
    emulator: RunningEmulator, where: dict[str, Any]
) -> None:
    seed(emulator)
    run = bulkops.run_job("migrate", to="prod", confirm=True, **where)
    assert run.ok, run.message
    assert run.run_id is not None
    result = bulkops.verify_run(run.run_id, **where)
    assert isinstance(result, bulkops.VerifyResult)
    assert result.ok and result.compared == 242 and result.differences == []

    api(emulator, "PATCH", "/gates/search_gate_1", {"description": "edited"}, project="target")
    result = bulkops.verify_run(run.run_id, read_concurrency=2, **where)
    assert not result.ok
    [difference] = result.differences
    assert (difference.kind, difference.field, difference.target) == (
        "gates",
        "description",
        "edited",
    )
    assert result.to_dict()["differences"][0]["source_id"] == "search_gate_1"


def test_what_cannot_be_verified_raises_before_any_read(
    emulator: RunningEmulator, where: dict[str, Any]
) -> None:
    seed(emulator)
    with pytest.raises(JournalError, match="no run nope"):
        bulkops.verify_run("nope", **where)
    patch = bulkops.run_job(
        "patch", kind="gates", where="name~nothing_*", set="description=x", confirm=True, **where
    )
    assert patch.run_id is not None
    with pytest.raises(ConfigError, match="not a migrate run"):
        bulkops.verify_run(patch.run_id, **where)


@pytest.mark.anyio
async def test_averify_run_in_an_event_loop(
    emulator: RunningEmulator, where: dict[str, Any]
) -> None:
    seed(emulator)
    run = await bulkops.arun_job("migrate", to="prod", confirm=True, **where)
    assert run.run_id is not None
    assert (await bulkops.averify_run(run.run_id, **where)).ok
    with pytest.raises(ConfigError, match="await bulkops.averify_run"):
        bulkops.verify_run(run.run_id, **where)


def test_export_project_writes_the_snapshot_a_migration_can_start_from(
    emulator: RunningEmulator, where: dict[str, Any], tmp_path: Path
) -> None:
    seed(emulator)
    out = tmp_path / "staging.json"
    stats = bulkops.export_project(out, **where)
    assert stats.entities["gates"] == 122 and stats.id_lists == 7, stats.describe()
    snapshot = orjson.loads(out.read_bytes())
    assert snapshot["format"] == "bulkops-snapshot/1" and len(snapshot["entities"]["gates"]) == 122

    only = bulkops.export_project(tmp_path / "gates.json", kinds=["gates"], **where)
    assert list(only.entities) == ["gates"]

    run = bulkops.run_job("migrate", to="prod", from_snapshot=str(out), confirm=True, **where)
    assert run.ok and run.run_id is not None, run.message
    assert bulkops.verify_run(run.run_id, **where).ok


@pytest.mark.parametrize(
    "call,message",
    [
        ({"kinds": "gates,flags"}, "unknown kind"),
        ({"out": "missing-dir/x.json"}, "is not a directory"),
        ({"api_key": None, "project": "nowhere"}, "STATSIG_NOWHERE_CONSOLE_API_KEY"),
    ],
)
def test_export_project_refuses_before_reading(
    emulator: RunningEmulator,
    where: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    call: dict[str, Any],
    message: str,
) -> None:
    monkeypatch.delenv("STATSIG_CONSOLE_API_KEY", raising=False)
    monkeypatch.delenv("STATSIG_NOWHERE_CONSOLE_API_KEY", raising=False)
    emulator.reset_counters()
    out = tmp_path / call.pop("out", "x.json")
    with pytest.raises(ConfigError, match=message):
        bulkops.export_project(out, **{**where, **call})
    assert not out.exists() and emulator.stats()["total_requests"] == 0
