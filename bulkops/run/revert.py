"""Planning the revert of a run: undo its DONE operations, latest first, without clobbering.

For each DONE operation (in reverse completion order) the revert plan holds one operation:
- its ``undo`` when the job gave one (archive → unarchive, create → delete);
- else, for a list edit, the inverse edit (remove what was added, add back what was removed),
  which keeps changes others made to the same list;
- else a PATCH of the before-image (the fresh read taken right before the original request);
- after an ``undo``, a PATCH of the operation's ``restore`` fields when it has some.

An entity changed by someone else since the run must be reported, not overwritten: the revert
operation carries a guard (the state the original operation left must still be there), checked
right before sending; a failed guard is FAILED_PERM ``conflict``. ``force`` drops the guards.
Dependencies reverse too: if B depended on A, the revert of A waits for the revert of B.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from bulkops.run.job import Check, ListEdit, Operation, Skip
from bulkops.run.journal import Journal, OpRecord

__all__ = ["REVERT_PREFIX", "plan_revert"]

REVERT_PREFIX = "revert:"


def plan_revert(original: Journal, *, force: bool = False) -> Iterator[Any]:
    """Yield ``(Operation, guard)`` pairs and ``Skip``s for the revert run's journal."""
    records = [rec for batch in original.iter_done_for_revert() for rec in batch]
    done = {rec.op.key for rec in records}
    entries = {rec.op.key: _revert_one(rec, ()) for rec in records}
    revertible = {key for key, entry in entries.items() if not isinstance(entry, Skip)}
    memo: dict[str, tuple[str, ...]] = {}

    def waits_for(key: str) -> tuple[str, ...]:
        # The reverts of the operations that depended on ``key``; through the ones that
        # cannot be reverted, the reverts of what depended on them.
        if key not in memo:
            memo[key] = ()
            found: list[str] = []
            for dependent in original.dependents(key):
                if dependent not in done:
                    continue
                if dependent in revertible:
                    found.append(REVERT_PREFIX + dependent)
                else:
                    found.extend(waits_for(dependent))
            memo[key] = tuple(dict.fromkeys(found))
        return memo[key]

    for rec in records:
        entry = entries[rec.op.key]
        if isinstance(entry, Skip):
            yield entry
            continue
        operation, guard = entry
        operation = dataclasses.replace(operation, depends_on=waits_for(rec.op.key))
        yield operation, (None if force else guard)
        restore = _restore_after_undo(rec.op, operation.key)
        if restore is not None:
            yield restore, None


def _revert_one(rec: OpRecord, depends: tuple[str, ...]) -> tuple[Operation, Any] | Skip:
    op = rec.op
    key = REVERT_PREFIX + op.key
    common: dict[str, Any] = {
        "key": key,
        "project": op.project,
        "depends_on": depends,
        "items": op.items,
        "description": f"revert {op.key}" + (f" ({op.description})" if op.description else ""),
    }
    if op.undo is not None:
        undo = dataclasses.replace(op.undo, **common)
        if undo.check is None and undo.method == "DELETE":
            undo = dataclasses.replace(undo, check=Check(undo.path, absent=True))
        return undo, _guard(op.check, f"{op.key}: its effect is gone since the run")
    if op.edits:
        inverse = tuple(ListEdit(e.field, add=e.remove, remove=e.add) for e in op.edits)
        reverted = Operation(
            method=op.method,
            path=op.path,
            check=op.check,
            edits=inverse,
            send_fields=op.send_fields,
            **common,
        )
        return reverted, None
    if isinstance(rec.before, dict) and rec.before and op.method in ("PATCH", "PUT", "POST"):
        read_path = op.check.path if op.check is not None else op.path
        reverted = Operation(
            method="PATCH",
            path=op.path,
            body=rec.before,
            before=rec.sent_body,
            check=Check(read_path, contains=rec.before),
            **common,
        )
        changed = f"{read_path} changed since the run: not overwritten (use --force to revert)"
        written = rec.sent_body if isinstance(rec.sent_body, dict) else None
        return reverted, _guard(Check(read_path, contains=written), changed) if written else None
    return Skip(op.key, "no undo and no before-image: cannot be reverted automatically")


def _restore_after_undo(op: Operation, undo_key: str) -> Operation | None:
    """The PATCH of ``op.restore`` that finishes an explicit undo (see ``Operation.restore``)."""
    if op.undo is None or not op.restore or op.check is None:
        return None
    return Operation(
        key=f"{undo_key}:restore",
        method="PATCH",
        path=op.check.path,
        body=op.restore,
        description=f"restore {', '.join(op.restore)} of {op.check.path} after {undo_key}",
        check=Check(op.check.path, contains=op.restore),
        depends_on=(undo_key,),
        items=op.items,
    )


def _guard(check: Check | None, reason: str) -> dict[str, Any] | None:
    if check is None or check.absent:
        return None
    return {"check": dataclasses.asdict(check), "reason": reason}
