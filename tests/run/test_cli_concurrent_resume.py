"""One process at a time per run, with real `bulkops` processes against a slow emulator.

While a `resume` sends a run's plan, a second `resume` of it (by id, or "the latest unfinished
run") and a `revert` of it are refused: exit 2, one line naming the run, the holder's pid and
what to do, nothing sent by them, no run left behind. While a `revert` goes on, a second
revert of the same run is refused the same way. The first process finishes as if alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelp import REPO, bulkops, cli_env, fast_config

from bulkops.testing import EmulatorConfig, RunningEmulator

GATES = [f"cr_gate_{i:02d}" for i in range(8)]
PATCH = ["patch", "--kind", "gates", "--set", "description=patched"]
# Seconds per PATCH: 8 of them one at a time keep the first process busy for 40 s, however
# slowly the refused processes start on a loaded machine; once they were checked, the faults
# are cleared and the first process ends within one more PATCH.
SLOW = 5.0


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    gates = [{"id": g, "name": g, "description": "before"} for g in GATES]
    seed = {"format": "bulkops-snapshot/1", "projects": {"default": {"entities": {"gates": gates}}}}
    return fast_config(seed=seed)


@pytest.fixture
def env(emulator: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    return cli_env(emulator, tmp_path / "state")


class Background:
    """A `bulkops` process whose stderr goes to a file (read while it runs)."""

    def __init__(self, tmp_path: Path, env: dict[str, str], *args: str) -> None:
        self.log = tmp_path / f"bg-{time.monotonic_ns()}.err"
        with self.log.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bulkops", *args],
                env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=err,
            )  # fmt: skip

    def wait_for(self, marker: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.stderr():
            assert self.proc.poll() is None, f"ended early:\n{self.stderr()}"
            assert time.monotonic() < deadline, f"no {marker!r} in:\n{self.stderr()}"
            time.sleep(0.05)

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def finish(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _patches(emulator: RunningEmulator) -> list[str]:
    return sorted(m["path"] for m in emulator.mutation_log() if m["method"] == "PATCH")


def _in_use(done: subprocess.CompletedProcess[str], run_id: str, pid: int) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"bulkops: run {run_id} is in use by process {pid} (a run, resume or revert of it is "
        f"still going): wait for it to end, or stop it with Ctrl-C, then try again; "
        f"`bulkops status {run_id}` shows its progress"
    )


def _state(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "state").glob("*.journal"))


def test_a_second_resume_and_a_revert_are_refused_while_a_resume_sends(
    emulator: RunningEmulator, env: dict[str, str], tmp_path: Path
) -> None:
    planned = bulkops("run", *PATCH, "--run-id", "r1", "--dry-run", env=env)
    assert planned.returncode == 0, planned.stderr
    emulator.set_faults(latency=SLOW, methods=("PATCH",))
    first = Background(tmp_path, env, "resume", "r1", "--yes", "--concurrency", "1")
    try:
        first.wait_for("sending 8 operation(s)")
        _in_use(bulkops("resume", "r1", "--yes", env=env), "r1", first.proc.pid)
        _in_use(bulkops("resume", "--yes", env=env), "r1", first.proc.pid)  # the latest run
        _in_use(bulkops("revert", "r1", "--yes", env=env), "r1", first.proc.pid)
        emulator.clear_faults()
        assert _state(tmp_path) == ["r1.journal"]  # the refused revert left no run behind
        assert first.proc.poll() is None, "the refused processes disturbed the first one"
        assert first.finish() == 0, first.stderr()
    finally:
        first.kill()
    assert _patches(emulator) == [f"/console/v1/gates/{g}" for g in GATES]  # each one once
    status = json.loads(bulkops("status", "r1", "--json", env=env).stdout)
    assert status["phase"] == "complete" and status["counts"]["DONE"] == len(GATES)


def test_a_second_revert_and_a_resume_are_refused_while_a_revert_sends(
    emulator: RunningEmulator, env: dict[str, str], tmp_path: Path
) -> None:
    done = bulkops("run", *PATCH, "--run-id", "r1", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    emulator.set_faults(latency=SLOW, methods=("PATCH",))
    first = Background(
        tmp_path, env, "revert", "r1", "--yes", "--concurrency", "1", "--run-id", "undo1"
    )
    try:
        first.wait_for("sending 8 operation(s)")
        _in_use(
            bulkops("revert", "r1", "--yes", "--run-id", "undo2", env=env), "r1", first.proc.pid
        )
        _in_use(bulkops("resume", "r1", "--yes", env=env), "r1", first.proc.pid)
        _in_use(bulkops("resume", "undo1", "--yes", env=env), "undo1", first.proc.pid)
        emulator.clear_faults()
        assert _state(tmp_path) == ["r1.journal", "undo1.journal"]
        assert first.finish() == 0, first.stderr()
    finally:
        first.kill()
    assert len(_patches(emulator)) == 2 * len(GATES)  # the run, then its one revert
    gates = emulator.dump()["projects"]["default"]["entities"]["gates"]
    assert {g["description"] for g in gates} == {"before"}
    again = bulkops("revert", "r1", "--yes", env=env)  # once it ended: reverting again is a no-op
    assert again.returncode == 0, again.stderr
    assert len(_patches(emulator)) == 2 * len(GATES)
