"""``bulkops.verify_run``: the Python door to ``bulkops verify``, on a migrate run of the sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
