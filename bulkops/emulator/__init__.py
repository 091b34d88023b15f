"""A local Statsig Console API (aiohttp.web), faithful to console-v1.json.

Public: :func:`start_emulator` (context manager, background thread) yielding a
:class:`RunningEmulator`; :class:`EmulatorConfig`; :class:`FaultPlan` / :class:`ScriptedFault`.

Layout: ``server`` (running it), ``app`` (the request pipeline), ``routes_*`` (the Console API
endpoints), ``kinds``/``fields``/``validation`` (what the spec says about each kind),
``store`` (projects), ``ratelimit`` (sliding windows), ``faults``, ``activity`` (counters and
the mutation log), ``snapshot`` (dump/load format), ``admin`` (``/_emulator`` endpoints).
Imports nothing from ``bulkops.api`` or ``bulkops.run``: two independent implementations keep
each other honest.
"""

from .config import DEFAULT_MUTATION_LIMITS, DEFAULT_PROJECTS, EmulatorConfig
from .faults import FaultPlan, ScriptedFault
from .server import RunningEmulator, start_emulator
from .snapshot import SNAPSHOT_FORMAT

__all__ = [
    "DEFAULT_MUTATION_LIMITS",
    "DEFAULT_PROJECTS",
    "SNAPSHOT_FORMAT",
    "EmulatorConfig",
    "FaultPlan",
    "RunningEmulator",
    "ScriptedFault",
    "start_emulator",
]
