"""What a run counts while it sends: operations by status and by project, what each project
has left, which projects stopped, and the ETA their budgets give.

``RunTally`` is the runner's bookkeeping, kept apart from the sending loop; ``statistics()``
and ``project_plans()`` are the snapshots progress bars, plan summaries and tests read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bulkops.run.context import Connection
from bulkops.run.results import ProjectPlan, ProjectStatistics, RunnerStatistics, RunResult
from bulkops.run.states import FINAL_STATUSES, PENDING_STATUSES, OpStatus

__all__ = ["Ending", "RunTally", "eta_of", "project_plans"]


def eta_of(connections: Mapping[str, Connection], remaining: Mapping[str, int]) -> float | None:
    """Seconds until every project's ``remaining`` operations can have been sent (the slowest
    project's budget decides); None when a budget cannot tell."""
    etas = []
    for project, n in remaining.items():
        conn = connections.get(project)
        if conn is None or not n:
            continue
        try:
            etas.append(float(conn.budget.eta(n)))
        except (ArithmeticError, TypeError, ValueError):  # an ETA is informative only
            return None
    return max(etas, default=0.0)


@dataclass(frozen=True)
class Ending:
    """How a sending session ended (see ``RunTally.ending``)."""

    phase: str
    interrupted: bool
    fatal: str | None
    halted: Mapping[str, str]
    message: str | None

    def result(self, counts: Mapping[str, int], elapsed: float) -> RunResult:
        """The session's ``RunResult``."""
        return RunResult(
            counts,
            self.interrupted,
            self.fatal,
            elapsed,
            halted=self.halted,
            message=self.message,
        )


def _said(project: str, message: str, among: int) -> str:
    """A project's message, naming the project when the run has several."""
    return message if among <= 1 else f"project {project}: {message}"


class RunTally:
    """Counts of one sending session, kept in step with the journal's."""

    def __init__(self, connections: Mapping[str, Connection]) -> None:
        self.connections = connections
        self.counts: Counter[str] = Counter()
        self.remaining: dict[str, int] = {}
        self.by_project: dict[str, Counter[str]] = {}
        #: Projects that stopped sending (key rejected, server asks too long a wait): kind, why.
        self.halted: dict[str, tuple[str, str]] = {}
        self.sending: set[str] = set()
        self.in_flight = 0

    def load(
        self,
        counts: Mapping[str, int],
        remaining: Mapping[str, int],
        by_project: Mapping[str, Mapping[str, int]],
    ) -> None:
        """Start from the journal's counts."""
        self.counts = Counter(counts)
        self.remaining = dict(remaining)
        self.sending = {project for project, n in remaining.items() if n}
        self.by_project = {project: Counter(c) for project, c in by_project.items()}

    def moved(self, project: str, was: str, now: OpStatus) -> None:
        """An operation of ``project`` went from status ``was`` to ``now``."""
        self.counts[was] -= 1
        self.counts[now] += 1
        tally = self.by_project.setdefault(project, Counter())
        tally[was] -= 1
        tally[now] += 1
        if now in FINAL_STATUSES:
            self.remaining[project] = max(0, self.remaining.get(project, 0) - 1)

    def ending(
        self, counts: Mapping[str, int], unplanned: int, *, stopped: bool, fatal: str | None
    ) -> Ending:
        """How the session ended: its phase, and why (every project stopped fatally is a
        fatal run; a project stopped by a too-long wait or a lost budget interrupts it)."""
        left = sum(counts.get(s, 0) for s in PENDING_STATUSES) + unplanned
        fatal_ones = {p: m for p, (kind, m) in self.halted.items() if kind == "fatal"}
        if fatal_ones and not fatal and self.sending <= set(fatal_ones):
            fatal = "; ".join(_said(p, m, len(fatal_ones)) for p, m in fatal_ones.items())
        paused = any(kind == "interrupted" for kind, _ in self.halted.values())
        interrupted = (stopped or paused) and not fatal and left > 0
        phase = (
            "fatal"
            if fatal
            else "interrupted"
            if interrupted
            else ("incomplete" if left else "complete")
        )
        halted = {} if fatal else {p: m for p, (_, m) in self.halted.items()}
        message = fatal or "; ".join(_said(p, m, len(halted)) for p, m in halted.items())
        return Ending(phase, interrupted, fatal, halted, message or None)

    def halt(self, project: str, kind: str, message: str) -> bool:
        """Record that ``project`` stopped; True when every project with work has stopped."""
        self.halted.setdefault(project, (kind, message))
        return self.sending <= set(self.halted)

    def eta(self, remaining: Mapping[str, int] | None = None) -> float | None:
        """ETA of ``remaining`` (default: what this session has left)."""
        return eta_of(self.connections, self.remaining if remaining is None else remaining)

    def statistics(self, elapsed: float) -> RunnerStatistics:
        """Counts by status, in flight, 429s seen, elapsed, ETA; per project when several."""
        paused = None
        rate_limited = 0
        for conn in self.connections.values():
            stats = conn.budget.statistics()
            rate_limited += stats.rate_limited
            until = stats.paused_until
            if until is not None and (paused is None or until > paused):
                paused = until
        return RunnerStatistics(
            counts=dict(self.counts),
            in_flight=self.in_flight,
            remaining=sum(self.counts.get(s, 0) for s in PENDING_STATUSES),
            rate_limited=rate_limited,
            paused_until=paused,
            elapsed=elapsed,
            eta_seconds=self.eta(),
            projects=self._projects() if len(self.by_project) > 1 else {},
        )

    def _projects(self) -> dict[str, ProjectStatistics]:
        found = {}
        for project, tally in sorted(self.by_project.items()):
            conn = self.connections.get(project)
            budget = conn.budget.statistics() if conn is not None else None
            found[project] = ProjectStatistics(
                done=tally[OpStatus.DONE] + tally[OpStatus.SKIPPED],
                failed=tally[OpStatus.FAILED_TEMP] + tally[OpStatus.FAILED_PERM],
                remaining=tally[OpStatus.PLANNED] + tally[OpStatus.IN_FLIGHT],
                eta_seconds=self.eta({project: self.remaining.get(project, 0)}),
                paused_until=budget.paused_until if budget is not None else None,
                waiting=budget.waiting if budget is not None else 0,
                halted=self.halted[project][1] if project in self.halted else None,
            )
        return found


def project_plans(
    connections: Mapping[str, Connection], meta: Mapping[str, Any], remaining: Mapping[str, int]
) -> dict[str, ProjectPlan]:
    """Each project's part of a fan-out plan (``meta``: the journal's, with its failures)."""
    failures = meta.get("plan_failures") or {}
    names = list(dict.fromkeys([*meta.get("scopes", ()), *remaining, *failures]))
    return {
        name: ProjectPlan(
            to_send=remaining.get(name, 0),
            eta_seconds=eta_of(connections, {name: remaining.get(name, 0)}),
            failed=(failures.get(name) or {}).get("message"),
        )
        for name in names
    }
