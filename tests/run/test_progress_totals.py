"""Progress numbers add up, the rate does not spike after a pause, elapsed spans sessions."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

from bulkops.run.journal import Journal
from bulkops.run.progress import ProgressPrinter
from bulkops.run.report import run_status
from bulkops.run.runner import RunnerStatistics


def _stats(counts: dict[str, int]) -> RunnerStatistics:
    pending = sum(counts.get(s, 0) for s in ("PLANNED", "IN_FLIGHT", "FAILED_TEMP"))
    return RunnerStatistics(counts, 0, pending, 0, None, 35.0, 0.0)


def test_failed_operations_are_not_also_counted_as_remaining() -> None:
    out = io.StringIO()
    ProgressPrinter(out, mode="json").show(_stats({"FAILED_TEMP": 20}))
    record = json.loads(out.getvalue())
    assert (record["done"], record["failed"], record["remaining"]) == (0, 20, 0)
    text = io.StringIO()
    ProgressPrinter(text, mode="text").show(_stats({"DONE": 5, "FAILED_TEMP": 3, "PLANNED": 2}))
    assert "done 5  failed 3  remaining 2" in text.getvalue()


def test_the_rate_after_a_long_pause_does_not_spike() -> None:
    printer = ProgressPrinter(io.StringIO(), mode="text")
    rates = [
        printer._windowed_rate(at, done)
        for at, done in [(0, 0), (5, 25), (10, 50), (20, 50), (40, 50), (41, 55)]
    ]
    assert rates[2] == 5.0
    assert rates[3] < rates[2] and rates[4] < rates[3]  # paused: the rate falls
    assert rates[5] < 1.0  # 5 more in the last second is not 5/s over the window


def test_status_elapsed_is_summed_over_sessions(tmp_path: Path) -> None:
    now = time.time()
    meta = {
        "run_id": "e5xx",
        "job": "x",
        "phase": "incomplete",
        "resumed_at": now - 1,
        "finished_at": now,
        "elapsed_seconds": 36.0,
    }
    journal = Journal.create(tmp_path / "e5xx.journal", meta)
    try:
        assert run_status(journal)["elapsed_seconds"] == 36.0
    finally:
        journal.close()
