"""EmulatorConfig: what one emulator serves and how it behaves."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .faults import FaultPlan

__all__ = ["DEFAULT_MUTATION_LIMITS", "DEFAULT_PROJECTS", "EmulatorConfig"]

DEFAULT_PROJECTS = {"default": "console-local"}
DEFAULT_MUTATION_LIMITS: tuple[tuple[int, float], ...] = ((100, 10.0), (900, 900.0))
"""The service's published mutation limits per project: 100 per 10 s and 900 per 15 min."""


@dataclass
class EmulatorConfig:
    """Settings of one emulator.

    - ``projects``: ``{project name: API key}``; each project has its own state and limits.
    - ``page_cap``: the largest ``limit`` a list honours (clients must not assume one page).
    - ``time_scale``: multiplies every rate-limit window (``0.01`` turns 10 s into 100 ms).
    - ``mutation_limits``: ``((count, window seconds), ...)`` per project, mutations only.
    - ``retry_after``: whether a 429 carries a ``Retry-After`` header (unconfirmed upstream).
    - ``faults``: the initial :class:`FaultPlan` (change it at run time with ``set_faults``).
    - ``seed``: a snapshot (dict or JSON file path) loaded at start.
    - ``rng_seed``: seeds fault draws and generated ids, so runs are reproducible.
    """

    projects: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PROJECTS))
    page_cap: int = 100
    time_scale: float = 1.0
    mutation_limits: tuple[tuple[int, float], ...] = DEFAULT_MUTATION_LIMITS
    retry_after: bool = True
    faults: FaultPlan | None = None
    seed: dict[str, Any] | str | Path | None = None
    rng_seed: int = 0

    def __post_init__(self) -> None:
        if not self.projects:
            raise ValueError("EmulatorConfig.projects is empty: give at least one NAME=KEY")
        if len(set(self.projects.values())) != len(self.projects):
            raise ValueError("EmulatorConfig.projects: two projects share one API key")
        if self.page_cap < 1:
            raise ValueError(f"EmulatorConfig.page_cap must be >= 1, got {self.page_cap}")
        if self.time_scale <= 0:
            raise ValueError(f"EmulatorConfig.time_scale must be > 0, got {self.time_scale}")
