"""Helpers of the job tests; the fake ReadContext and ``plan_job`` are ``bulkops.testing``'s."""

from __future__ import annotations

from typing import Any

from bulkops.run.job import Operation, Skip
from bulkops.testing import FakeReadContext, plan_job

__all__ = ["FakeReadContext", "gate", "operations", "plan_job", "skips"]


def operations(steps: list[Operation | Skip]) -> list[Operation]:
    return [s for s in steps if isinstance(s, Operation)]


def skips(steps: list[Operation | Skip]) -> list[Skip]:
    return [s for s in steps if isinstance(s, Skip)]


def gate(gate_id: str, **fields: Any) -> dict[str, Any]:
    """A gate shaped like GET /gates/{id}."""
    data: dict[str, Any] = {
        "id": gate_id,
        "name": gate_id,
        "description": "",
        "idType": "userID",
        "type": "TEMPORARY",
        "typeReason": "NONE",
        "status": "In Progress",
        "isEnabled": True,
        "tags": [],
        "rules": [],
        "lastModifiedTime": 1_700_000_000_000,
        "holdoutIDs": [],
    }
    data.update(fields)
    return data


def segment(segment_id: str, **fields: Any) -> dict[str, Any]:
    """A rule-based segment shaped like GET /segments/{id} (no rules unless given)."""
    data: dict[str, Any] = {
        "id": segment_id,
        "name": segment_id,
        "type": "rule_based",
        "idType": "userID",
        "rules": [],
        "description": "",
    }
    data.update(fields)
    return data
