"""Migrating from an export file: the snapshot connection as the run's source.

At Runner level, and through the CLI (``--from-snapshot FILE``: no source key needed; resume
and verify find the file again from the run's journal).
"""

from __future__ import annotations

from pathlib import Path
from unittest.mock import ANY

import orjson
import pytest
from bulkops.jobs.migrate import Migrate
from clihelp import bulkops
from migcli import TARGET_KEY, counts, env, two_projects

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
        # 297 entity writes and the 4 tags of the snapshot's catalog the entities carry
        assert summary.to_send == 301 and result.exit_code == 0
        checked = await verify_mapping(source, target, run_id_map(journal))
    assert checked.compared == 242 and checked.differences == []
    assert counts(emulator, "target") == {
        k: len(v) for k, v in migration_sample()["entities"].items()
    }
    assert emulator.mutation_log("default") == []
    tags = emulator.dump()["projects"]["target"]["catalog"]["tags"]
    # the target gave the tags IDs of its own: the rest of each is the snapshot's
    by_name = {tag["name"]: tag | {"id": ANY} for tag in migration_sample()["catalog"]["tags"]}
    assert {tag["name"]: tag for tag in tags} == by_name
    assert not {tag["id"] for tag in tags} & set(by_name)


def test_from_snapshot_through_the_cli_needs_no_source_key(emulator, tmp_path: Path) -> None:
    file = tmp_path / "export.json"
    file.write_bytes(orjson.dumps(migration_sample()))
    run_env = env(emulator, tmp_path / "state")
    del run_env["STATSIG_CONSOLE_API_KEY"]
    done = bulkops(
        "run", "migrate", "--to", "prod", "--from-snapshot", str(file), "--yes",
        "--run-id", "snap", env=run_env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "migration: 301 mutation(s)" in done.stderr and "tags: 4 to create" in done.stderr
    assert emulator.mutation_log("default") == []
    checked = bulkops("verify", "snap", env=run_env, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    again = bulkops("resume", "snap", env=run_env)
    assert again.returncode == 0 and "nothing to resume" in again.stderr


def test_a_from_snapshot_file_that_is_not_a_snapshot_is_refused(emulator, tmp_path: Path) -> None:
    file = tmp_path / "not.json"
    file.write_text('{"hello": 1}')
    done = bulkops(
        "run", "migrate", "--to", "prod", "--from-snapshot", str(file), "--dry-run",
        env=env(emulator, tmp_path / "state"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "not a bulkops snapshot" in done.stderr and "Traceback" not in done.stderr
