"""Executing one journaled operation: check, edits, send, record.

The order of writes is what makes a run resumable: the IN_FLIGHT row (with a fingerprint of the
request, the body and the before-image) is committed *before* the request goes out, and the
outcome is written after. An operation found IN_FLIGHT (the process died, or the outcome of a
non-idempotent request is unknown) is reconciled by reading its ``Check`` before anything is
re-sent, so a create whose response was lost is not created twice.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from bulkops.errors import (
    ApiError,
    AuthError,
    BudgetLostError,
    FatalRunError,
    NotFoundError,
    OutcomeUnknownError,
    RunInterrupted,
    ServerWaitTooLongError,
    ValidationError,
)
from bulkops.run.context import Connection
from bulkops.run.edits import apply_edits, contains, edited_fields, excludes
from bulkops.run.job import Check, Operation
from bulkops.run.journal import OpRecord
from bulkops.run.sendgate import SendStopped, track_sends
from bulkops.run.states import OpStatus
from bulkops.run.writer import JournalWriter

__all__ = [
    "FatalRunError",
    "OperationExecutor",
    "check_satisfied",
    "check_state",
    "fingerprint",
]


def fingerprint(method: str, path: str, body: Any) -> str:
    """sha256 of the request: method, path and body (canonical JSON)."""
    payload = orjson.dumps([method.upper(), path, body], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()


async def check_satisfied(conn: Connection, check: Check) -> bool:
    """Read ``check.path`` and tell whether the operation's effect is there."""
    satisfied, _ = await check_state(conn, check)
    return satisfied


async def check_state(conn: Connection, check: Check) -> tuple[bool, str | None]:
    """``check_satisfied``, and the ID of the element a ``Check.find`` found (else None)."""
    if check.find is not None:
        found = await _find(conn, check)
        satisfied = found is None if check.absent else found is not None and _holds(found, check)
        return satisfied, _given_id(found)
    try:
        data = await conn.request("GET", check.path)
    except NotFoundError:
        return check.absent, None
    return not check.absent and _holds(data, check), None


def _holds(data: Any, check: Check) -> bool:
    if check.contains is not None and not contains(data, check.contains):
        return False
    return check.excludes is None or excludes(data, check.excludes)


async def _find(conn: Connection, check: Check) -> dict[str, Any] | None:
    """The first element of the list at ``check.path`` that contains ``check.find``."""
    async with contextlib.aclosing(conn.paginate(check.path)) as elements:
        async for element in elements:
            if contains(element, check.find):
                return element
    return None


@dataclass
class _Outcome:
    status: OpStatus
    fields: dict[str, Any] = field(default_factory=dict)
    retry: bool = False


