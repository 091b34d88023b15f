"""Progress of a run: a live bar on a terminal, plain lines otherwise, JSON lines for machines.

It only reads ``Runner.statistics()``: done/failed/remaining (they add up to the plan's
operations: failed ones are not also "remaining"), the rate over the last ``RATE_WINDOW``
seconds (a pause shows as a falling rate, not as a spike when it ends), the ETA from the
budgets, and "paused by rate limit until HH:MM:SS" while a 429 pause holds. A run over several
projects shows the total, then one line per project (done / remaining, waiting for a window,
stopped and why).
"""

from __future__ import annotations

import time
from collections import deque
from typing import IO, Any

import anyio
import orjson

from bulkops.run.planview import format_duration
from bulkops.run.runner import Runner, RunnerStatistics
from bulkops.run.states import OpStatus

__all__ = ["ProgressPrinter"]

_DONE = (OpStatus.DONE, OpStatus.SKIPPED)
_FAILED = (OpStatus.FAILED_TEMP, OpStatus.FAILED_PERM)
_LEFT = (OpStatus.PLANNED, OpStatus.IN_FLIGHT)
#: Seconds of history the rate is computed over.
RATE_WINDOW = 30.0


class ProgressPrinter:
    """Prints a runner's progress every ``interval`` seconds in one of three modes.

    ``mode``: ``"bar"`` (redrawn in place, for a TTY), ``"text"`` (one line per interval) or
    ``"json"`` (one JSON object per line).
    """

    def __init__(self, stream: IO[str], *, mode: str = "text", interval: float | None = None):
        self.stream = stream
        self.mode = mode
        self.interval = interval if interval is not None else (0.5 if mode == "bar" else 5.0)
        self._samples: deque[tuple[float, int]] = deque()
        self._rate = 0.0
        self._drawn = 0  # lines of the bar drawn last time (the total and one per project)

    async def follow(self, runner: Runner) -> None:
        """Print until cancelled."""
        while True:
            await anyio.sleep(self.interval)
            self.show(runner.statistics())

    def show(self, stats: RunnerStatistics) -> None:
        """Print one progress update from a runner snapshot."""
        done = sum(stats.counts.get(s, 0) for s in _DONE)
        self._rate = self._windowed_rate(time.monotonic(), done)
        if self.mode == "json":
            self.stream.write(orjson.dumps(self._record(stats, done)).decode() + "\n")
        elif self.mode == "bar":
            lines = [self._line(stats, done, bar=True), *_project_lines(stats)]
            up = f"\x1b[{self._drawn - 1}F" if self._drawn > 1 else "\r"
            self.stream.write(up + "\n".join("\x1b[2K" + line for line in lines))
            self._drawn = len(lines)
        else:
            lines = [self._line(stats, done, bar=False), *_project_lines(stats)]
            self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()

    def _windowed_rate(self, now: float, done: int) -> float:
        """Operations finished per second over the last ``RATE_WINDOW`` seconds."""
        samples = self._samples
        samples.append((now, done))
        while len(samples) > 2 and samples[1][0] <= now - RATE_WINDOW:
            samples.popleft()  # keep one sample at or before the window's start
        since, base = samples[0]
        return (done - base) / (now - since) if now > since else 0.0

    def close(self) -> None:
        """End the bar's line (nothing to do for lines or JSON)."""
        if self.mode == "bar":
            self.stream.write("\n")
            self.stream.flush()

    def _record(self, stats: RunnerStatistics, done: int) -> dict[str, Any]:
        return {
            "event": "progress",
            "done": done,
            "failed": sum(stats.counts.get(s, 0) for s in _FAILED),
            "remaining": _left(stats),
            "in_flight": stats.in_flight,
            "rate_per_second": round(self._rate, 2),
            "eta_seconds": stats.eta_seconds,
            "rate_limited": stats.rate_limited,
            "paused_until": _wall_clock(stats.paused_until),
            **(
                {
                    "projects": {
                        name: {
                            "done": part.done,
                            "failed": part.failed,
                            "remaining": part.remaining,
                            "eta_seconds": part.eta_seconds,
                            "waiting": part.waiting,
                            "paused_until": _wall_clock(part.paused_until),
                            "halted": part.halted,
                        }
                        for name, part in stats.projects.items()
                    }
                }
                if stats.projects
                else {}
            ),
        }

    def _line(self, stats: RunnerStatistics, done: int, *, bar: bool) -> str:
        failed = sum(stats.counts.get(s, 0) for s in _FAILED)
        remaining = _left(stats)
        total = done + failed + remaining
        text = (
            f"done {done}  failed {failed}  remaining {remaining}  "
            f"{self._rate:.1f}/s  ETA {format_duration(stats.eta_seconds)}"
        )
        paused = _wall_clock(stats.paused_until)
        if paused is not None:
            text += (
                f"  paused by rate limit until {time.strftime('%H:%M:%S', time.localtime(paused))}"
            )
        if bar:
            width = 24
            filled = int(width * (done + failed) / total) if total else width
            return f"[{'#' * filled}{'.' * (width - filled)}] {done + failed}/{total}  {text}"
        return f"progress: {text}"


def _project_lines(stats: RunnerStatistics) -> list[str]:
    """One line per project of a fan-out run: done / remaining, and what it waits for."""
    lines = []
    for name, part in stats.projects.items():
        text = f"  {name}: done {part.done}  failed {part.failed}  remaining {part.remaining}"
        if part.halted:
            text += f"  STOPPED: {part.halted}"
        elif _wall_clock(part.paused_until) is not None:
            text += "  paused by rate limit"
        elif part.waiting:
            text += f"  waiting for a window ({part.waiting})"
        if not part.halted and part.remaining:
            text += f"  ETA {format_duration(part.eta_seconds)}"
        lines.append(text)
    return lines


def _left(stats: RunnerStatistics) -> int:
    """Not sent yet, or sent without an answer yet (failed ones are counted as failed)."""
    return sum(stats.counts.get(s, 0) for s in _LEFT)


def _wall_clock(paused_until: float | None) -> float | None:
    """The budget pauses on the monotonic clock; show it as wall-clock time."""
    if paused_until is None:
        return None
    left = paused_until - time.monotonic()
    return time.time() + left if left > 0 else None
