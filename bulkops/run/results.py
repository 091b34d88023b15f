"""What a run reports about itself: the plan's summary, live statistics and how it ended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bulkops.run.states import ExitCode, OpStatus

__all__ = ["PlanSummary", "RunOutcome", "RunResult", "RunnerStatistics"]


@dataclass(frozen=True)
class PlanSummary:
    """What the frozen plan holds: N operations to send, M items already fine, and the ETA."""

    items: int
    operations: int
    to_send: int
    already_fine: int
    skipped: int
    blocked: int
    eta_seconds: float | None


@dataclass(frozen=True)
class RunnerStatistics:
    """A snapshot of a run in progress."""

    counts: Mapping[str, int]
    in_flight: int
    remaining: int
    rate_limited: int
    paused_until: float | None
    elapsed: float
    eta_seconds: float | None


@dataclass(frozen=True)
class RunResult:
    """How ``mutate()`` ended: counts by status, and whether it was interrupted or fatal."""

    counts: Mapping[str, int]
    interrupted: bool = False
    fatal: str | None = None
    elapsed: float = 0.0

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
        unfinished = self.failed or self.counts.get(OpStatus.IN_FLIGHT, 0)
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
