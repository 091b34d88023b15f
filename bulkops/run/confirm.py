"""What the confirmation prompt shows: the first changes the plan will send, then how many more."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bulkops.run.journal import Journal
from bulkops.run.planview import iter_plan_changes
from bulkops.run.states import PENDING_STATUSES

__all__ = ["PREVIEW_CHANGES", "preview_lines"]

#: Changes listed above the prompt before "... and N more".
PREVIEW_CHANGES = 20


def preview_lines(journal: Journal, limit: int = PREVIEW_CHANGES) -> Iterator[str]:
    """Lines describing the first ``limit`` changes still to send, then "... and N more"."""
    pending = {rec.op.key for batch in journal.iter_operations(PENDING_STATUSES) for rec in batch}
    shown = more = 0
    for row in iter_plan_changes(journal):
        if row.get("key") not in pending:
            continue
        if shown < limit:
            shown += 1
            yield f"  {_change(row)}"
        else:
            more += 1
    if more:
        yield f"  ... and {more} more (--dry-run shows them all)"


def _change(row: dict[str, Any]) -> str:
    what = str(row.get("entity") or row.get("key"))
    field = row.get("field")
    before, after = str(row.get("before") or ""), str(row.get("after") or "")
    change = f"{before} → {after}" if before and before != "(current list)" else after
    return f"{what} {field}: {change}" if field else f"{what}: {change}"
