"""Counting what a journal holds: operations by status and project, items, skips, events.

``JournalTallies`` is a part of ``Journal`` (its read-only counting queries), kept apart so
each module stays about one thing.
"""

from __future__ import annotations

import sqlite3
from collections import Counter

from bulkops.run.records import loads as _loads
from bulkops.run.states import PENDING_STATUSES, OpStatus

__all__ = ["JournalTallies"]

STATUSES = tuple(OpStatus)


class JournalTallies:
    """The counting queries of ``Journal`` (which provides the SQLite connection)."""

    _conn: sqlite3.Connection

    def sent_since(self, since: float) -> list[tuple[str, float]]:
        """``(connection, wall time)`` of each operation sent (at least once) whose last write
        was at or after ``since``: a time no earlier than the server counted its request."""
        return list(
            self._conn.execute(
                "SELECT project, updated_at FROM operations "
                "WHERE fingerprint IS NOT NULL AND updated_at >= ?",
                (since,),
            )
        )

    def remaining_by_project(self) -> dict[str, int]:
        """Operations still to send (PLANNED, IN_FLIGHT, FAILED_TEMP) per connection."""
        marks = ",".join("?" * len(PENDING_STATUSES))
        return dict(
            self._conn.execute(
                f"SELECT project, COUNT(*) FROM operations WHERE status IN ({marks}) "
                "GROUP BY project",
                PENDING_STATUSES,
            )
        )

    def counts(self) -> dict[str, int]:
        """Operations by status, plus BLOCKED skips."""
        counts: Counter[str] = Counter({s.value: 0 for s in STATUSES})
        for status, n in self._conn.execute(
            "SELECT status, COUNT(*) FROM operations GROUP BY status"
        ):
            counts[status] = n
        counts[OpStatus.BLOCKED.value] = self._conn.execute(
            "SELECT COUNT(*) FROM skips WHERE blocked = 1"
        ).fetchone()[0]
        return dict(counts)

    def counts_by_project(self) -> dict[str, dict[str, int]]:
        """Operations by connection and status (``{"prod": {"DONE": 3, ...}}``)."""
        found: dict[str, dict[str, int]] = {}
        for project, status, n in self._conn.execute(
            "SELECT project, status, COUNT(*) FROM operations GROUP BY project, status"
        ):
            found.setdefault(project, {})[status] = n
        return found

    def item_count(self) -> int:
        """How many items were frozen."""
        return int(self._conn.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    def skip_count(self) -> int:
        """How many skips were planned (blocked ones included)."""
        return int(self._conn.execute("SELECT COUNT(*) FROM skips").fetchone()[0])

    def event_counts(self) -> dict[str, int]:
        """Per event kind, the sum of the events' ``count`` (1 when they carry none)."""
        totals: Counter[str] = Counter()
        for kind, detail in self._conn.execute("SELECT kind, detail FROM events"):
            data = _loads(detail)
            totals[kind] += int(data.get("count", 1)) if isinstance(data, dict) else 1
        return dict(totals)
