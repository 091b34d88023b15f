"""`bulkops export`: a complete snapshot, streamed to a file that appears only once complete."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from clihelp import bulkops, cli_env

from bulkops.emulator.snapshot import SNAPSHOT_FORMAT
from bulkops.migrate import export
from bulkops.migrate.sample import migration_sample
from bulkops.testing import EmulatorConfig, start_emulator

pytestmark = pytest.mark.timeout(60)
STATE = ("entities", "overrides", "id_lists", "catalog")


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(seed=migration_sample())


def _export(emulator, tmp_path: Path, out: Path, *args: str):
    return bulkops("export", "--out", str(out), *args, env=cli_env(emulator, tmp_path / "state"))


def test_export_then_seed_a_new_emulator_then_export_again_gives_the_same_project(
    emulator, tmp_path: Path
) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    done = _export(emulator, tmp_path, first)
    assert done.returncode == 0, done.stderr
    assert "122 gates" in done.stderr and "7 ID list(s) (2,070 IDs)" in done.stderr
    with start_emulator(EmulatorConfig(seed=str(first))) as seeded:
        again = _export(seeded, tmp_path, second)
        assert again.returncode == 0, again.stderr
    a, b = orjson.loads(first.read_bytes()), orjson.loads(second.read_bytes())
    assert a["format"] == SNAPSHOT_FORMAT == export.SNAPSHOT_FORMAT
    assert {k: a[k] for k in STATE} == {k: b[k] for k in STATE}
    assert a["entities"] == emulator.dump()["projects"]["default"]["entities"]


def test_the_export_holds_overrides_id_lists_and_tags(emulator, tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    assert _export(emulator, tmp_path, out).returncode == 0
    snapshot = orjson.loads(out.read_bytes())
    sample = migration_sample()
    assert snapshot["overrides"] == sample["overrides"]
    assert snapshot["id_lists"] == sample["id_lists"]
    assert [t["name"] for t in snapshot["catalog"]["tags"]] == [
        t["name"] for t in sample["catalog"]["tags"]
    ]
    assert snapshot["exported"]["project_id"].startswith("emu")


def test_kinds_limits_what_is_exported(emulator, tmp_path: Path) -> None:
    out = tmp_path / "gates.json"
    assert _export(emulator, tmp_path, out, "--kinds", "gates").returncode == 0
    snapshot = orjson.loads(out.read_bytes())
    assert list(snapshot["entities"]) == ["gates"] and list(snapshot["overrides"]) == ["gates"]
    assert snapshot["id_lists"] == {} and snapshot["catalog"] == {}


def test_an_unknown_kind_is_a_usage_error(emulator, tmp_path: Path) -> None:
    done = _export(emulator, tmp_path, tmp_path / "x.json", "--kinds", "gates,flags")
    assert done.returncode == 2 and "unknown kind(s) flags" in done.stderr


def test_an_export_that_fails_midway_leaves_no_file(emulator, tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    out.write_text("the previous export")
    emulator.set_faults(error_rate=1.0, error_status=404, path_prefix="/segments/list_0")
    done = _export(emulator, tmp_path, out)
    emulator.clear_faults()
    assert done.returncode == 4, done.stderr
    assert out.read_text() == "the previous export"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_project_exports_a_named_project_with_its_own_key(emulator, tmp_path: Path) -> None:
    env = cli_env(emulator, tmp_path / "state")
    key, url = env.pop("STATSIG_CONSOLE_API_KEY"), env.pop("STATSIG_CONSOLE_API_URL")
    named = {**env, "STATSIG_MAIN_CONSOLE_API_KEY": key, "STATSIG_MAIN_CONSOLE_API_URL": url}
    out = tmp_path / "main.json"
    done = bulkops("export", "--out", str(out), "--project", "main", env=named)
    assert done.returncode == 0, done.stderr
    assert len(orjson.loads(out.read_bytes())["entities"]["gates"]) == 122
    missing = bulkops("export", "--out", str(out), "--project", "nowhere", env=named)
    assert missing.returncode == 2 and "STATSIG_NOWHERE_CONSOLE_API_KEY" in missing.stderr
