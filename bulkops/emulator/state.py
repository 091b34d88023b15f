"""EmulatorState: what the handlers of one emulator share."""

from __future__ import annotations

from aiohttp import web

from .activity import Activity
from .config import EmulatorConfig
from .faults import FaultInjector
from .ratelimit import SlidingWindows
from .store import Project, Store

__all__ = ["PROJECT_KEY", "RAW_BODY_KEY", "STATE_KEY", "EmulatorState"]


class EmulatorState:
    """Everything the handlers share: config, projects, limiters, faults, activity."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.activity = Activity()
        self.faults = FaultInjector(config.faults, config.rng_seed)
        self.reset_state()

    def reset_state(self) -> None:
        """Fresh, empty projects and fresh windows (used by ``load``)."""
        config = self.config
        self.store = Store(config.projects, config.rng_seed)
        self.limiters = {
            name: SlidingWindows(config.mutation_limits, config.time_scale)
            for name in config.projects
        }


STATE_KEY = web.AppKey("emulator_state", EmulatorState)
PROJECT_KEY = web.RequestKey("project", Project)
"""The project the request's API key selected."""
RAW_BODY_KEY = web.RequestKey("raw_body", bytes)
"""The request body as received (for the mutation log)."""
