"""A local Statsig Console API (aiohttp.web), faithful to console-v1.json.

Public: :func:`start_emulator` (context manager, background thread) yielding a
:class:`RunningEmulator`; :func:`start_emulator_process` (the same in a process of its own, where
timing must not share the client's GIL); :class:`EmulatorConfig`; :class:`FaultPlan` / :class:`ScriptedFault`.

Layout: ``server`` (running it), ``app`` (the request pipeline), ``routes_*`` (the Console API
endpoints: entities and versions, rules and overrides, lifecycle, segment id lists and
conditions, catalog lists), ``kinds``/``fields``/``validation`` (what the spec says about each
kind), ``store`` (projects, list-page cache), ``ratelimit`` (sliding windows), ``faults``
(scripted or random, optionally per project), ``review`` (``x-respect-review-settings``),
``activity`` (counters and the mutation log), ``snapshot`` (dump/load format), ``admin``
(``/_emulator`` endpoints). Injected faults and clients that vanish log at DEBUG only.
Imports nothing from ``bulkops.api`` or ``bulkops.run``: two independent implementations keep
each other honest.
"""

from .config import DEFAULT_MUTATION_LIMITS, DEFAULT_PROJECTS, EmulatorConfig
from .faults import FaultPlan, ScriptedFault
from .process import EmulatorProcess, start_emulator_process
from .server import RunningEmulator, start_emulator
from .snapshot import SNAPSHOT_FORMAT

__all__ = [
    "DEFAULT_MUTATION_LIMITS",
    "DEFAULT_PROJECTS",
    "SNAPSHOT_FORMAT",
    "EmulatorConfig",
    "EmulatorProcess",
    "FaultPlan",
    "RunningEmulator",
    "ScriptedFault",
    "start_emulator",
    "start_emulator_process",
]
