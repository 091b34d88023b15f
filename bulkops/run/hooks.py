"""``RunHooks``: what a caller of the run lifecycle shows, and how it confirms a plan.

The lifecycle (``bulkops.run.lifecycle``) never prints nor asks; it calls these. The CLI
prints to the terminal (text or JSON lines), the demo indents, the Python API logs. The
defaults do nothing, and ``confirm`` refuses: a plan is sent only when the caller says so.
"""

from __future__ import annotations

import logging
from typing import Any

from bulkops.redaction import redact
from bulkops.run.journal import Journal
from bulkops.run.progress import ProgressPrinter
from bulkops.run.results import PlanSummary

__all__ = ["LoggingHooks", "RunHooks"]


class RunHooks:
    """Override what you show; every method has a quiet default."""

    #: Live progress of the send phase (None: none shown).
    progress: ProgressPrinter | None = None

    def event(self, event: str, data: dict[str, Any], text: str) -> None:
        """Something worth saying happened: ``event`` names it (``run``, ``resume``, ``plan``,
        ``limits``, ``notice``), ``data`` is its JSON form and ``text`` its line for humans."""

    def dry_run(self, journal: Journal, summary: PlanSummary) -> None:
        """Show the plan of a dry run (nothing will be sent)."""

    async def confirm(self, journal: Journal, summary: PlanSummary) -> bool:
        """Ask whether to send the plan; raise ``NotConfirmedError`` when nobody can answer."""
        return False


class LoggingHooks(RunHooks):
    """Says every event through the ``bulkops.run`` logger (the Python API's default)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.log = logger or logging.getLogger("bulkops.run")

    def event(self, event: str, data: dict[str, Any], text: str) -> None:
        """Log ``text`` at INFO level."""
        self.log.info("%s", redact(text.strip()))  # the logger may be the caller's own
