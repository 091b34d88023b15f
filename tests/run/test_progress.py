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


def fan_out_snapshot() -> RunnerStatistics:
    from dataclasses import replace

    from bulkops.run.results import ProjectStatistics

    projects = {
        "prod-eu": ProjectStatistics(20, 0, 30, 40.0, None, 16),
        "prod-us": ProjectStatistics(20, 2, 28, 35.0, None, 0, halted="API key rejected (401)"),
    }
    return replace(snapshot(), projects=projects)


def test_a_run_over_several_projects_shows_a_line_per_project() -> None:
    out = io.StringIO()
    ProgressPrinter(out, mode="text").show(fan_out_snapshot())
    total, eu, us = out.getvalue().splitlines()
    assert total.startswith("progress: done 40")
    assert eu == "  prod-eu: done 20  failed 0  remaining 30  waiting for a window (16)  ETA 40s"
    assert us.startswith("  prod-us: done 20  failed 2  remaining 28  STOPPED: API key rejected")


def test_the_bar_redraws_every_project_line_in_place() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, mode="bar")
    printer.show(fan_out_snapshot())
    printer.show(fan_out_snapshot())
    second = out.getvalue().split("\x1b[2F", 1)
    assert len(second) == 2 and second[1].count("\n") == 2  # moved up 2 lines, 3 lines drawn


def test_json_progress_carries_each_project() -> None:
    out = io.StringIO()
    ProgressPrinter(out, mode="json").show(fan_out_snapshot())
    record = json.loads(out.getvalue())
    assert record["projects"]["prod-us"]["halted"] == "API key rejected (401)"
    assert record["projects"]["prod-eu"]["waiting"] == 16
