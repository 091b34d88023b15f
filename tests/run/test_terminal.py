"""The CLI on a real terminal: the confirmation prompt and the live progress bar.

`bulkops` runs under a pseudo-terminal (stdin, stdout and stderr on the pty's slave side) against
the emulator; the test reads what the terminal would show and answers the prompt.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelp import JOBFILE, REPO, api, cli_env, seed_holdout

from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

PROMPT = b"[y/N]"


def run_on_a_terminal(
    *args: str, env: dict[str, str], answer: str | None, timeout: float = 60
) -> tuple[int, str]:
    """Run `bulkops ARGS` on a fresh pty; answer the prompt; return (exit code, screen text)."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulkops", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "TERM": "xterm"},
        cwd=REPO,
        start_new_session=True,
    )
    os.close(slave)
    screen = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            if answer is not None and PROMPT in screen:
                os.write(master, answer.encode() + b"\n")
                answer = None
        else:
            raise AssertionError(f"bulkops did not finish in {timeout}s:\n{screen.decode()}")
        return proc.wait(timeout=10), screen.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # Tighter than what the client is told (1,000,000/1s): the server answers 429 and the
    # client's budget pauses, which the bar must show.
    return EmulatorConfig(mutation_limits=((4, 2.0),))


@pytest.fixture
def env(emulator: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    seed_holdout(emulator)
    return cli_env(emulator, tmp_path / "state")


def test_answering_no_at_the_prompt_sends_nothing(emulator: RunningEmulator, env: dict) -> None:
    before = len(emulator.mutation_log())
    code, screen = run_on_a_terminal(
        "run", JOBFILE, "--count", "2", "--run-id", "r1", env=env, answer="n"
    )
    assert code == 2, screen
    assert "plan: 7 operation(s) to send" in screen and "send these mutations? [y/N]" in screen
    assert "declined: nothing sent" in screen and "bulkops resume r1" in screen
    assert len(emulator.mutation_log()) == before


def test_answering_yes_runs_with_a_live_bar_that_shows_the_rate_limit_pause(
    emulator: RunningEmulator, env: dict
) -> None:
    code, screen = run_on_a_terminal(
        "run", JOBFILE, "--count", "2", "--run-id", "r1", env=env, answer="y"
    )
    assert code == 0, screen
    bars = [line for line in screen.split("\r") if line.startswith("\x1b[2K[")]
    assert bars, screen
    final = bars[-1]
    assert re.search(r"\[#{24}\] 7/7  done 7  failed 0  remaining 0  [\d.]+/s  ETA ", final)
    assert re.search(r"paused by rate limit until \d\d:\d\d:\d\d", screen), screen
    assert emulator.stats()["rate_limited"] > 0
    assert len(api(emulator, "GET", "/holdouts/bulk_holdout")["data"]["gateIDs"]) == 3
