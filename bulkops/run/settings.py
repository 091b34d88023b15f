"""``RunSettings``: how to run, as given explicitly by a flag or a keyword argument.

What is not given is resolved when the run starts (``bulkops.run.connections``): keys and URLs
from the environment, mutation limits from the environment or what the run stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bulkops.api.budget import Budget
from bulkops.run.statedir import StateDir, resolve_state_dir

__all__ = ["RunSettings"]


@dataclass(frozen=True)
class RunSettings:
    """How to run: what was given explicitly (flags, keyword arguments); the rest is resolved.

    ``keys``/``base_urls`` map connection names (``"source"``, ``"target"``) to explicit
    values; missing ones come from the environment (see ``bulkops.run.connections``).
    ``mutation_limits`` are ``"100/10s"`` strings or ``(count, seconds)`` pairs (None: the
    environment, else what the run stored, else the published policy); ``limits_origin`` is how
    the plan names where explicit ones came from. ``budgets`` maps connection names to budgets
    to use instead of new ones (e.g. one ``MutationBudget`` shared by several runs of one
    process); connections with the same key otherwise share one new budget.
    """

    state_dir: Path | str | None = None
    keys: Mapping[str, str | None] = field(default_factory=dict)
    base_urls: Mapping[str, str | None] = field(default_factory=dict)
    mutation_limits: Sequence[str | tuple[int, float]] | None = None
    limits_origin: str = "--mutation-limit"
    concurrency: int | None = None
    read_concurrency: int | None = None
    dry_run: bool = False
    yes: bool = False
    budgets: Mapping[str, Budget] = field(default_factory=dict)
    projects: Sequence[str] = ()
    """Named projects to fan the job out over (``--project``); empty: the default connection."""
    projects_file: str | Path | None = None
    """``--projects-file`` (else ``BULKOPS_PROJECTS_FILE``, else ``./bulkops.toml`` if present)."""
    budget_url: str | None = None
    """``--budget-url`` (else ``BULKOPS_BUDGET_URL``): share each project's budget via Redis."""

    def state(self) -> StateDir:
        """The state dir these settings name (``BULKOPS_STATE_DIR``, else ``./.bulkops``)."""
        return StateDir(resolve_state_dir(self.state_dir))
