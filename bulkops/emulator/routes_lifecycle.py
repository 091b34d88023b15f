"""Lifecycle endpoints (``PUT /console/v1/{kind}/{id}/{action}``) as the spec lists them.

gates: archive, unarchive, enable, disable, launch · dynamic_configs: archive, unarchive,
enable, disable · segments: archive · experiments: start, abandon, archive, unarchive, reset,
make_decision. Experiments answer ``{"message"}`` only (per the spec); the others the entity.
Starting an experiment that is not in ``setup`` is a 400, as on the service, so a blind retry
of ``start`` is visible.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .kinds import KINDS, Kind
from .replies import ApiProblem, json_reply
from .routes_entities import API_PREFIX, entity_or_404, project_of, read_json
from .store import now_ms

__all__ = ["add_lifecycle_routes"]

Handler = Callable[[web.Request], Awaitable[web.Response]]
Effect = Callable[[dict[str, Any], dict[str, Any]], None]

# Accepted body fields per action, and those required (derived from the spec's request bodies).
_BODIES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "archive": (frozenset({"forceArchive", "archiveReason"}), ()),
    "unarchive": (frozenset({"unarchiveReason"}), ()),
    "start": (frozenset({"analysisStartTime", "analysisEndTime"}), ()),
    "abandon": (frozenset({"decisionReason"}), ("decisionReason",)),
    "make_decision": (
        frozenset({"id", "decisionReason", "removeTargeting"}),
        ("id", "decisionReason"),
    ),
}
_BOOLEANS = frozenset({"forceArchive", "removeTargeting"})


def _gate_like(action: str) -> Effect:
    def effect(entity: dict[str, Any], body: dict[str, Any]) -> None:
        if action == "archive":
            entity.update(status="Archived", isEnabled=False)
        elif action == "unarchive":
            entity.update(status="In Progress")
        elif action == "enable":
            entity.update(isEnabled=True)
        elif action == "disable":
            entity.update(isEnabled=False)
        elif action == "launch":
            entity.update(status="Launched", isEnabled=True)

    return effect


def _experiment(action: str) -> Effect:
    def effect(entity: dict[str, Any], body: dict[str, Any]) -> None:
        status = entity.get("status")
        if action == "start":
            if status != "setup":
                raise ApiProblem(
                    400,
                    f"Experiment {entity['id']} cannot be started: its status "
                    f"is {status}, not setup.",
                )
            entity.update(status="active", startTime=now_ms())
        elif action == "abandon":
            entity.update(
                status="abandoned",
                decisionReason=body["decisionReason"],
                decisionTime=now_ms(),
                endTime=now_ms(),
            )
        elif action == "make_decision":
            groups = {g.get("id") or g.get("name") for g in entity.get("groups") or ()}
            if body["id"] not in groups:
                raise ApiProblem(400, f"Group {body['id']} is not a group of {entity['id']}.")
            entity.update(
                status="decision_made",
                launchedGroupID=body["id"],
                decisionReason=body["decisionReason"],
                decisionTime=now_ms(),
            )
        elif action == "archive":
            entity.update(status="archived")
        elif action == "unarchive":
            entity.update(status="decision_made" if entity.get("decisionTime") else "setup")
        elif action == "reset":
            entity.update(
                status="setup",
                startTime=None,
                endTime=None,
                decisionTime=None,
                decisionReason=None,
                launchedGroupID=None,
            )

    return effect


def _segment(action: str) -> Effect:
    def effect(entity: dict[str, Any], body: dict[str, Any]) -> None:
        entity["isEnabled"] = False

    return effect


def _check(action: str, body: Any) -> dict[str, Any]:
    allowed, required = _BODIES.get(action, (frozenset(), ()))
    if not isinstance(body, dict):
        raise ApiProblem(400, "body must be a JSON object")
    errors = [f"property {k} should not exist" for k in body if k not in allowed]
    errors += [f"{k} should not be empty" for k in required if k not in body]
    errors += [
        f"{k} must be {'a boolean value' if k in _BOOLEANS else 'a string'}"
        for k, v in body.items()
        if k in allowed and not isinstance(v, bool if k in _BOOLEANS else str)
    ]
    if errors:
        raise ApiProblem(400, "; ".join(errors))
    return body


def _route(kind: Kind, action: str, effect: Effect) -> Handler:
    past = {
        "start": "started",
        "abandon": "abandoned",
        "reset": "reset",
        "make_decision": "decided",
        "launch": "launched",
    }.get(action, action + "d")

    async def handler(request: web.Request) -> web.Response:
        project = project_of(request)
        entity = entity_or_404(project, kind, request.match_info["id"])
        body = _check(action, await read_json(request, allow_empty=True))
        effect(entity, body)
        project.touch(entity)
        payload: dict[str, Any] = {"message": f"{kind.singular} {past} successfully."}
        if kind.name != "experiments":
            payload["data"] = entity
        return json_reply(payload)

    return handler


def add_lifecycle_routes(app: web.Application) -> None:
    """Register ``PUT /{kind}/{id}/{action}`` for every action each kind declares."""
    makers = {"experiments": _experiment, "segments": _segment}
    for kind in KINDS.values():
        make = makers.get(kind.name, _gate_like)
        for action in kind.lifecycle:
            app.router.add_put(
                f"{API_PREFIX}/{kind.name}/{{id}}/{action}", _route(kind, action, make(action))
            )
