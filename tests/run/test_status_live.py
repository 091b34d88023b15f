"""`bulkops status` while another process runs the run (and holds its lock)."""

from __future__ import annotations

import json
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelp import JOBFILE, REPO, bulkops, cli_env, fast_config, seed_holdout

from bulkops.testing import EmulatorConfig, RunningEmulator


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return fast_config()


def wait_for_line(proc: subprocess.Popen[bytes], marker: bytes, timeout: float = 30) -> bytes:
    """Read the process's stderr until a line holds ``marker``; fail after ``timeout``."""
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([proc.stderr], [], [], left)
        if ready:
            line = proc.stderr.readline()
            if not line:
                break
            seen += line
            if marker in line:
                return seen
    raise AssertionError(f"no {marker!r} from bulkops in {timeout}s:\n{seen.decode()}")


def test_status_reads_a_run_while_another_process_runs_it(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    seed_holdout(emulator)
    # One mutation per 10 s on the client side: the run stays busy for the whole test.
    env = cli_env(emulator, tmp_path / "state", BULKOPS_MUTATION_LIMITS="1/10s")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulkops", "run", JOBFILE, "--count", "2", "--yes"]
        + ["--run-id", "busy"],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_line(proc, b"sending 7 operation(s)")
        status = bulkops("status", "busy", "--json", env=env)
        assert status.returncode == 0, status.stderr
        snapshot = json.loads(status.stdout)
        assert snapshot["phase"] in ("planned", "running")
        assert sum(snapshot["counts"].values()) == 7 and snapshot["remaining"] >= 6
        assert snapshot["eta_seconds"] >= 40  # 6+ mutations left at 1 per 10 s
        latest = bulkops("status", env=env)
        assert latest.returncode == 0, latest.stderr
        assert "run busy (" in latest.stdout and "remaining" in latest.stdout
        assert re.search(r"ETA (\d+m)?\d+s", latest.stdout), latest.stdout
        resumed = bulkops("resume", "busy", "--yes", env=env)
        assert resumed.returncode == 2 and "in use by process" in resumed.stderr
        assert proc.poll() is None, "status or resume disturbed the running process"
    finally:
        proc.kill()
        proc.wait(timeout=10)
        assert proc.stderr is not None
        proc.stderr.close()
