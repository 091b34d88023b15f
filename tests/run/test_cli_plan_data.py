"""A job file whose operations hold data that is not plain JSON: one line, exit 2, nothing sent.

The line names the job, the operation key, the job file's line that built the operation and
the field. No journal is left behind by a new run; a kept run (resumed while its plan was never
frozen) stays resumable: fixing the job file and resuming plans and sends it.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from clihelp import bulkops, cli_env, fast_config, spawn

import bulkops as bulkops_api
from bulkops.run.journal import Journal
from bulkops.testing import EmulatorConfig, RunningEmulator

# The job's behaviour is read from MODE_FILE at planning time: "set" plans a set in the body,
# "list" a list, "wait" signals it is planning (touching READY_FILE) and sleeps.
SWITCHED_JOB = """\
import time
from pathlib import Path

from bulkops.run import Job, Operation, Source

MODE_FILE = Path(__file__).with_suffix(".mode")
READY_FILE = Path(__file__).with_suffix(".ready")


class Tagger(Job):
    name = "tagger"

    def sources(self):
        return [Source("gates")]

    async def plan_item(self, item, ctx):
        mode = MODE_FILE.read_text().strip()
        if mode == "wait":
            READY_FILE.touch()
            time.sleep(60)
        tags = {"bulk"} if mode == "set" else ["bulk"]
        return Operation(f"tag:{item.id}", "PATCH", f"/gates/{item.id}", body={"tags": tags})
"""
SET_LINE = next(
    n for n, line in enumerate(SWITCHED_JOB.splitlines(), 1) if 'body={"tags": tags}' in line
)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    gates = [{"id": name, "name": name, "description": "d", "tags": []}
             for name in ("pd_gate_one", "pd_gate_two", "pd_gate_three")]  # fmt: skip
    seed = {"format": "bulkops-snapshot/1", "projects": {"default": {"entities": {"gates": gates}}}}
    return fast_config(seed=seed)


@pytest.fixture
def env(emulator: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    return cli_env(emulator, tmp_path / "state")


def _job(tmp_path: Path, mode: str) -> Path:
    path = tmp_path / "tagger.py"
    path.write_text(SWITCHED_JOB)
    path.with_suffix(".mode").write_text(mode)
    return path


def _journals(tmp_path: Path) -> list[Path]:
    state = tmp_path / "state"
    return sorted(state.glob("*.journal")) if state.exists() else []


def _expected(key: str = "tag:pd_gate_one") -> str:
    return (
        f"bulkops: job tagger: operation {key!r} (tagger.py, line {SET_LINE}): body['tags'] "
        "is a set: use a list (sorted, so that every run plans the same); nothing was sent"
    )


def test_a_set_in_a_body_is_one_line_exit_2_and_nothing_is_sent(
    emulator: RunningEmulator, env: dict[str, str], tmp_path: Path
) -> None:
    job = _job(tmp_path, "set")
    done = bulkops("run", str(job), "--yes", env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == _expected()
    assert emulator.mutation_log() == []
    assert _journals(tmp_path) == []  # nothing planned nor sent: no run is left behind
    job.with_suffix(".mode").write_text("list")
    fixed = bulkops("run", str(job), "--yes", env=env)
    assert fixed.returncode == 0, fixed.stderr
    assert len(emulator.mutation_log()) == 3


def test_a_dry_run_refuses_it_the_same_way(env: dict[str, str], tmp_path: Path) -> None:
    done = bulkops("run", str(_job(tmp_path, "set")), "--dry-run", env=env)
    assert done.returncode == 2 and done.stderr.strip() == _expected()


def test_a_resumed_run_whose_job_file_now_plans_a_set_stays_resumable(
    emulator: RunningEmulator, env: dict[str, str], tmp_path: Path
) -> None:
    job = _job(tmp_path, "wait")
    child = spawn("run", str(job), "--yes", "--run-id", "tagrun", env=env)
    try:
        deadline = time.monotonic() + 30
        while not job.with_suffix(".ready").exists():
            assert time.monotonic() < deadline and child.poll() is None, child.communicate()
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)  # killed while planning: the plan was never frozen
    finally:
        child.communicate(timeout=30)
    job.with_suffix(".mode").write_text("set")
    refused = bulkops("resume", "tagrun", "--yes", env=env)
    assert refused.returncode == 2, refused.stderr
    assert _expected() in refused.stderr and "Traceback" not in refused.stderr
    assert emulator.mutation_log() == []
    journal = Journal.open(tmp_path / "state" / "tagrun.journal", readonly=True)
    try:
        assert journal.meta()["phase"] == "abandoned"
        assert not any(journal.counts().values())  # nothing planned, nothing sent
    finally:
        journal.close()
    again = bulkops("resume", "tagrun", "--yes", env=env)  # the same answer, still kept
    assert again.returncode == 2 and _expected() in again.stderr
    job.with_suffix(".mode").write_text("list")
    fixed = bulkops("resume", "tagrun", "--yes", env=env)
    assert fixed.returncode == 0, fixed.stderr
    assert len(emulator.mutation_log()) == 3


def test_the_python_api_gives_the_same_message(
    emulator: RunningEmulator, env: dict[str, str], tmp_path: Path
) -> None:
    job = _job(tmp_path, "set")
    result = bulkops_api.run_job(
        str(job),
        api_key=emulator.api_key(),
        base_url=emulator.base_url,
        state_dir=tmp_path / "state",
        confirm=True,
    )
    assert result.exit_code == bulkops_api.ExitCode.USAGE
    assert f"bulkops: {result.message}" == _expected()
    assert emulator.mutation_log() == [] and _journals(tmp_path) == []
