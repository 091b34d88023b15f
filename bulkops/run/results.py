"""What a run reports about itself: the plan's summary, live statistics and how it ended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bulkops.run.states import ExitCode, OpStatus

__all__ = [
    "PlanSummary",
    "ProjectPlan",
    "ProjectStatistics",
    "RunOutcome",
    "RunResult",
    "RunnerStatistics",
]


@dataclass(frozen=True)
class ProjectPlan:
    """One project's part of a fan-out plan: what it sends and when it can be done."""

    to_send: int
    eta_seconds: float | None
    failed: str | None = None
    """Why this project's plan failed (it is planned again by ``bulkops resume``)."""


@dataclass(frozen=True)
class PlanSummary:
    """What the frozen plan holds: N operations to send, M items already fine, and the ETA.

    ``projects``: per project of a fan-out run (``--project``), its part; empty otherwise.
    """

    items: int
    operations: int
    to_send: int
    already_fine: int
    skipped: int
    blocked: int
    eta_seconds: float | None
    projects: Mapping[str, ProjectPlan] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    """The job's own lines about its plan (``Job.plan_meta()["plan_lines"]``)."""


@dataclass(frozen=True)
class ProjectStatistics:
    """One project of a run in progress: its counts, its budget's wait, whether it stopped."""

    done: int
    failed: int
    remaining: int
    eta_seconds: float | None
    paused_until: float | None
    waiting: int
    """Senders waiting for a window of this project's budget."""
    halted: str | None = None
    """Why this project stopped sending (its key was rejected, ...), while others go on."""


@dataclass(frozen=True)
class RunnerStatistics:
    """A snapshot of a run in progress (``projects``: per project, for a fan-out run)."""

    counts: Mapping[str, int]
    in_flight: int
    remaining: int
    rate_limited: int
    paused_until: float | None
    elapsed: float
    eta_seconds: float | None
    projects: Mapping[str, ProjectStatistics] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    """How ``mutate()`` ended: counts by status, and whether it was interrupted or fatal."""

    counts: Mapping[str, int]
    interrupted: bool = False
    fatal: str | None = None
    elapsed: float = 0.0
    halted: Mapping[str, str] = field(default_factory=dict)
    """Projects that stopped sending while others went on, and why."""
    message: str | None = None
    """Why it did not end well (fatal, interrupted by the server or the budget), if known."""

    @property
    def failed(self) -> int:
        """Operations left FAILED_TEMP or FAILED_PERM."""
        return self.counts.get(OpStatus.FAILED_TEMP, 0) + self.counts.get(OpStatus.FAILED_PERM, 0)

    @property
    def exit_code(self) -> ExitCode:
        """FATAL, INTERRUPTED, FAILED (some failed or still unknown), else OK."""
        if self.fatal:
            return ExitCode.FATAL
        if self.interrupted:
            return ExitCode.INTERRUPTED
        unfinished = self.failed or self.counts.get(OpStatus.IN_FLIGHT, 0) or self.halted
        return ExitCode.FAILED if unfinished else ExitCode.OK


@dataclass
class RunOutcome:
    """How a lifecycle call ended: the run (if one exists), the exit code and why."""

    run_id: str | None
    exit_code: ExitCode
    summary: PlanSummary | None = None
    result: RunResult | None = None
    message: str | None = None
    error: BaseException | None = None
    reverts: str | None = None
    """For a revert run: the id of the run it reverts."""
    kept: bool = True
    """False when the run was removed again (nothing was planned nor sent)."""
