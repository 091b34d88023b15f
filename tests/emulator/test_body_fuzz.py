"""No body makes the emulator answer 500: every write route, every ill-typed or missing body.

A table test rather than hypothesis (not a dependency): each write route the app registers
(found from its router, so new routes are covered without editing this file) gets a fixed set
of malformed bodies, and each create/update body field gets every wrong JSON type. Anything
but a 5xx is fine here; the other test files pin the exact 400s.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
import orjson
import pytest

from bulkops.emulator.app import build_app
from bulkops.emulator.fields import BODIES
from bulkops.emulator.state import EmulatorState
from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = pytest.mark.timeout(60)

ROOT_BODIES: list[Any] = [
    None,
    {},
    [],
    "text",
    7,
    True,
    {"name": None},
    {"name": 5},
    {"name": ["x"]},
    {"id": 3, "name": "ok name"},
    {"rules": "x"},
    {"rules": [1]},
    {"rules": [{"conditions": "x"}]},
    {"rules": [{"name": "r", "passPercentage": 1, "conditions": [1, {"type": 3}]}]},
    {"ids": 3},
    {"ids": [1, None]},
    {"ids": "u1"},
    {"overrides": [1], "userIDOverrides": [{"groupID": "g", "ids": 5}]},
    {"passingUserIDs": "u", "failingUserIDs": None},
    {"environmentOverrides": [1, {"unitID": 2}]},
    {"decisionReason": 5, "id": []},
    {"conditions": [{"type": "passes_gate", "targetValue": {"a": 1}}]},
    [{"name": "r", "passPercentage": "x", "conditions": [{"type": "user_id"}]}],
    [{"name": "r", "passPercentage": 1, "conditions": "x"}],
    [1, None],
    {"ids": ["a"], "version": True},
]
WRONG_VALUES: list[Any] = [None, 1, 1.5, True, "s", [], [1], {}, {"a": None}]


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(mutation_limits=((1_000_000, 1.0),))


def _write_routes() -> list[tuple[str, str]]:
    app = build_app(EmulatorState(EmulatorConfig()))
    routes = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path")
        if route.method in ("POST", "PATCH", "PUT", "DELETE") and path.startswith("/console/"):
            routes.append((route.method, path))
    return routes


def _concrete(path: str) -> str:
    kind = path.split("/")[3]
    entity = {
        "gates": "g_one",
        "dynamic_configs": "cfg_one",
        "segments": "seg_one",
        "layers": "layer_one",
        "experiments": "exp_one",
        "holdouts": "h_one",
    }.get(kind, "x")
    if path.endswith(("/add_ids", "/remove_ids")):
        entity = "seg_store"
    elif path.endswith("/conditional"):
        entity = "seg_rules"
    return re.sub(r"\{(ruleID|ruleId|reviewID)\}", "rule0", path.replace("{id}", entity))


async def _fresh_state(session: aiohttp.ClientSession, emulator: RunningEmulator) -> None:
    emulator.load({"format": "bulkops-snapshot/1", "projects": {"default": {"entities": {}}}})
    rule = {"id": "rule0", "name": "r", "passPercentage": 5, "conditions": [{"type": "public"}]}
    for path, body in (
        ("/segments", {"name": "seg one", "type": "id_list"}),
        ("/segments", {"name": "seg store", "type": "user_store_id_list"}),
        ("/segments", {"name": "seg rules", "type": "rule_based"}),
        ("/gates", {"name": "g one", "rules": [rule]}),
        ("/dynamic_configs", {"name": "cfg one", "rules": [rule]}),
        ("/layers", {"name": "layer one", "idType": "userID"}),
        ("/experiments", {"name": "exp_one", "groups": [{"name": "a", "size": 100}]}),
        ("/holdouts", {"name": "h one"}),
    ):
        async with session.post(emulator.base_url + path, json=body) as reply:
            assert reply.status in (200, 201), await reply.text()


async def _send(session: aiohttp.ClientSession, method: str, url: str, body: Any) -> int:
    data = b"" if body is None else orjson.dumps(body)
    async with session.request(method, url, data=data) as reply:
        await reply.read()
        return reply.status


@pytest.mark.anyio
async def test_no_malformed_body_gets_a_500(emulator: RunningEmulator) -> None:
    headers = {"STATSIG-API-KEY": emulator.api_key(), "Content-Type": "application/json"}
    failures = []
    async with aiohttp.ClientSession(headers=headers) as session:
        for method, path in _write_routes():
            await _fresh_state(session, emulator)
            url = emulator.base_url + _concrete(path)[len("/console/v1") :]
            statuses = await asyncio.gather(*(_send(session, method, url, b) for b in ROOT_BODIES))
            failures += [
                f"{method} {path} {body!r} -> {status}"
                for body, status in zip(ROOT_BODIES, statuses, strict=True)
                if status >= 500
            ]
    assert not failures, "\n".join(failures[:20])


@pytest.mark.anyio
async def test_no_ill_typed_field_gets_a_500(emulator: RunningEmulator) -> None:
    headers = {"STATSIG-API-KEY": emulator.api_key(), "Content-Type": "application/json"}
    failures = []
    async with aiohttp.ClientSession(headers=headers) as session:
        await _fresh_state(session, emulator)
        for kind, spec in BODIES.items():
            entity = _concrete(f"/console/v1/{kind}/{{id}}")[len("/console/v1") :]
            for field_name in sorted(spec.fields):
                create = {"name": "fuzz thing"}
                cases = [("POST", f"/{kind}", {**create, field_name: v}) for v in WRONG_VALUES]
                cases += [("PATCH", entity, {field_name: v}) for v in WRONG_VALUES]
                statuses = await asyncio.gather(
                    *(_send(session, m, emulator.base_url + p, b) for m, p, b in cases)
                )
                failures += [
                    f"{m} {p} {b!r} -> {s}"
                    for (m, p, b), s in zip(cases, statuses, strict=True)
                    if s >= 500
                ]
            await _fresh_state(session, emulator)
    assert not failures, "\n".join(failures[:20])


def test_create_without_a_name_is_a_400_with_a_message(emulator: RunningEmulator) -> None:
    from emulator_http import Api

    api = Api(emulator)
    for kind in ("gates", "dynamic_configs", "segments", "experiments", "holdouts", "layers"):
        reply = api.post(f"/{kind}", {})
        assert reply.status == 400, (kind, reply.body)
        assert "name" in reply.body["message"]
