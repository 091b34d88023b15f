"""Helpers of the job tests: a small in-memory ReadContext shaped like the Console API."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bulkops.run.job import Item, Job, Operation, Skip


class FakeNotFound(Exception):
    """A 404, as the client raises it."""

    status = 404


@dataclass
class FakeReadContext:
    """Projects of entities by kind, plus extra documents by path (``/gates/g1/overrides``)."""

    entities: dict[str, dict[str, dict[str, dict[str, Any]]]] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def add(self, kind: str, *entities: Mapping[str, Any], project: str = "source") -> None:
        store = self.entities.setdefault(project, {}).setdefault(kind, {})
        for entity in entities:
            store[str(entity["id"])] = copy.deepcopy(dict(entity))

    def put(self, path: str, data: Any, *, project: str = "source") -> None:
        self.documents[f"{project}:{path}"] = copy.deepcopy(data)

    async def get(self, path: str, *, project: str = "source", **params: Any) -> Any:
        self.reads.append(f"{project}:{path}")
        key = f"{project}:{path}"
        if key in self.documents:
            return copy.deepcopy(self.documents[key])
        parts = path.strip("/").split("/")
        if len(parts) == 2:
            entity = self.entities.get(project, {}).get(parts[0], {}).get(parts[1])
            if entity is not None:
                return copy.deepcopy(entity)
        raise FakeNotFound(f"GET {path}: 404")

    async def list(
        self, kind: str, *, project: str = "source", **filters: Any
    ) -> AsyncIterator[dict]:
        for entity in list(self.entities.get(project, {}).get(kind, {}).values()):
            if all(_filter_matches(entity.get(k), v) for k, v in filters.items()):
                yield copy.deepcopy(entity)


def _filter_matches(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, list):
        return str(wanted) in [str(a) for a in actual]
    return str(actual) == str(wanted)


async def plan_job(job: Job, ctx: FakeReadContext) -> list[Operation | Skip]:
    """Prepare, list every source and plan, as the runner does (without the journal)."""
    await job.prepare(ctx)
    items: list[Item] = []
    for source in job.sources():
        async for data in ctx.list(source.kind, project=source.project, **dict(source.filters)):
            items.append(Item(source.kind, str(data["id"]), data, source.project))

    async def stream() -> AsyncIterator[Item]:
        for item in items:
            yield item

    return [step async for step in job.plan(stream(), ctx)]


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
