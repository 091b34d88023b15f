"""Migrating from an export file: the snapshot connection as the run's source, at Runner level.

(The CLI wiring of ``--from-snapshot`` is the runner's; here the job and the connection are
driven by ``bulkops.run.runner.Runner`` directly, as the CLI will.)
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from bulkops.jobs.migrate import Migrate
from migcli import TARGET_KEY, counts, two_projects

from bulkops.api import ConsoleClient
from bulkops.migrate.sample import migration_sample
from bulkops.migrate.snapshot_source import SnapshotConnection
from bulkops.migrate.verify import run_id_map, verify_mapping
from bulkops.run.journal import Journal
from bulkops.run.runner import Runner
from bulkops.testing import EmulatorConfig

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return two_projects()


@pytest.mark.anyio
async def test_a_snapshot_migrates_like_the_project_it_was_taken_from(
    emulator, tmp_path: Path
) -> None:
    file = tmp_path / "export.json"
    file.write_bytes(orjson.dumps(migration_sample()))
    options = {"to": "prod", "from_snapshot": str(file)}
    journal = Journal.create(
        tmp_path / "r.journal", {"run_id": "r", "job": "migrate", "job_options": options}
    )
    source = SnapshotConnection.from_file(file)
    async with ConsoleClient(TARGET_KEY, emulator.base_url, ((1_000_000, 1.0),)) as target:
        runner = Runner(journal, {"source": source, "target": target}, job=Migrate(options))
        summary = await runner.freeze_and_plan()
        result = await runner.mutate()
        assert summary.to_send == 297 and result.exit_code == 0
        checked = await verify_mapping(source, target, run_id_map(journal))
    assert checked.compared == 242 and checked.differences == []
    assert counts(emulator, "target") == {
        k: len(v) for k, v in migration_sample()["entities"].items()
    }
    assert emulator.mutation_log("default") == []
