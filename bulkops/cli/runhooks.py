"""How the run commands show a run on the terminal: the ``RunHooks`` of the CLI.

Events go to stderr (text, or JSON lines with ``--log-format json``), a dry run's plan to
stdout, and the confirmation prompt asks on the terminal; without one, ``--yes`` is needed.
"""

from __future__ import annotations

import sys
from typing import Any

import anyio

from bulkops.cli.runlog import emit
from bulkops.run import (
    Journal,
    NotConfirmedError,
    PlanSummary,
    ProgressPrinter,
    RunHooks,
    preview_lines,
    write_plan_diff,
)

__all__ = ["CliHooks"]


class CliHooks(RunHooks):
    """Prints events, plans and progress; asks ``send these mutations? [y/N]``."""

    def __init__(self, log_json: bool, *, as_json: bool = False) -> None:
        self.log_json = log_json
        self.as_json = as_json
        mode = "json" if log_json else ("bar" if sys.stderr.isatty() else "text")
        self.progress = ProgressPrinter(sys.stderr, mode=mode)

    def event(self, event: str, data: dict[str, Any], text: str) -> None:
        emit(self.log_json, event, data, text)

    def dry_run(self, journal: Journal, summary: PlanSummary) -> None:
        write_plan_diff(journal, summary, sys.stdout, as_json=self.as_json)

    async def confirm(self, journal: Journal, summary: PlanSummary) -> bool:
        run_id = journal.meta()["run_id"]
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise NotConfirmedError(
                "nothing sent: confirm the plan with --yes (no terminal to ask on); to run this "
                f"plan as it is: bulkops resume {run_id} --yes",
                run_id,
            )
        for line in await anyio.to_thread.run_sync(lambda: list(preview_lines(journal))):
            print(line, file=sys.stderr)
        answer = await anyio.to_thread.run_sync(input, "send these mutations? [y/N] ")
        return answer.strip().lower() in ("y", "yes")
