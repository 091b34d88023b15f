"""``bulkops demo``: the local emulator, a sample project, real journaled runs, what changed.

:func:`run_demo` starts the emulator in-process on a free loopback port with its rate windows
scaled by ``time_scale`` (0.5 turns "100 per 10 s" into "100 per 5 s"), loads
:func:`bulkops.sample_project.sample_project`, and runs the :data:`SCENARIO` steps one after
the other through the same pieces as ``bulkops run``: the run lifecycle
(``bulkops.run.start_run``: a journal in the state dir, plan, send), one
:class:`~bulkops.api.MutationBudget` shared by every step (the project's budget), and the live
progress display. Then it reads the emulator back and
prints a before → after summary (:func:`summarize`).

The demo never reads ``STATSIG_*`` or ``BULKOPS_*`` settings: it only talks to its own emulator.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import anyio

from bulkops.demo_summary import describe_project, summarize
from bulkops.redaction import SECRETS
from bulkops.run import (
    ExitCode,
    Job,
    Lifecycle,
    ProgressPrinter,
    RunHooks,
    RunSettings,
    StateDir,
    format_duration,
    load_job_class,
)
from bulkops.sample_project import DEMO_HOLDOUT, QA_USERS, sample_project

__all__ = [
    "DEFAULT_TIME_SCALE",
    "QA_USERS",
    "SCENARIO",
    "DemoStep",
    "StepResult",
    "run_demo",
    "run_scenario",
    "scaled_limits",
    "summarize",
]

DEFAULT_TIME_SCALE = 0.5
"""Windows of 100/5s: the scenario's ~125 mutations need two windows, so the budget shows."""
_SERVICE_LIMITS = ((100, 10.0), (900, 900.0))  # the Console API's published mutation limits


@dataclass(frozen=True)
class DemoStep:
    """One ``bulkops run JOB ARGS...`` of the scenario, with a line saying what it is for."""

    job: str
    args: tuple[str, ...]
    title: str

    @property
    def command(self) -> str:
        """The equivalent shell command."""
        return " ".join(("bulkops run", self.job, *self.args, "--yes"))


SCENARIO: tuple[DemoStep, ...] = (
    DemoStep(
        "archive-stale-gates",
        ("--older-than", "90d", "--exclude-tag", "keep"),
        "archive the gates Statsig marks STALE, untouched for 90 days, unless tagged keep",
    ),
    DemoStep(
        "overrides",
        ("--kind", "gates", "--where", "type=TEMPORARY", "--add-passing", ",".join(QA_USERS)),
        "let the QA users pass every temporary gate (one PATCH per gate: the budget at work)",
    ),
    DemoStep(
        "attach-holdout",
        ("--holdout", DEMO_HOLDOUT, "--where", "type=TEMPORARY"),
        f"put every temporary gate in holdout {DEMO_HOLDOUT} (ONE PATCH for all of them)",
    ),
)


