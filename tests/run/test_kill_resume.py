"""kill -9 a run at many points, resume, and end in the state of an uninterrupted run.

Kill points are both deterministic (``BULKOPS_TEST_KILL_AFTER_SEND=N``: the process SIGKILLs
itself right after its N-th mutation came back, before the journal records the outcome) and
random (the test SIGKILLs the process after a random delay). After every kill the run is
resumed; at the end the emulator's state must equal the reference run's and its mutation log
must show no non-idempotent request (create gate, add rule) applied twice.
"""

from __future__ import annotations

import random
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from clihelp import (
    JOBFILE,
    bulkops,
    cli_env,
    fast_config,
    normalized_state,
    seed_holdout,
    spawn,
)

from bulkops.testing import RunningEmulator, start_emulator

COUNT = 80  # gates: 3 mutations each + 1 holdout edit = 241 mutations
KILLS = 22
RUN_ARGS = ("run", JOBFILE, "--count", str(COUNT), "--yes", "--concurrency", "2")
RESUME_ARGS = ("resume", "k", "--concurrency", "2")
KILL_ENV = "BULKOPS_TEST_KILL_AFTER_SEND"


@pytest.fixture(scope="module")
def reference_state(tmp_path_factory: pytest.TempPathFactory) -> dict:
    with start_emulator(fast_config()) as emulator:
        seed_holdout(emulator)
        env = cli_env(emulator, tmp_path_factory.mktemp("ref"))
        done = bulkops("run", JOBFILE, "--count", str(COUNT), "--yes", env=env)
        assert done.returncode == 0, done.stderr
        return normalized_state(emulator)


def _kill_and_resume(emulator: RunningEmulator, state_dir: Path, seed: int) -> int:
    """Drive one run through kills until it completes; returns how many kills happened.

    Three deterministic kills (right after the N-th mutation came back) alternate with one at a
    random moment; once enough kills happened, resume runs to the end.
    """
    rng = random.Random(seed)
    env = cli_env(emulator, state_dir)
    slow = [*RUN_ARGS, "--run-id", "k"]
    first = bulkops(*slow, env={**env, KILL_ENV: "2"})
    assert first.returncode == -signal.SIGKILL, first.stderr
    kills = 1
    for attempt in range(300):
        if kills >= KILLS:
            done = bulkops("resume", "k", env=env)
            if done.returncode == 0:
                return kills
            assert done.returncode == 1, done.stderr  # FAILED_TEMP left by faults: again
            continue
        if attempt % 4 != 3:
            proc = bulkops(*RESUME_ARGS, env={**env, KILL_ENV: str(rng.randint(1, 3))})
            code, err = proc.returncode, proc.stderr
        else:
            child = spawn(*RESUME_ARGS, env=env)
            try:
                child.wait(timeout=rng.uniform(0.25, 0.55))  # a random moment, or its end
            except subprocess.TimeoutExpired:
                child.kill()
            _, err = child.communicate(timeout=30)
            code = child.returncode
        if code == -signal.SIGKILL:
            kills += 1
            continue
        assert code in (0, 1), err
        if code == 0:
            return kills
    raise AssertionError("the run did not complete")


def _assert_no_double_effects(emulator: RunningEmulator) -> None:
    applied = Counter()
    for entry in emulator.mutation_log():
        if entry["method"] != "POST" or not 200 <= entry["status"] < 300:
            continue
        name = entry["body"].get("name") if entry["path"].endswith("/gates") else entry["path"]
        applied[name] += 1
    doubled = {k: n for k, n in applied.items() if n > 1}
    assert not doubled, f"applied more than once: {doubled}"
    assert len(applied) == 2 * COUNT + 2  # the test's gate and holdout, creates, rules


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_kill_9_at_many_points_then_resume_matches_an_uninterrupted_run(
    tmp_path: Path, reference_state: dict
) -> None:
    with start_emulator(fast_config()) as emulator:
        seed_holdout(emulator)
        emulator.set_faults(latency=0.005, seed=5)
        kills = _kill_and_resume(emulator, tmp_path / "state", seed=1)
        emulator.clear_faults()
        assert normalized_state(emulator) == reference_state
        _assert_no_double_effects(emulator)
    assert kills >= 20
    print(f"kills: {kills}")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_kill_9_with_faults_on_still_converges(tmp_path: Path, reference_state: dict) -> None:
    with start_emulator(fast_config()) as emulator:
        seed_holdout(emulator)
        emulator.set_faults(latency=0.005, error_rate=0.05, reset_rate=0.02, lost_rate=0.01, seed=7)
        kills = _kill_and_resume(emulator, tmp_path / "state", seed=2)
        emulator.clear_faults()
        assert normalized_state(emulator) == reference_state
        _assert_no_double_effects(emulator)
    assert kills >= 20
    print(f"kills: {kills}")
