"""An in-memory stand-in for ``ConsoleClient`` (request/paginate/budget) for runner unit tests.

It knows gates (with rules) and holdouts, counts every mutation, and can be told to fail
(`fail_next`) or to lose the response of an applied request (`lose_next`).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncGenerator
from typing import Any

from bulkops.api.budget import MutationBudget
from bulkops.api.errors import (
    AuthError,
    NotFoundError,
    OutcomeUnknownError,
    ServerError,
    ValidationError,
)


class FakeBudget(MutationBudget):
    """A real budget (no limits that matter here) with a predictable ETA: n / 10 seconds."""

    def eta(self, n: int) -> float:
        return n / 10.0


class FakeConsole:
    base_url = "http://fake.invalid/console/v1"

    def __init__(self) -> None:
        self.gates: dict[str, dict[str, Any]] = {}
        self.holdouts: dict[str, dict[str, Any]] = {}
        self.mutations: list[tuple[str, str, Any]] = []
        self.budget = FakeBudget()
        self.fail_next: dict[tuple[str, str], Exception] = {}
        self.lose_next: set[tuple[str, str]] = set()
        self.reject_key = False

    async def paginate(self, kind: str, **filters: Any) -> AsyncGenerator[dict, None]:
        store = {"gates": self.gates, "holdouts": self.holdouts}[kind]
        for entity in list(store.values()):
            if all(str(entity.get(k)) == v for k, v in filters.items()):
                yield copy.deepcopy(entity)

    async def request(self, method: str, path: str, json: Any = None, *, params: Any = None) -> Any:
        if self.reject_key:
            raise AuthError("API key rejected (401)", status=401, method=method, path=path)
        if (method, path) in self.fail_next:
            raise self.fail_next.pop((method, path))
        parts = path.strip("/").split("/")
        store = {"gates": self.gates, "holdouts": self.holdouts}[parts[0]]
        if method == "GET":
            if len(parts) < 2 or parts[1] not in store:
                raise NotFoundError("not found", status=404, method=method, path=path)
            return copy.deepcopy(store[parts[1]])
        self.mutations.append((method, path, copy.deepcopy(json)))
        result = self._mutate(store, method, parts, json, path)
        if (method, path) in self.lose_next:
            self.lose_next.discard((method, path))
            raise OutcomeUnknownError(
                "connection reset after sending",
                method=method,
                path=path,
                cause=ServerError("reset", status=None),
            )
        return result

    def _mutate(self, store: dict, method: str, parts: list[str], json: Any, path: str) -> Any:
        if method == "POST" and len(parts) == 1:
            if json["id"] in store:
                raise ValidationError("already exists", status=400, method=method, path=path)
            store[json["id"]] = {"rules": [], "description": "", **json}
            return store[json["id"]]
        entity = store.get(parts[1])
        if entity is None:
            raise NotFoundError("not found", status=404, method=method, path=path)
        if method == "POST" and parts[2:] == ["rules"]:
            entity["rules"].append(json)
        elif method == "PATCH":
            entity.update(json)
        elif method == "DELETE":
            del store[parts[1]]
        return entity