@dataclass
class StepResult:
    """How one step's run ended: its id, journal, exit code, counts and blocked items."""

    step: DemoStep
    run_id: str
    journal: Path
    exit_code: int
    counts: dict[str, int] = field(default_factory=dict)
    blocked: list[tuple[str, str]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0


def scaled_limits(time_scale: float) -> tuple[tuple[int, float], ...]:
    """The service's mutation windows with their spans multiplied by ``time_scale``."""
    return tuple((count, span * time_scale) for count, span in _SERVICE_LIMITS)


def _job(step: DemoStep) -> Job:
    job_cls = load_job_class(step.job)
    parser = argparse.ArgumentParser(prog=f"bulkops run {step.job}")
    job_cls.add_arguments(parser)
    return job_cls(vars(parser.parse_args(list(step.args))))


async def run_scenario(
    base_url: str,
    api_key: str,
    state_dir: Path,
    *,
    limits: Sequence[tuple[int, float]],
    steps: Sequence[DemoStep] = SCENARIO,
    out: IO[str] = sys.stdout,
    progress_interval: float = 0.5,
) -> list[StepResult]:
    """Run ``steps`` against one project, each as a journaled run; stop at the first failure."""
    from bulkops.api import MutationBudget

    budget = MutationBudget(tuple(limits))
    settings = RunSettings(
        state_dir=state_dir,
        keys={"source": api_key},
        base_urls={"source": base_url},
        mutation_limits=tuple(limits),
        limits_origin="the demo's scaled limits",
        concurrency=16,
        yes=True,
        budgets={"source": budget},
    )
    results = []
    for number, step in enumerate(steps, 1):
        _say(out, f"\n[{number}/{len(steps)}] {step.title}\n    $ {step.command}")
        result = await _run_step(step, settings, out, progress_interval)
        _say(out, f"    budget: {_budget_line(budget.statistics())}")
        results.append(result)
        if result.exit_code != 0:
            break
    return results


class _DemoHooks(RunHooks):
    """The plan and notices, indented under the step's title; live progress."""

    def __init__(self, out: IO[str], interval: float) -> None:
        self.out = out
        mode = "bar" if out.isatty() else "text"
        self.progress = ProgressPrinter(out, mode=mode, interval=interval)

    def event(self, event: str, data: dict[str, Any], text: str) -> None:
        if event in ("plan", "notice"):
            _say(self.out, "    " + text.replace("\n", "\n    "))


async def _run_step(
    step: DemoStep, settings: RunSettings, out: IO[str], interval: float
) -> StepResult:
    job = _job(step)
    outcome = await Lifecycle(settings, _DemoHooks(out, interval)).start(step.job, job)
    state = StateDir(Path(str(settings.state_dir)))
    run_id = str(outcome.run_id)
    result = StepResult(step, run_id, state.journal_path(run_id), int(outcome.exit_code))
    if outcome.result is not None:
        result.counts = {k: v for k, v in outcome.result.counts.items() if v}
        result.elapsed = outcome.result.elapsed
    if outcome.message:
        _say(out, f"    bulkops: {outcome.message}")
    if outcome.kept:
        journal = await anyio.to_thread.run_sync(state.open_readonly, run_id)
        try:
            skips = await anyio.to_thread.run_sync(lambda: list(journal.iter_skips()))
        finally:
            journal.close()
        result.blocked = [(item, reason) for item, reason, blocked in skips if blocked]
        result.skipped = Counter(reason for _, reason, blocked in skips if not blocked)
    done = ", ".join(f"{v} {k}" for k, v in result.counts.items()) or "nothing to send"
    _say(out, f"    finished: {done} in {format_duration(result.elapsed)} (run {run_id})")
    return result


def _budget_line(stats: Any) -> str:
    windows = ", ".join(
        f"{sent}/{count} in the {format_span(span)} window"
        for sent, (count, span) in zip(stats.sent, stats.limits, strict=False)
    )
    return f"{windows}; {stats.total_sent} sent in all; 429s {stats.rate_limited}"


def _say(out: IO[str], text: str) -> None:
    try:
        out.write(text + "\n")
    except UnicodeEncodeError:  # a terminal that cannot show "→"
        out.write(text.replace("→", "->") + "\n")
    out.flush()


# -- the whole demo ------------------------------------------------------------------------


def run_demo(
    *,
    gates: int = 150,
    time_scale: float = DEFAULT_TIME_SCALE,
    state_dir: Path | None = None,
    keep_running: bool = False,
    out: IO[str] = sys.stdout,
    wait: Callable[[Any], None] | None = None,
) -> int:
    """The whole demo; returns the exit code (0, or the first failing step's).

    ``wait`` is called with the running emulator when ``keep_running`` (default: block until
    Ctrl-C).
    """
    if state_dir is not None:
        return _run_demo(gates, time_scale, Path(state_dir), False, keep_running, out, wait)
    with tempfile.TemporaryDirectory(prefix="bulkops-demo-") as tmp:
        return _run_demo(gates, time_scale, Path(tmp) / "state", True, keep_running, out, wait)


def _run_demo(
    gates: int,
    time_scale: float,
    state_dir: Path,
    temporary: bool,
    keep_running: bool,
    out: IO[str],
    wait: Callable[[Any], None] | None,
) -> int:
    from bulkops.emulator import EmulatorConfig, start_emulator

    limits = scaled_limits(time_scale)
    config = EmulatorConfig(time_scale=time_scale, seed=sample_project(gates))
    with start_emulator(config) as emulator:
        before = emulator.dump()
        shown = ", ".join(f"{c}/{format_span(s)}" for c, s in limits)
        _say(out, f"bulkops demo: emulator on {emulator.base_url} (loopback, in-process)")
        _say(out, f"sample project: {describe_project(before)}")
        _say(
            out,
            f"mutation limits scaled by {time_scale:g}: {shown} (the real API: 100/10s, 900/15m)",
        )
        results = anyio.run(
            lambda: run_scenario(
                emulator.base_url, emulator.api_key(), state_dir, limits=limits, out=out
            )
        )
        after = emulator.dump()
        rate_limited = int(emulator.stats()["projects"]["default"]["rate_limited"])
        lines = summarize(before, after, results, emulator.mutation_log(), rate_limited)
        _say(out, "\nwhat changed (read back from the emulator):")
        for line in lines:
            _say(out, "  " + line)
        _print_journals(out, results, state_dir, temporary, keep_running)
        if keep_running:
            _print_try_it(out, emulator.base_url, emulator.api_key(), state_dir)
            (wait or _wait_for_ctrl_c)(emulator)
    failed = [r.exit_code for r in results if r.exit_code]
    return failed[0] if failed else ExitCode.OK


def format_span(seconds: float) -> str:
    """``0.2`` → ``200ms``, ``18`` → ``18s``, ``900`` → ``15m``."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


def _print_journals(
    out: IO[str],
    results: Sequence[StepResult],
    state_dir: Path,
    temporary: bool,
    keep_running: bool = False,
) -> None:
    """Where the journals are, and a report command only when it can still work after this."""
    _say(out, f"\njournals (SQLite) in {state_dir}:")
    for r in results:
        _say(out, f"  {r.journal.name}  ({r.step.job}, exit {r.exit_code})")
    if results and (keep_running or not temporary):
        when = " (while the emulator runs)" if temporary else ""
        flag = f" --state-dir {state_dir}"
        _say(out, f"per-operation report{when}: bulkops report {results[0].run_id}{flag}")
    if temporary:
        _say(
            out,
            "(a temporary state dir, removed on exit; to keep the journals and read them with "
            "`bulkops report`, `bulkops status` or `bulkops revert`: "
            "`bulkops demo --state-dir DIR`)",
        )


def _print_try_it(out: IO[str], base_url: str, api_key: str, state_dir: Path) -> None:
    # The emulator's key is a local, made-up key for this loopback server only, not a secret:
    # shown on purpose, so it is no longer redacted.
    SECRETS.forget(api_key)
    _say(out, "\nthe emulator keeps running; in another shell:")
    _say(out, f"  export STATSIG_CONSOLE_API_URL={base_url}")
    _say(out, f"  export STATSIG_CONSOLE_API_KEY={api_key}")
    _say(out, f"  export BULKOPS_STATE_DIR={state_dir}")
    _say(out, "  bulkops run archive-stale-gates --older-than 1d --dry-run")
    _say(out, "press Ctrl-C to stop it")


def _wait_for_ctrl_c(emulator: Any) -> None:
    import threading

    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
