"""Ordering operations by ``depends_on``: who waits for whom, and what a failure cascades to.

An operation may be sent once every key it depends on is DONE or SKIPPED. Until then it is
parked under one unmet key; when that key's operation finishes, the parked ones are looked at
again: ready, still waiting (parked under the next unmet key), or failed because a dependency
failed (FAILED_PERM, or FAILED_TEMP when the dependency may still succeed on resume).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping

from bulkops.run.job import Operation
from bulkops.run.journal import OpRecord
from bulkops.run.states import FINAL_STATUSES, OpStatus

__all__ = ["DependencyTracker"]

Failure = tuple[OpStatus, str]


class DependencyTracker:
    """Statuses of the keys operations depend on, and the operations parked on them.

    ``statuses`` holds every depended-on key with its journal status (None: not in the plan).
    Keys already final (DONE, SKIPPED, FAILED_PERM, or unknown) count as finished.
    """

    def __init__(self, statuses: Mapping[str, str | None]) -> None:
        self.status = dict(statuses)
        self.final = {k for k, s in self.status.items() if s in FINAL_STATUSES or s is None}
        self.parked: defaultdict[str, list[OpRecord]] = defaultdict(list)

    def unmet(self, op: Operation) -> list[str]:
        """Dependencies not finished yet in this run."""
        return [d for d in op.depends_on if d not in self.final]

    def park(self, rec: OpRecord) -> bool:
        """Park ``rec`` under its first unmet dependency; False when it need not wait."""
        unmet = self.unmet(rec.op)
        if unmet:
            self.parked[unmet[0]].append(rec)
        return bool(unmet)

    def failure(self, op: Operation) -> Failure | None:
        """``(status, message)`` when a finished dependency did not succeed, else None."""
        for dep in op.depends_on:
            status = self.status.get(dep)
            if status is None:
                return OpStatus.FAILED_PERM, f"depends on {dep}, which is not in the plan"
            if status not in (OpStatus.DONE, OpStatus.SKIPPED):
                final = (
                    OpStatus.FAILED_PERM if status == OpStatus.FAILED_PERM else OpStatus.FAILED_TEMP
                )
                return final, f"dependency {dep} failed ({status})"
        return None

    def complete(self, key: str, status: OpStatus) -> Iterator[tuple[OpRecord, Failure | None]]:
        """Record ``key``'s outcome; yield the parked operations it releases (and failures)."""
        if key not in self.status:
            return
        self.status[key] = status
        self.final.add(key)
        for waiting in self.parked.pop(key, []):
            if not self.park(waiting):
                yield waiting, self.failure(waiting.op)

    def take_parked(self) -> list[OpRecord]:
        """Remove and return whatever still waits (a cycle, once nothing else can run)."""
        parked = [rec for recs in self.parked.values() for rec in recs]
        self.parked.clear()
        return parked
