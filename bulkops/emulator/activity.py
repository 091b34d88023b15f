"""What the emulator has seen: request counters, in-flight peak, and the mutation log.

The mutation log lets a test prove that no non-idempotent effect was applied twice: every
mutation that changed state is one entry, including those whose response was then lost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Activity", "MutationRecord"]


@dataclass(frozen=True)
class MutationRecord:
    """One applied mutation. ``response_lost`` is set when a fault dropped its answer."""

    seq: int
    time: float
    project: str
    method: str
    path: str
    body: Any
    status: int
    response_lost: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "project": self.project,
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "status": self.status,
            "response_lost": self.response_lost,
        }


@dataclass
class Activity:
    """Counters for the admin endpoint and :meth:`RunningEmulator.stats`."""

    requests: dict[str, int] = field(default_factory=dict)  # "GET 200" -> count
    rate_limited: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    mutations: list[MutationRecord] = field(default_factory=list)
    _seq: int = 0

    def enter(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self, method: str, outcome: int | str) -> None:
        self.in_flight -= 1
        key = f"{method} {outcome}"
        self.requests[key] = self.requests.get(key, 0) + 1
        if outcome == 429:
            self.rate_limited += 1

    def record_mutation(
        self,
        project: str,
        method: str,
        path: str,
        body: Any,
        status: int,
        response_lost: bool = False,
    ) -> MutationRecord:
        self._seq += 1
        record = MutationRecord(
            self._seq, time.time(), project, method, path, body, status, response_lost
        )
        self.mutations.append(record)
        return record

    def reset(self) -> None:
        """Zero the counters and clear the mutation log (state is kept)."""
        self.requests.clear()
        self.rate_limited = 0
        self.max_in_flight = self.in_flight
        self.mutations.clear()

    def statistics(self) -> dict[str, Any]:
        by_method: dict[str, int] = {}
        by_status: dict[str, int] = {}
        for key, count in self.requests.items():
            method, outcome = key.split(" ", 1)
            by_method[method] = by_method.get(method, 0) + count
            by_status[outcome] = by_status.get(outcome, 0) + count
        return {
            "requests": dict(self.requests),
            "by_method": by_method,
            "by_status": by_status,
            "total_requests": sum(self.requests.values()),
            "rate_limited": self.rate_limited,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "mutations_applied": len(self.mutations),
        }
