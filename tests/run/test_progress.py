"""Progress lines: a bar on a terminal, plain lines otherwise, JSON for machines."""

from __future__ import annotations

import io
import json
import time

from bulkops.run.progress import ProgressPrinter
from bulkops.run.runner import RunnerStatistics


def snapshot(paused_until: float | None = None) -> RunnerStatistics:
    return RunnerStatistics(
        counts={"DONE": 30, "SKIPPED": 10, "FAILED_PERM": 2, "PLANNED": 58},
        in_flight=4,
        remaining=58,
        rate_limited=1,
        paused_until=paused_until,
        elapsed=12.0,
        eta_seconds=75.0,
    )


def test_bar_shows_counts_eta_and_the_rate_limit_pause() -> None:
    out = io.StringIO()
    ProgressPrinter(out, mode="bar").show(snapshot(paused_until=time.monotonic() + 30))
    line = out.getvalue()
    assert line.startswith("\r") and "42/100" in line
    assert "done 40  failed 2  remaining 58" in line and "ETA 1m15s" in line
    assert "paused by rate limit until " in line


def test_plain_lines_have_no_control_characters_and_no_pause_when_none() -> None:
    out = io.StringIO()
    ProgressPrinter(out, mode="text").show(snapshot())
    assert out.getvalue().startswith("progress: done 40") and "\r" not in out.getvalue()
    assert "paused" not in out.getvalue()


def test_json_lines_are_parseable() -> None:
    out = io.StringIO()
    ProgressPrinter(out, mode="json").show(snapshot(paused_until=time.monotonic() + 5))
    record = json.loads(out.getvalue())
    assert record["event"] == "progress" and record["done"] == 40 and record["failed"] == 2
    assert record["paused_until"] > time.time()
