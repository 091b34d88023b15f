"""The states of a run and of its operations, and the exit codes that report them: defined once.

``OpStatus`` is what the journal holds for each operation::

    PLANNED → IN_FLIGHT → DONE | SKIPPED | FAILED_TEMP | FAILED_PERM
    (BLOCKED: a planned Skip(blocked=True); it is counted, never sent)

``Phase`` is where a whole run is (journal meta ``phase``); ``ExitCode`` is the contract with
shells, cron and CI. Each is a ``StrEnum``/``IntEnum``, so a journal written before they existed,
or a script comparing with ``"DONE"`` or ``3``, reads the same values.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = [
    "FINAL_STATUSES",
    "PENDING_STATUSES",
    "UNFINISHED_PHASES",
    "ExitCode",
    "OpStatus",
    "Phase",
]


class OpStatus(StrEnum):
    """Where one operation is."""

    PLANNED = "PLANNED"
    IN_FLIGHT = "IN_FLIGHT"
    DONE = "DONE"
    SKIPPED = "SKIPPED"
    FAILED_TEMP = "FAILED_TEMP"
    FAILED_PERM = "FAILED_PERM"
    BLOCKED = "BLOCKED"


#: Statuses that resume never touches again.
FINAL_STATUSES = frozenset({OpStatus.DONE, OpStatus.SKIPPED, OpStatus.FAILED_PERM})
#: Statuses still to send (or to reconcile, for IN_FLIGHT).
PENDING_STATUSES = (OpStatus.PLANNED, OpStatus.IN_FLIGHT, OpStatus.FAILED_TEMP)


class Phase(StrEnum):
    """Where a whole run is (journal meta ``phase``)."""

    LISTING = "listing"
    PLANNED = "planned"
    RUNNING = "running"
    INTERRUPTED = "interrupted"
    INCOMPLETE = "incomplete"
    COMPLETE = "complete"
    FATAL = "fatal"
    ABANDONED = "abandoned"
    DRY_RUN = "dry-run"


#: Phases of a run that ``bulkops resume`` (without a run id) picks up.
UNFINISHED_PHASES = frozenset(
    {Phase.LISTING, Phase.PLANNED, Phase.RUNNING, Phase.INTERRUPTED, Phase.INCOMPLETE}
)


class ExitCode(IntEnum):
    """How a command ended: the contract with shells, cron lines and CI."""

    OK = 0
    FAILED = 1
    """Some operations failed (see ``bulkops report RUN --failed-only``)."""
    USAGE = 2
    """Usage or configuration error: nothing was sent."""
    INTERRUPTED = 3
    """Interrupted: ``bulkops resume RUN`` goes on."""
    FATAL = 4
    """Fatal API or auth error."""
    INTERNAL = 5
    """A bug in bulkops: one line on stderr, the traceback in a file it names (report it)."""
