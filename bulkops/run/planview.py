"""Showing a frozen plan to a human (or a machine) before anything is sent.

The summary says how many operations will be sent, how many items are already fine, what is
blocked, and the ETA the mutation budget computes. The dry-run view is a diff: per operation,
the entity, the field, and before → after (from ``Operation.before`` and ``Operation.body``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import orjson

from bulkops.run.journal import Journal, OpRecord
from bulkops.run.runner import PlanSummary

__all__ = [
    "format_duration",
    "format_plan_summary",
    "iter_plan_changes",
    "plan_summary_dict",
    "write_plan_diff",
]


def format_duration(seconds: float | None) -> str:
    """``1h02m03s`` style, or ``?`` when unknown."""
    if seconds is None:
        return "?"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def plan_summary_dict(summary: PlanSummary) -> dict[str, Any]:
    """The summary as a JSON-ready dict."""
    return {
        "items": summary.items,
        "operations": summary.operations,
        "to_send": summary.to_send,
        "already_fine": summary.already_fine,
        "skipped": summary.skipped,
        "blocked": summary.blocked,
        "eta_seconds": summary.eta_seconds,
    }


def format_plan_summary(summary: PlanSummary) -> str:
    """One paragraph: N operations, M items already fine, blocked items, ETA."""
    lines = [
        (
            f"plan: {summary.to_send} operation(s) to send ({summary.operations} planned), "
            f"{summary.already_fine} item(s) already fine of {summary.items} listed"
        )
    ]
    if summary.skipped:
        lines.append(f"  {summary.skipped} item(s) skipped by the job (see `bulkops report`)")
    if summary.blocked:
        lines.append(f"  {summary.blocked} item(s) BLOCKED (see `bulkops report --failed-only`)")
    lines.append(f"  ETA at the mutation limits: {format_duration(summary.eta_seconds)}")
    return "\n".join(lines)


def write_plan_diff(
    journal: Journal, summary: PlanSummary, out: IO[str], *, as_json: bool = False
) -> None:
    """The dry-run view: the summary, then one line per changed field (or one JSON document)."""
    changes = list(iter_plan_changes(journal))
    if as_json:
        doc = {"summary": plan_summary_dict(summary), "changes": changes}
        out.write(orjson.dumps(doc).decode() + "\n")
        return
    out.write(format_plan_summary(summary) + "\n")
    for row in changes:
        field = f".{row['field']}" if row["field"] else ""
        out.write(f"  {row['entity']}{field}: {row['before'] or '∅'} → {row['after']}\n")


def iter_plan_changes(journal: Journal) -> Iterator[dict[str, Any]]:
    """One row per changed field: key, entity, field, before, after, description."""
    for batch in journal.iter_operations():
        for rec in batch:
            yield from _changes(rec)


def _changes(rec: OpRecord) -> Iterator[dict[str, Any]]:
    op = rec.op
    base = {"key": op.key, "entity": f"{op.method} {op.path}", "description": op.description}
    if op.edits:
        for edit in op.edits:
            parts = [f"+{_short(v)}" for v in edit.add] + [f"-{_short(v)}" for v in edit.remove]
            yield {
                **base,
                "field": edit.field,
                "before": "(current list)",
                "after": " ".join(parts),
            }
        return
    if op.method == "DELETE":
        yield {**base, "field": "", "before": "(exists)", "after": "(deleted)"}
        return
    if op.creates or not isinstance(op.body, dict):
        yield {**base, "field": "", "before": "", "after": _short(op.body)}
        return
    before = op.before if isinstance(op.before, dict) else {}
    # An action endpoint (PUT /gates/x/archive) says its effect in the check, not the body:
    # show that first ("status: Active → Archived"), then what the body sends.
    effect = op.check.contains if op.check and isinstance(op.check.contains, dict) else {}
    fields = {**{k: v for k, v in effect.items() if k not in op.body}, **op.body}
    for name, value in fields.items():
        was = _short(before[name]) if before.get(name) is not None else ""
        yield {**base, "field": name, "before": was, "after": _short(value)}


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= width else text[: width - 1] + "…"
