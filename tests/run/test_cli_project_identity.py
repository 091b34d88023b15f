"""A frozen plan is only ever sent to the project it was planned against."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from clihelp import api, bulkops, cli_env

from bulkops.testing import EmulatorConfig, RunningEmulator

UNMETERED = ((1_000_000, 1.0),)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(
        projects={"default": "console-local", "staging": "console-staging"},
        mutation_limits=UNMETERED,
    )


def _meta(state: Path, run_id: str) -> dict[str, str]:
    conn = sqlite3.connect(state / f"{run_id}.journal")
    try:
        return dict(conn.execute("SELECT key, value FROM meta"))
    finally:
        conn.close()


def test_resume_with_another_projects_key_is_refused(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = cli_env(emulator, tmp_path / "state")
    api(emulator, "POST", "/gates", {"name": "wp_gate", "description": "old"})
    args = ("--kind", "gates", "--where", "name~wp_*", "--set", "description=wrongproj")
    assert bulkops("run", "patch", *args, "--run-id", "wp1", env=env).returncode == 2
    meta = _meta(tmp_path / "state", "wp1")
    assert "project_ids" in meta and "console-local" not in "".join(meta.values())
    emulator.reset_counters()
    other = {**env, "STATSIG_CONSOLE_API_KEY": "console-staging"}
    done = bulkops("resume", "wp1", "--yes", env=other)
    assert done.returncode == 2, done.stderr
    assert "run wp1 was planned against another project" in done.stderr
    assert "--api-key or STATSIG_CONSOLE_API_KEY" in done.stderr
    assert "console-staging" not in done.stderr
    reverted = bulkops("revert", "wp1", "--yes", env=other)
    assert reverted.returncode == 2 and "planned against another project" in reverted.stderr
    assert emulator.mutation_log() == []
    assert bulkops("resume", "wp1", "--yes", env=env).returncode == 0  # the right key works
