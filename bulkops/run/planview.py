"""Showing a frozen plan to a human (or a machine) before anything is sent.

The summary says how many operations will be sent, how many items are already fine, what is
blocked, and the ETA the mutation budget computes. The dry-run view is one line per operation,
what it does and to what, e.g. ``archive stale gate g1 (status In Progress → Archived)`` or
``overrides of gates g2 (passingUserIDs +3000 (user0, user1, …))``, then the blocked items with
their reasons and the skips grouped by reason. Values come from ``Operation.before`` (the listed
state) and ``Operation.body``; a value the plan does not know is shown as ``(current)``.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterator
from typing import IO, Any

import orjson

from bulkops.run.journal import Journal, OpRecord
from bulkops.run.runner import PlanSummary
from bulkops.run.states import OpStatus

__all__ = [
    "format_duration",
    "format_plan_summary",
    "iter_plan_changes",
    "iter_plan_lines",
    "plan_summary_dict",
    "write_plan_diff",
]

#: Blocked items printed inline by the dry-run view before "... and N more".
SHOWN_BLOCKED = 20


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
        **({"notes": list(summary.notes)} if summary.notes else {}),
        **(
            {
                "projects": {
                    name: {"to_send": p.to_send, "eta_seconds": p.eta_seconds, "failed": p.failed}
                    for name, p in summary.projects.items()
                }
            }
            if summary.projects
            else {}
        ),
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
        # Skips are not told apart by kind in the job model (a Skip has only a reason):
        # "not selected by --where" and the job's own choices are counted together here;
        # the dry-run view counts them by reason.
        lines.append(
            f"  {summary.skipped} item(s) skipped: not selected, or left alone by the job "
            "(the reasons: --dry-run or `bulkops report`)"
        )
    if summary.blocked:
        lines.append(f"  {summary.blocked} item(s) BLOCKED (see `bulkops report --failed-only`)")
    lines.append(f"  ETA at the mutation limits: {format_duration(summary.eta_seconds)}")
    lines.extend(f"  {note}" for note in summary.notes)
    for name, part in summary.projects.items():
        if part.failed:
            lines.append(f"  project {name}: NOT PLANNED: {part.failed}")
        else:
            lines.append(
                f"  project {name}: {part.to_send} to send, ETA {format_duration(part.eta_seconds)}"
            )
    return "\n".join(lines)


def write_plan_diff(
    journal: Journal, summary: PlanSummary, out: IO[str], *, as_json: bool = False
) -> None:
    """The dry-run view: run id, summary, one line per operation, blocked items, skip reasons.

    With ``as_json``, one JSON document: ``run_id``, ``summary``, ``changes`` (one row per
    changed field, see :func:`iter_plan_changes`), ``operations`` (the lines), ``blocked`` and
    ``skipped`` (``{"item", "reason"}`` each). A reader that goes away (``| head``) ends the
    output quietly.
    """
    run_id = journal.meta().get("run_id")
    try:
        if as_json:
            doc = {
                "run_id": run_id,
                "summary": plan_summary_dict(summary),
                "changes": list(iter_plan_changes(journal)),
                "operations": list(iter_plan_lines(journal)),
                "blocked": [_skip(i, r) for i, r, blocked in journal.iter_skips() if blocked],
                "skipped": [_skip(i, r) for i, r, blocked in journal.iter_skips() if not blocked],
            }
            out.write(orjson.dumps(doc).decode() + "\n")
            return
        out.write(f"run id: {run_id}\n")
        out.write(format_plan_summary(summary) + "\n")
        for line in iter_plan_lines(journal):
            out.write(f"  {line}\n")
        _write_skips(journal, out, run_id)
        out.flush()
    except BrokenPipeError:
        _silence(out)


def _write_skips(journal: Journal, out: IO[str], run_id: Any) -> None:
    blocked = [(item, reason) for item, reason, is_blocked in journal.iter_skips() if is_blocked]
    if blocked:
        out.write(f"blocked ({len(blocked)}), will not be changed:\n")
        for item, reason in blocked[:SHOWN_BLOCKED]:
            out.write(f"  {_item_name(item)}: {reason}\n")
        if len(blocked) > SHOWN_BLOCKED:
            more = len(blocked) - SHOWN_BLOCKED
            out.write(f"  ... and {more} more (bulkops report {run_id} --failed-only)\n")
    reasons = Counter(reason for _, reason, is_blocked in journal.iter_skips() if not is_blocked)
    if reasons:
        out.write(f"skipped ({sum(reasons.values())}):\n")
        for reason, count in reasons.most_common():
            out.write(f"  {count} {reason}\n")
    if blocked or reasons:
        out.write(f"every item and why: bulkops report {run_id}\n")


def _skip(item: str, reason: str) -> dict[str, str]:
    return {"item": item, "reason": reason}


def _item_name(item_key: str) -> str:
    """``source:gates:g1`` -> ``gate g1`` (the project is said only when not the source)."""
    project, _, rest = item_key.partition(":")
    kind, _, ident = rest.partition(":")
    if not ident:
        return item_key
    return f"{kind.removesuffix('s')} {ident}" + ("" if project == "source" else f" in {project}")


def _silence(out: IO[str]) -> None:
    """The reader of ``out`` went away: send the rest of this process's stdout nowhere."""
    if out is sys.stdout:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


