"""Admin endpoints for tests and benchmarks, under ``/_emulator`` (NOT part of the Console API).

No API key; the emulator listens on loopback. Routes:

- ``GET /_emulator/health``             ``{"ok": true}``
- ``GET /_emulator/stats``              counters by method/status, 429s, max in flight, windows
- ``POST /_emulator/stats/reset``       zero the counters and clear the mutation log
- ``GET /_emulator/mutations``          the mutation log (``?since=SEQ&project=NAME``)
- ``GET|PUT|DELETE /_emulator/faults``  read, replace (a :class:`FaultPlan` as JSON), clear
- ``POST /_emulator/faults/scripted``   append one :class:`ScriptedFault` (JSON)
- ``GET|PUT /_emulator/state``          dump / load a snapshot (see :mod:`.snapshot`)
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from .faults import FaultPlan, ScriptedFault
from .replies import error_reply, json_reply
from .snapshot import dump_snapshot, load_snapshot
from .state import STATE_KEY, EmulatorState

__all__ = ["ADMIN_PREFIX", "add_admin_routes", "emulator_stats"]

ADMIN_PREFIX = "/_emulator"


def emulator_stats(state: EmulatorState) -> dict[str, Any]:
    """The snapshot served by ``GET /_emulator/stats`` and ``RunningEmulator.stats()``."""
    stats = state.activity.statistics()
    stats["faults_injected"] = dict(state.faults.injected)
    stats["projects"] = {
        name: {
            "entities": project.counts(),
            "windows": [vars(w) for w in state.limiters[name].statistics()],
            "rate_limited": state.limiters[name].refused,
        }
        for name, project in state.store.projects.items()
    }
    return stats


async def _json_body(request: web.Request) -> Any:
    raw = await request.read()
    return orjson.loads(raw) if raw.strip() else {}


async def _health(request: web.Request) -> web.Response:
    return json_reply({"ok": True})


async def _stats(request: web.Request) -> web.Response:
    return json_reply(emulator_stats(request.app[STATE_KEY]))


async def _reset_stats(request: web.Request) -> web.Response:
    request.app[STATE_KEY].activity.reset()
    return json_reply({"ok": True})


async def _mutations(request: web.Request) -> web.Response:
    since = int(request.query.get("since", "0"))
    project = request.query.get("project")
    records = [
        r.to_dict()
        for r in request.app[STATE_KEY].activity.mutations
        if r.seq > since and (project is None or r.project == project)
    ]
    return json_reply({"mutations": records})


async def _faults(request: web.Request) -> web.Response:
    injector = request.app[STATE_KEY].faults
    try:
        if request.method == "PUT":
            injector.set_plan(FaultPlan.from_dict(await _json_body(request)))
        elif request.method == "DELETE":
            injector.set_plan(None)
        elif request.method == "POST":
            injector.add_scripted(ScriptedFault(**await _json_body(request)))
    except (TypeError, ValueError) as exc:
        return error_reply(400, f"bad fault settings: {exc}")
    return json_reply(injector.plan.to_dict())


async def _state(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    if request.method == "PUT":
        try:
            load_snapshot(state.store, await _json_body(request))
        except (ValueError, KeyError, TypeError) as exc:
            return error_reply(400, f"bad snapshot: {exc}")
    return json_reply(dump_snapshot(state.store))


def add_admin_routes(app: web.Application) -> None:
    """Register the ``/_emulator`` routes."""
    app.router.add_get(f"{ADMIN_PREFIX}/health", _health)
    app.router.add_get(f"{ADMIN_PREFIX}/stats", _stats)
    app.router.add_post(f"{ADMIN_PREFIX}/stats/reset", _reset_stats)
    app.router.add_get(f"{ADMIN_PREFIX}/mutations", _mutations)
    for method in ("GET", "PUT", "DELETE"):
        app.router.add_route(method, f"{ADMIN_PREFIX}/faults", _faults)
    app.router.add_post(f"{ADMIN_PREFIX}/faults/scripted", _faults)
    for method in ("GET", "PUT"):
        app.router.add_route(method, f"{ADMIN_PREFIX}/state", _state)
