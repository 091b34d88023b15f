"""What the demo changed, read back from the emulator: before → after lines.

:func:`summarize` compares two emulator snapshots (the sample project before and after the
scenario) and adds what only the runs know: the stale gates that were blocked, and why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from bulkops.sample_project import DEMO_HOLDOUT, QA_USERS

__all__ = ["describe_project", "summarize"]


def _entities(snapshot: dict[str, Any], kind: str, project: str = "default") -> list[dict]:
    part = snapshot["projects"][project] if "projects" in snapshot else snapshot
    return list((part.get("entities") or {}).get(kind) or ())


def _overrides(snapshot: dict[str, Any], kind: str, project: str = "default") -> dict:
    part = snapshot["projects"][project] if "projects" in snapshot else snapshot
    return dict((part.get("overrides") or {}).get(kind) or {})


def _qa_gates(snapshot: dict[str, Any]) -> int:
    return sum(
        1
        for doc in _overrides(snapshot, "gates").values()
        if set(QA_USERS) <= set(doc.get("passingUserIDs") or ())
    )


def _holdout_gates(snapshot: dict[str, Any]) -> int:
    for holdout in _entities(snapshot, "holdouts"):
        if holdout["id"] == DEMO_HOLDOUT:
            return len(holdout.get("gateIDs") or ())
    return 0


def _archived(snapshot: dict[str, Any]) -> Counter[str]:
    return Counter(
        g.get("typeReason") or "?"
        for g in _entities(snapshot, "gates")
        if g.get("status") == "Archived"
    )


def summarize(
    before: dict[str, Any],
    after: dict[str, Any],
    steps: Sequence[Any] = (),
    mutations: Sequence[dict[str, Any]] = (),
    rate_limited: int = 0,
) -> list[str]:
    """Readable before → after lines, read from two emulator snapshots (and the runs' skips)."""
    gates = _entities(before, "gates")
    types = Counter(g.get("type") for g in gates)
    archived_before, archived_after = _archived(before), _archived(after)
    newly = archived_after - archived_before
    lines = [
        "gates: "
        + str(len(gates))
        + " ("
        + ", ".join(f"{t} {n}" for t, n in sorted(types.items()))
        + ")",
        f"stale gates archived: {sum(archived_before.values())} → {sum(archived_after.values())}",
    ]
    if newly:
        lines.append("  by typeReason: " + ", ".join(f"{r} {n}" for r, n in sorted(newly.items())))
    blocked = [b for s in steps[:1] for b in s.blocked]
    if blocked:
        lines.append(f"stale gates blocked: {len(blocked)} (still referenced)")
        lines += [f"  gate {item.rsplit(':', 1)[-1]}: {reason}" for item, reason in blocked]
    left: Counter[str] = sum((s.skipped for s in steps[:1]), Counter())
    if left:
        lines.append(
            f"stale gates left alone: {sum(left.values())} ("
            + "; ".join(f"{n} {reason}" for reason, n in sorted(left.items()))
            + ")"
        )
    lines += [
        f"gates passing for {', '.join(QA_USERS)}: {_qa_gates(before)} → {_qa_gates(after)}",
        f"holdout {DEMO_HOLDOUT}: gateIDs {_holdout_gates(before)} → {_holdout_gates(after)}",
    ]
    if mutations:
        methods = Counter(m["method"] for m in mutations)
        lines.append(
            f"mutations the emulator applied: {len(mutations)} ("
            + ", ".join(f"{m} {n}" for m, n in sorted(methods.items()))
            + f"); 429s: {rate_limited}"
        )
    return lines


def describe_project(snapshot: dict[str, Any]) -> str:
    """``150 gates, 3 segments, 1 layer, ...``: what a snapshot's default project holds."""
    counts = {
        k: len(_entities(snapshot, k))
        for k in ("gates", "segments", "layers", "experiments", "dynamic_configs", "holdouts")
    }
    return ", ".join(
        f"{n} {k.replace('_', ' ') if n != 1 else k.removesuffix('s').replace('_', ' ')}"
        for k, n in counts.items()
    )
