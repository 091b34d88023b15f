"""How the journal stores values: JSON bytes, and ``OpRecord``, one operation row read back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from bulkops.redaction import SECRETS
from bulkops.run.job import Operation
from bulkops.run.states import OpStatus

__all__ = ["OpRecord", "dumps", "dumps_listed", "loads", "record_from_row"]


def dumps(value: Any) -> bytes:
    """A value as the journal stores it (JSON bytes), without any secret of the process."""
    return SECRETS.redact_bytes(orjson.dumps(value))


def dumps_listed(value: Any) -> bytes:
    """A listed item's data as the journal stores it: the server's JSON, not searched for
    secrets (the bulk of a journal; searching it would double the cost of freezing a list)."""
    return orjson.dumps(value)


def loads(value: bytes | str | None) -> Any:
    """A stored value back (None stays None)."""
    return None if value is None else orjson.loads(value)


@dataclass(frozen=True)
class OpRecord:
    """One operation row: the frozen ``Operation`` plus what happened to it."""

    seq: int
    op: Operation
    status: OpStatus
    attempts: int = 0
    before: Any = None
    sent_body: Any = None
    http_status: int | None = None
    error: str | None = None
    message: str | None = None
    response_id: str | None = None
    guard: Any = None


def record_from_row(row: tuple[Any, ...]) -> OpRecord:
    """An ``OpRecord`` from the columns seq, op, status, attempts, before, sent_body,
    http_status, error, message, response_id, guard."""
    seq, op, status, attempts, before, sent, http, error, message, rid, guard = row
    return OpRecord(
        seq,
        Operation.from_dict(loads(op)),
        OpStatus(status),
        attempts,
        loads(before),
        loads(sent),
        http,
        error,
        message,
        rid,
        loads(guard),
    )