def iter_plan_lines(journal: Journal) -> Iterator[str]:
    """One readable line per planned operation: what it does, then what changes."""
    for batch in journal.iter_operations():
        for rec in batch:
            yield describe_operation(rec)


def describe_operation(rec: OpRecord) -> str:
    """``archive stale gate g1 (status In Progress → Archived)`` style."""
    op = rec.op
    label = op.description.split(": ", 1)[0] if op.description else f"{op.method} {op.path}"
    status = "" if rec.status == OpStatus.PLANNED else f" [{rec.status}]"
    if op.creates or op.method == "DELETE" or not (op.edits or isinstance(op.body, dict)):
        return f"{label} ({op.method} {op.path}){status}"
    changes = []
    for row in _changes(rec):
        if row["field"]:
            changes.append(f"{row['field']} {_arrow(row['before'], row['after'])}")
        else:
            changes.append(_arrow(row["before"], row["after"]))
    return f"{label} ({'; '.join(changes)}){status}" if changes else f"{label}{status}"


def _arrow(before: str, after: str) -> str:
    if before == "(current list)":
        return after
    return f"{before} → {after}" if before else after


def iter_plan_changes(journal: Journal) -> Iterator[dict[str, Any]]:
    """One row per changed field: key, entity, field, before, after, description.

    ``before`` is the value the plan read (``(current)`` when it does not know it); list
    fields say what is added and removed (``+3000 (user0, user1, …)``); fields whose value
    does not change are left out.
    """
    for batch in journal.iter_operations():
        for rec in batch:
            yield from _changes(rec)


def _changes(rec: OpRecord) -> Iterator[dict[str, Any]]:
    op = rec.op
    base = {"key": op.key, "entity": f"{op.method} {op.path}", "description": op.description}
    if op.edits:
        for edit in op.edits:
            if edit.add or edit.remove:
                after = _list_delta(list(edit.add), list(edit.remove))
                yield {**base, "field": edit.field, "before": "(current list)", "after": after}
        return
    if op.method == "DELETE":
        yield {**base, "field": "", "before": "(exists)", "after": "(deleted)"}
        return
    if op.creates or not isinstance(op.body, dict):
        yield {**base, "field": "", "before": "", "after": _value(op.body)}
        return
    before = op.before if isinstance(op.before, dict) else {}
    for name, (was, value) in _effect(op, before).items():
        if name in before and was == value:
            continue
        if isinstance(was, list) and isinstance(value, list):
            added = [v for v in value if v not in was]
            removed = [v for v in was if v not in value]
            shown = {"before": "(current list)", "after": _list_delta(added, removed)}
        else:
            shown = {"before": _value(was) if name in before else "(current)", "after": ""}
            shown["after"] = _value(value)
        yield {**base, "field": name, **shown}


def _effect(op: Any, before: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Field -> (before, after) for what ``op`` changes.

    An action endpoint (``PUT /gates/g1/archive``) says its effect in its check, not in its body
    (which only holds the action's parameters): the effect is what is shown then.
    """
    check = op.check
    action = check is not None and check.path != op.path
    if action and isinstance(check.contains, dict) and check.contains:
        return {k: (before.get(k), v) for k, v in check.contains.items()}
    if action and isinstance(check.excludes, dict) and check.excludes:
        return {k: (before.get(k, v), f"not {_value(v)}") for k, v in check.excludes.items()}
    return {k: (before.get(k), v) for k, v in op.body.items()}


def _list_delta(added: list[Any], removed: list[Any]) -> str:
    parts = []
    if added:
        parts.append(f"+{len(added)} ({_sample(added)})")
    if removed:
        parts.append(f"-{len(removed)} ({_sample(removed)})")
    return " ".join(parts) or "(no change)"


def _sample(values: list[Any], shown: int = 3) -> str:
    text = ", ".join(_value(v, 30) for v in values[:shown])
    return text + (", …" if len(values) > shown else "")


def _value(value: Any, width: int = 60) -> str:
    if value is None:
        return "null"
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= width else text[: width - 1] + "…"
