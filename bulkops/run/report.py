"""What a run did: ``status`` snapshots and the per-operation completion report.

The report has one row per operation (S3 Batch Operations' completion report): key, operation,
status, HTTP status, error, message; planned skips follow as ``SKIPPED``/``BLOCKED`` rows.
Formats: JSON lines or CSV. Nothing here holds an API key: the journal never does.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from typing import IO, Any

import orjson

from bulkops.run.journal import Journal
from bulkops.run.lock import JournalLock
from bulkops.run.states import OpStatus

__all__ = ["REPORT_FIELDS", "iter_report_rows", "run_status", "write_report"]

REPORT_FIELDS = ("key", "operation", "description", "status", "http_status", "error", "message")
FAILED = frozenset(
    {OpStatus.FAILED_TEMP, OpStatus.FAILED_PERM, OpStatus.BLOCKED, OpStatus.IN_FLIGHT}
)


def iter_report_rows(journal: Journal, *, failed_only: bool = False) -> Iterator[dict[str, Any]]:
    """One dict per operation (then per planned skip), in plan order."""
    for batch in journal.iter_operations():
        for rec in batch:
            if failed_only and rec.status not in FAILED:
                continue
            yield {
                "key": rec.op.key,
                "operation": f"{rec.op.method} {rec.op.path}",
                "description": rec.op.description,
                "status": rec.status,
                "http_status": rec.http_status,
                "error": rec.error,
                "message": rec.message,
            }
    for item, reason, blocked in journal.iter_skips():
        if failed_only and not blocked:
            continue
        yield {
            "key": item,
            "operation": "",
            "description": "",
            "status": OpStatus.BLOCKED if blocked else OpStatus.SKIPPED,
            "http_status": None,
            "error": None,
            "message": reason,
        }


def write_report(
    journal: Journal, out: IO[str], *, fmt: str = "jsonl", failed_only: bool = False
) -> int:
    """Write the report as ``jsonl`` or ``csv``; returns the number of rows."""
    rows = iter_report_rows(journal, failed_only=failed_only)
    n = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=REPORT_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
            n += 1
        return n
    for row in rows:
        out.write(orjson.dumps(row).decode() + "\n")
        n += 1
    return n


def run_status(journal: Journal, *, eta_seconds: float | None = None) -> dict[str, Any]:
    """Counts by state, 429s, elapsed and (when given) the ETA of a run.

    A run journaled as running (or listing) whose process is gone (its lock is free: killed,
    crashed) reads ``interrupted``, with ``process: "gone"`` and the command that resumes it in
    ``next``. ``elapsed_seconds`` is the time spent sending, summed over every session.
    """
    meta = journal.meta()
    counts = journal.counts()
    events = journal.event_counts()
    phase = meta.get("phase")
    live = phase in ("running", "listing") and JournalLock(journal.path).is_held()
    run_id = meta.get("run_id")
    extra: dict[str, Any] = {}
    if phase in ("running", "listing") and not live:
        phase = "interrupted"
        extra = {"process": "gone", "next": f"bulkops resume {run_id}"}
    rate_limited = events.get("rate_limited", 0)
    return {
        "run_id": run_id,
        "job": meta.get("job"),
        "phase": phase,
        **extra,
        "created_at": meta.get("created_at"),
        "finished_at": meta.get("finished_at"),
        "counts": counts,
        "items": journal.item_count(),
        "remaining": sum(
            counts.get(s, 0) for s in (OpStatus.PLANNED, OpStatus.IN_FLIGHT, OpStatus.FAILED_TEMP)
        ),
        "rate_limited_events": rate_limited,
        "elapsed_seconds": round(_elapsed(meta, live), 3),
        "eta_seconds": eta_seconds,
        **_projects(journal, meta),
    }


def _projects(journal: Journal, meta: dict[str, Any]) -> dict[str, Any]:
    """Per project of a fan-out run: counts, what is left, and why its plan failed."""
    scopes = meta.get("scopes") or ()
    if not scopes:
        return {}
    by_project = journal.counts_by_project()
    failures = meta.get("plan_failures") or {}
    pending = (OpStatus.PLANNED, OpStatus.IN_FLIGHT, OpStatus.FAILED_TEMP)
    return {
        "projects": {
            name: {
                "counts": by_project.get(name, {}),
                "remaining": sum(by_project.get(name, {}).get(s, 0) for s in pending),
                "plan_failed": (failures.get(name) or {}).get("message"),
            }
            for name in scopes
        }
    }


def _elapsed(meta: dict[str, Any], live: bool) -> float:
    """Time spent sending over every session (the live one counted up to now)."""
    resumed = meta.get("resumed_at")
    if live and meta.get("phase") == "running" and resumed:
        return float(meta.get("elapsed_before") or 0.0) + time.time() - float(resumed)
    if meta.get("elapsed_seconds") is not None:
        return float(meta["elapsed_seconds"])
    started = resumed or meta.get("created_at") or time.time()
    return float((meta.get("finished_at") or time.time()) - started)
