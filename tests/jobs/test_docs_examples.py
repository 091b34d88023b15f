"""Every `bulkops run` line of docs/jobs.md runs (exit 0) against the emulator, in order.

The emulator is seeded with the entities the examples name (checkout_* gates, the q3_holdout
holdout, stale gates, onboarding_* experiments, exp_* dynamic configs, a target project) and
the ID files they read sit in the working directory, as a reader would have them.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelp import REPO, cli_env
from job_fakes import gate
from jobcli import TARGET_KEY, experiment, seed, two_projects

from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = pytest.mark.timeout(180)

DOC = REPO / "docs" / "jobs.md"


def doc_commands() -> list[list[str]]:
    """The ``bulkops run ...`` lines of the doc's ``sh`` blocks, comments dropped."""
    commands, in_sh = [], False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_sh = line.strip() == "```sh"
            continue
        if in_sh and line.startswith("bulkops run "):
            commands.append(shlex.split(line, comments=True))
    return commands


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return two_projects()


def _seed(emulator: RunningEmulator, workdir: Path) -> None:
    old = time.time() * 1000 - 200 * 86_400_000
    stale = {"type": "STALE", "lastModifiedTime": old}
    seed(
        emulator,
        gates=[
            gate("checkout_banner", tags=["checkout", "qa"]),
            gate("checkout_flow", tags=["checkout"]),
            gate("legacy_search", tags=["legacy", "qa"]),
            gate("old_launch", typeReason="STALE_PROBABLY_LAUNCHED", **stale),
            gate("old_nobody", typeReason="STALE_NO_RULES", **stale),
            gate("old_keep", typeReason="STALE_NO_RULES", tags=["keep"], **stale),
        ],
        holdouts=[{"id": "q3_holdout", "name": "q3_holdout", "gateIDs": []}],
        layers=[
            {
                "id": "checkout_layer",
                "name": "checkout_layer",
                "idType": "userID",
                "description": "",
                "tags": ["checkout"],
            }
        ],
        experiments=[
            experiment("onboarding_tour", status="setup", tags=["checkout"]),
            experiment("checkout_cta", targetingGateID="checkout_flow", layerID="checkout_layer"),
        ],
        dynamic_configs=[
            {
                "id": "exp_colors",
                "name": "exp_colors",
                "idType": "userID",
                "isEnabled": True,
                "description": "",
                "tags": [],
                "rules": [],
            }
        ],
    )
    seed(emulator, "target")
    (workdir / "qa_users.txt").write_text("alice\nbob\n")
    (workdir / "blocked.txt").write_text("# fraud team list\nmallory\ntrudy\n")
    (workdir / "employees.txt").write_text("".join(f"emp{i}\n" for i in range(2500)))
    (workdir / "defaults.json").write_text('{"description": "set by the fleet defaults"}')


def test_the_docs_have_examples_of_every_job() -> None:
    names = {command[2] for command in doc_commands()}
    assert names == {
        "attach-holdout",
        "overrides",
        "archive-stale-gates",
        "patch",
        "copy-experiments",
    }


@pytest.mark.slow
def test_every_doc_example_runs(emulator: RunningEmulator, tmp_path: Path) -> None:
    _seed(emulator, tmp_path)
    env = cli_env(emulator, tmp_path / "state", STATSIG_TARGET_CONSOLE_API_KEY=TARGET_KEY)
    for command in doc_commands():
        args = command[1:]
        if "--dry-run" not in args and "--yes" not in args:
            args.append("--yes")  # no terminal here to confirm on
        done = subprocess.run(
            [sys.executable, "-m", "bulkops", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"{shlex.join(command)}\n{done.stderr}"
