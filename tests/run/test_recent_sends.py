"""``recent_sends``: the mutations the runs of one state dir sent to a project lately, read
from real journals (matched by project id, never by key; old and unsent ones left out)."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from bulkops.run.identity import META_KEY
from bulkops.run.job import Operation
from bulkops.run.journal import Journal
from bulkops.run.recent import recent_sends
from bulkops.run.states import OpStatus


def _run(
    state: Path, run_id: str, ids: dict[str, str | None], sent: dict[str, list[float]]
) -> Journal:
    """A journal whose connection ``name`` sent one operation at each wall time in ``sent``,
    plus one operation per connection that was never sent."""
    journal = Journal.create(state / f"{run_id}.journal", {"run_id": run_id, META_KEY: ids})
    ops = [
        Operation(f"{name}:{i}", "PATCH", f"/gates/g{i}", body={"i": i}, project=name)
        for name, times in sent.items()
        for i in range(len(times) + 1)
    ]
    journal.add_plan(ops)
    journal.apply(
        (f"{name}:{i}", {"status": OpStatus.DONE, "fingerprint": "f"})
        for name, times in sent.items()
        for i in range(len(times))
    )
    with sqlite3.connect(journal.path) as conn:
        for name, times in sent.items():
            for i, at in enumerate(times):
                conn.execute(
                    "UPDATE operations SET updated_at = ? WHERE key = ?", (at, f"{name}:{i}")
                )
    return journal


def test_the_sends_of_every_run_on_the_same_project_within_the_span_count(
    tmp_path: Path,
) -> None:
    now = time.time()
    ours = _run(tmp_path, "now", {"source": "p1", "eu": "p2"}, {"source": [now - 5]})
    _run(tmp_path, "before", {"source": "p1"}, {"source": [now - 30, now - 2000]}).close()
    # another run named the project differently: the id matches, not the name
    _run(tmp_path, "fanned", {"source": "p9", "prod-eu": "p2"}, {"prod-eu": [now - 1]}).close()
    _run(tmp_path, "elsewhere", {"source": "p3"}, {"source": [now - 3]}).close()
    (tmp_path / "broken.journal").write_bytes(b"not a journal")
    found = recent_sends(ours, {"source": "p1", "eu": "p2"}, 900.0, now=now)
    ours.close()
    assert found == {"source": [now - 30, now - 5], "eu": [now - 1]}


def test_journals_untouched_within_the_span_are_not_opened(tmp_path: Path) -> None:
    now = time.time()
    ours = _run(tmp_path, "now", {"source": "p1"}, {})
    old = _run(tmp_path, "old", {"source": "p1"}, {"source": [now - 10]})
    old.close()
    for path in tmp_path.glob("old.journal*"):
        os.utime(path, (now - 3600, now - 3600))  # its file says: an hour ago
    assert recent_sends(ours, {"source": "p1"}, 900.0, now=now) == {}
    ours.close()


def test_without_a_project_id_only_the_runs_own_sends_of_that_connection_count(
    tmp_path: Path,
) -> None:
    now = time.time()
    ours = _run(tmp_path, "now", {"source": None}, {"source": [now - 4]})
    _run(tmp_path, "other", {"source": None}, {"source": [now - 2]}).close()
    assert recent_sends(ours, {"source": None}, 900.0, now=now) == {"source": [now - 4]}
    ours.close()
