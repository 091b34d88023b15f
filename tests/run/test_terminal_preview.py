"""The confirmation prompt shows what it asks to send: the first changes, then how many more."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from clihelp import JOBFILE, cli_env, fast_config, seed_holdout
from test_terminal import run_on_a_terminal

from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return fast_config()


@pytest.fixture
def env(emulator: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    seed_holdout(emulator)
    return cli_env(emulator, tmp_path / "state")


def test_the_prompt_lists_the_first_changes_and_counts_the_rest(
    emulator: RunningEmulator, env: dict
) -> None:
    before = len(emulator.mutation_log())
    code, screen = run_on_a_terminal(
        "run", JOBFILE, "--count", "30", "--run-id", "p1", env=env, answer="n"
    )
    assert code == 2, screen
    head, _, _ = screen.partition("send these mutations? [y/N]")
    assert "POST /gates: " in head and "PATCH /gates/bulk_gate_0000 description: " in head
    listed = [line for line in head.splitlines() if line.startswith("  POST ")]
    listed += [line for line in head.splitlines() if line.startswith("  PATCH ")]
    assert len(listed) == 20
    assert "... and 71 more (--dry-run shows them all)" in head
    assert len(emulator.mutation_log()) == before