class OperationExecutor:
    """Runs one ``OpRecord`` to a journaled outcome; returns its final status.

    ``attempts`` bounds tries per run for retryable failures (5xx, resets, lost responses);
    what is still failing is left FAILED_TEMP for ``bulkops resume``. ``verify_planned``: read
    the ``Check`` of every PLANNED operation before sending it (the plan was made in an earlier
    session, so the state may have moved since); one already in the desired state is SKIPPED,
    never sent and never claimed as this run's work.
    """

    def __init__(
        self,
        connections: Mapping[str, Connection],
        writer: JournalWriter,
        *,
        attempts: int = 3,
        verify_planned: bool = False,
    ) -> None:
        self._connections = connections
        self._writer = writer
        self._attempts = max(1, attempts)
        self.verify_planned = verify_planned

    async def run(self, rec: OpRecord) -> OpStatus:
        """Execute ``rec`` (retrying what may be retried) and journal its final status."""
        conn = self._connection(rec.op)
        reconciling = rec.status == OpStatus.IN_FLIGHT
        before = rec.before
        attempt = rec.attempts
        outcome = _Outcome(OpStatus.FAILED_TEMP)
        with track_sends() as tally:
            try:
                for _ in range(self._attempts):
                    attempt += 1
                    try:
                        outcome = await self._attempt(conn, rec, reconciling, before, attempt)
                    except AuthError as exc:
                        self._record(rec.op.key, _failure(OpStatus.FAILED_TEMP, exc))
                        raise FatalRunError(str(exc), rec.op.project) from exc
                    if not outcome.retry:
                        break
                    reconciling = reconciling or outcome.status == OpStatus.IN_FLIGHT
                    before = outcome.fields.get("before", before)
            except SendStopped:
                outcome = _stopped(rec, sent=tally.granted > 0)
            except (ServerWaitTooLongError, BudgetLostError) as exc:
                # Not applied (a 429) or never sent (no budget): as it was, for resume
                # (IN_FLIGHT only when an earlier attempt's outcome is unknown).
                self._record(rec.op.key, _stopped(rec, sent=reconciling))
                raise RunInterrupted(str(exc), rec.op.project) from exc
        self._record(rec.op.key, outcome)
        return outcome.status

    def _connection(self, op: Operation) -> Connection:
        try:
            return self._connections[op.project]
        except KeyError:
            raise FatalRunError(
                f"operation {op.key} writes to project {op.project!r}, but no connection of "
                f"that name was configured (known: {', '.join(self._connections)})"
            ) from None

    async def _attempt(
        self, conn: Connection, rec: OpRecord, reconciling: bool, before: Any, attempt: int
    ) -> _Outcome:
        op = rec.op
        try:
            if (
                self.verify_planned
                and rec.status == OpStatus.PLANNED
                and not op.edits
                and _verifiable(op)
                and await check_satisfied(conn, op.check)  # type: ignore[arg-type]
            ):
                return _Outcome(OpStatus.SKIPPED, {"message": "already in the desired state"})
            if reconciling and op.check is not None and not op.edits:
                done, ident = await check_state(conn, op.check)
                if done:
                    return _Outcome(
                        OpStatus.DONE, _confirmed("already in the desired state", ident)
                    )
            if rec.guard is not None and not await self._guard_holds(conn, rec.guard):
                return _Outcome(
                    OpStatus.FAILED_PERM, {"error": "conflict", "message": rec.guard["reason"]}
                )
            body = op.body
            if op.edits:
                path = op.check.path if op.check is not None else op.path
                entity = await conn.request("GET", path)
                edited, changed = apply_edits(entity or {}, op.edits)
                if not changed:
                    status = OpStatus.DONE if reconciling else OpStatus.SKIPPED
                    return _Outcome(status, {"message": "already in the desired state"})
                fields = op.send_fields or edited_fields(op.edits)
                body = {name: edited.get(name) for name in fields}
                if before is None or not reconciling:
                    before = {name: copy.deepcopy(entity.get(name)) for name in fields}
            elif op.check is not None and op.creates and not reconciling:
                if await check_satisfied(conn, op.check):
                    status = OpStatus.DONE if reconciling else OpStatus.SKIPPED
                    return _Outcome(status, {"message": "already in the desired state"})
            elif reconciling and op.creates and op.check is None:
                return _Outcome(
                    OpStatus.FAILED_PERM,
                    {
                        "error": "outcome_unknown",
                        "message": "sent before an interruption and "
                        "it has no check to verify it: inspect it by hand",
                    },
                )
        except (AuthError, ServerWaitTooLongError):
            raise
        except ApiError as exc:
            return _failure(_classify(exc), exc, retry=_classify(exc) == OpStatus.FAILED_TEMP)
        await self._writer.update(
            op.key,
            status=OpStatus.IN_FLIGHT,
            attempts=attempt,
            fingerprint=fingerprint(op.method, op.path, body),
            sent_body=body,
            before=before,
        )
        try:
            data = await conn.request(op.method, op.path, json=body)
        except (AuthError, ServerWaitTooLongError):
            raise
        except OutcomeUnknownError as exc:
            return await self._after_unknown(conn, op, exc, before)
        except ApiError as exc:
            status = _classify(exc)
            return _failure(status, exc, retry=status == OpStatus.FAILED_TEMP, before=before)
        return _Outcome(
            OpStatus.DONE,
            {"http_status": 200, "response_id": _given_id(data), "error": None, "message": None},
        )

    async def _after_unknown(
        self, conn: Connection, op: Operation, exc: OutcomeUnknownError, before: Any
    ) -> _Outcome:
        """A non-idempotent request may have been applied: read state before anything else."""
        if op.check is None and not op.edits:
            return _failure(OpStatus.FAILED_PERM, exc, error="outcome_unknown")
        try:
            applied, ident = await check_state(conn, op.check) if op.check else (False, None)
        except ServerWaitTooLongError as wait:
            # Sent, maybe applied, and its state cannot be read now: IN_FLIGHT, read on resume
            # (the run's own handler would put it back to PLANNED, to be sent again).
            lost = _failure(OpStatus.IN_FLIGHT, exc, before=before, error="outcome_unknown")
            self._record(op.key, lost)
            raise RunInterrupted(str(wait), op.project) from wait
        except AuthError:
            raise
        except ApiError:
            return _failure(
                OpStatus.IN_FLIGHT, exc, retry=True, before=before, error="outcome_unknown"
            )
        if applied:
            confirmed = _confirmed("applied (response lost; confirmed by reading)", ident)
            return _Outcome(OpStatus.DONE, confirmed)
        return _failure(OpStatus.IN_FLIGHT, exc, retry=True, before=before, error="outcome_unknown")

    async def _guard_holds(self, conn: Connection, guard: Mapping[str, Any]) -> bool:
        return await check_satisfied(conn, Check(**guard["check"]))

    def _record(self, key: str, outcome: _Outcome) -> None:
        fields = {"status": outcome.status, **outcome.fields}
        if outcome.status == OpStatus.IN_FLIGHT:
            # Still unknown after our tries: stays IN_FLIGHT, reconciled on resume.
            fields.pop("before", None)
        self._writer.record(key, **fields)


