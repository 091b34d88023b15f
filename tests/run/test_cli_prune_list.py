"""`bulkops list` shows the runs of the state dir; `bulkops prune` removes old finished ones.

Real journals (SQLite) in a temporary state dir, the real CLI in a subprocess; no server needed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from clihelp import REPO, bulkops

from bulkops.run.job import Operation
from bulkops.run.lock import JournalLock
from bulkops.run.statedir import StateDir

pytestmark = pytest.mark.timeout(60)

DAY = 86400.0


def make_run(state: Path, run_id: str, phase: str, days_old: float, job: str = "patch") -> Path:
    """A journal in ``state`` with one operation, last active ``days_old`` days ago."""
    journal, lock = StateDir(state).create(run_id, {"job": job, "phase": phase})
    try:
        journal.add_plan([Operation(f"{run_id}:op", "PATCH", "/gates/g1", body={"a": 1})])
        stamp = time.time() - days_old * DAY
        journal.set_meta(created_at=stamp, finished_at=stamp, phase=phase)
        return journal.path
    finally:
        journal.close()
        lock.release()


def env_for(state: Path) -> dict[str, str]:
    env = dict(os.environ, BULKOPS_STATE_DIR=str(state), PYTHONPATH=str(REPO))
    env.pop("STATSIG_CONSOLE_API_KEY", None)
    return env


def files(state: Path) -> set[str]:
    return {p.name for p in state.iterdir()}


def test_list_shows_every_run_with_job_phase_and_counts(tmp_path: Path) -> None:
    state = tmp_path / "state"
    make_run(state, "old-done", "complete", 40)
    make_run(state, "a-dry", "dry-run", 1, job="archive-stale-gates")
    done = bulkops("list", env=env_for(state))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["old-done", "a-dry"]  # oldest first
    assert "archive-stale-gates" in lines[1] and "dry-run" in lines[1] and "PLANNED 1" in lines[1]
    rows = [json.loads(x) for x in bulkops("list", "--json", env=env_for(state)).stdout.split()]
    assert [(r["run_id"], r["phase"], r["counts"]) for r in rows] == [
        ("old-done", "complete", {"PLANNED": 1}),
        ("a-dry", "dry-run", {"PLANNED": 1}),
    ]


def test_prune_removes_old_finished_runs_and_their_files_only(tmp_path: Path) -> None:
    state = tmp_path / "state"
    make_run(state, "old-done", "complete", 40)
    make_run(state, "old-dry", "dry-run", 31)
    make_run(state, "old-abandoned", "abandoned", 60)
    make_run(state, "new-done", "complete", 2)
    make_run(state, "old-interrupted", "interrupted", 90)
    (state / "old-done.journal-wal").write_bytes(b"")
    (state / "notes.journal").write_text("not a journal")

    preview = bulkops("prune", "--dry-run", env=env_for(state))
    assert preview.returncode == 0 and "would remove old-done" in preview.stdout, preview
    before = files(state)
    assert "old-done.journal" in before

    done = bulkops("prune", "--older-than", "30d", env=env_for(state))
    assert done.returncode == 0, done.stderr
    assert sorted(line.split()[1] for line in done.stdout.splitlines()) == [
        "old-abandoned",
        "old-done",
        "old-dry",
    ]
    left = files(state)
    assert not any(name.startswith(("old-done", "old-dry", "old-abandoned")) for name in left)
    assert {"new-done.journal", "old-interrupted.journal", "notes.journal"} <= left

    unfinished = bulkops("prune", "--include-unfinished", env=env_for(state))
    assert "removed old-interrupted" in unfinished.stdout, unfinished.stdout
    assert "new-done.journal" in files(state)


def test_prune_never_removes_a_run_in_use(tmp_path: Path) -> None:
    state = tmp_path / "state"
    path = make_run(state, "busy", "complete", 40)
    lock = JournalLock(path)
    lock.acquire("busy")
    try:
        done = bulkops("prune", "--older-than", "0", env=env_for(state))
    finally:
        lock.release()
    assert done.returncode == 0 and "kept busy: in use" in done.stderr, done.stderr
    assert "busy.journal" in files(state)


def test_prune_rejects_a_bad_age(tmp_path: Path) -> None:
    done = bulkops("prune", "--older-than", "soon", env=env_for(tmp_path))
    assert done.returncode == 2 and "--older-than 'soon'" in done.stderr