def _given_id(data: Any) -> str | None:
    """The ``id`` a mutation's answer gives (text, or a whole number; else None: a server's
    answer of another shape is not the journal's to store)."""
    ident = data.get("id") if isinstance(data, dict) else None
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    return ident if isinstance(ident, str) and ident else None


def _confirmed(message: str, ident: str | None) -> dict[str, Any]:
    """The outcome fields of an operation found done by reading (``ident``: what it created,
    when the read tells; not the request id an earlier failed attempt left there)."""
    return {"message": message, "response_id": ident}


def _verifiable(op: Operation) -> bool:
    """Whether ``op.check`` tells its effect apart (a bare "exists" only does for a create)."""
    check = op.check
    if check is None:
        return False
    return op.creates or check.absent or check.contains is not None or check.excludes is not None


def _stopped(rec: OpRecord, *, sent: bool) -> _Outcome:
    """The run stopped before this operation's request got a permit (or after one was sent)."""
    if sent:
        message = "interrupted after a request was sent: its state is read on resume"
        return _Outcome(OpStatus.IN_FLIGHT, {"message": message})
    # Nothing left: the row goes back to what it was before this session took it.
    return _Outcome(
        rec.status,
        {
            "attempts": rec.attempts,
            "before": rec.before,
            "sent_body": rec.sent_body,
            "fingerprint": None if rec.status == OpStatus.PLANNED else rec_fingerprint(rec),
        },
    )


def rec_fingerprint(rec: OpRecord) -> str | None:
    """The fingerprint of the body ``rec`` last sent (None when it sent none)."""
    if rec.sent_body is None:
        return None
    return fingerprint(rec.op.method, rec.op.path, rec.sent_body)


def _classify(exc: ApiError) -> OpStatus:
    if isinstance(exc, (ValidationError, NotFoundError)):
        return OpStatus.FAILED_PERM
    if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
        return OpStatus.FAILED_PERM
    return OpStatus.FAILED_TEMP


def _failure(
    status: OpStatus,
    exc: ApiError,
    *,
    retry: bool = False,
    before: Any = None,
    error: str | None = None,
) -> _Outcome:
    fields: dict[str, Any] = {
        "http_status": exc.status,
        "error": error or type(exc).__name__,
        "message": str(exc),
        "response_id": exc.request_id,
    }
    if before is not None:
        fields["before"] = before
    return _Outcome(status, fields, retry=retry)
