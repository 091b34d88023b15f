"""CRUD of the six kinds: list (filters, pagination), read, create, full/partial update, delete.

Paths per console-v1.json: ``GET|POST /console/v1/{kind}``,
``GET|POST|PATCH|DELETE /console/v1/{kind}/{id}`` (segments: no update, as in the spec).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from aiohttp import web

from .kinds import KINDS, Kind, id_from_name, new_entity
from .replies import ApiProblem, json_reply, page_params, page_payload
from .state import PROJECT_KEY, RAW_BODY_KEY, STATE_KEY
from .store import VERSIONED_KINDS, Project
from .validation import check_body, check_references

__all__ = ["API_PREFIX", "add_entity_routes", "entity_or_404", "project_of", "read_json"]

API_PREFIX = "/console/v1"
_NAME = re.compile(r"^[a-zA-Z0-9_\-. ]*$")
_ID = re.compile(r"^[a-zA-Z0-9_\-.]*$")

Handler = Callable[[web.Request], Any]


def project_of(request: web.Request) -> Project:
    """The project the request's API key belongs to (set by the auth middleware)."""
    return request[PROJECT_KEY]


async def read_json(request: web.Request, *, allow_empty: bool = False) -> Any:
    """The parsed body; a 400 with the parser's complaint when it is not JSON."""
    raw = await request.read()
    request[RAW_BODY_KEY] = raw
    if not raw.strip():
        if allow_empty:
            return {}
        raise ApiProblem(400, "Request body is empty: send a JSON object")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiProblem(400, f"Request body is not valid JSON: {exc}") from None


def entity_or_404(project: Project, kind: Kind, entity_id: str) -> dict[str, Any]:
    entity = project.get(kind.name, entity_id)
    if entity is None:
        raise ApiProblem(404, f"{kind.singular} {entity_id} not found.")
    return entity


def _bucket(rules: list[dict[str, Any]]) -> str:
    """A gate's pass/rollout rate as the list filter names it: ``0``, ``100``, ``INBETWEEN``."""
    rates = {rule.get("passPercentage") for rule in rules} or {0}
    if rates == {0}:
        return "0"
    return "100" if rates == {100} else "INBETWEEN"


def _matches(entity: dict[str, Any], filters: list[tuple[str, list[str]]]) -> bool:
    for name, wanted in filters:
        if name == "tags":
            if not set(entity.get("tags") or ()) & set(wanted):
                return False
        elif name in ("passRate", "rolloutRate"):
            if _bucket(entity.get("rules") or []) not in wanted:
                return False
        elif str(entity.get(name)) not in wanted:
            return False
    return True


_PAGE_CACHE_SIZE = 512


def _list(kind: Kind) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        project = project_of(request)
        cached = project.page_cache.get(request.path_qs)
        if cached is not None:
            return web.Response(body=cached, content_type="application/json", charset="utf-8")
        page, limit = page_params(request.query, request.app[STATE_KEY].config.page_cap)
        filters = [
            (name, request.query.getall(name)) for name in kind.filters if name in request.query
        ]
        items: Iterator[dict[str, Any]]
        if filters:
            matches = [e for e in project.iter(kind.name) if _matches(e, filters)]
            total, items = len(matches), iter(matches)
        else:
            total, items = len(project.entities[kind.name]), project.iter(kind.name)
        body = orjson.dumps(
            page_payload(
                items, total, page, limit, request.path, kind.message("listed"), request.query
            )
        )
        if len(project.page_cache) >= _PAGE_CACHE_SIZE:
            project.page_cache.clear()
        project.page_cache[request.path_qs] = body
        return web.Response(body=body, content_type="application/json", charset="utf-8")

    return handler


def _read(kind: Kind) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        entity = entity_or_404(project_of(request), kind, request.match_info["id"])
        return json_reply({"message": kind.message("read"), "data": entity})

    return handler


def _check_identity(kind: Kind, body: dict[str, Any], project: Project) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiProblem(400, "name should not be empty; name must be a string")
    if not _NAME.match(name):
        raise ApiProblem(400, "name must only contain letters, digits, spaces and _-.")
    entity_id = body.get("id") or id_from_name(name)
    if not _ID.match(entity_id):
        raise ApiProblem(400, "id must only contain letters, digits and _-.")
    if project.exists(kind.name, entity_id):
        raise ApiProblem(
            400,
            f"A {kind.singular.lower()} named {name!r} (id {entity_id}) "
            "already exists in this project.",
        )
    return entity_id


def _stamp_rules(project: Project, body: dict[str, Any]) -> None:
    if isinstance(body.get("rules"), list):
        body["rules"] = [project.stamp_rule(rule, keep_id=True) for rule in body["rules"]]


def _create(kind: Kind) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        project = project_of(request)
        body = await read_json(request)
        check_body(body, kind.body, "create")
        entity_id = _check_identity(kind, body, project)
        check_references(body, kind.references, project.exists)
        _stamp_rules(project, body)
        author = project.author()
        entity = new_entity(kind, body, entity_id, author, author["lastModifiedTime"])
        project.entities[kind.name][entity_id] = entity
        project.record_version(kind.name, entity)
        if kind.name == "holdouts":
            sync_holdout_links(project)
        return json_reply({"message": kind.message("created"), "data": entity}, kind.create_status)

    return handler


def _update(kind: Kind, operation: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        project = project_of(request)
        entity = entity_or_404(project, kind, request.match_info["id"])
        body = await read_json(request)
        check_body(body, kind.body, operation)
        check_references(body, kind.references, project.exists)
        _stamp_rules(project, body)
        entity.update(body)
        project.touch(entity)
        if kind.name == "holdouts":
            sync_holdout_links(project)
        return json_reply({"message": kind.message("updated"), "data": entity})

    return handler


def _delete(kind: Kind) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        project = project_of(request)
        entity_or_404(project, kind, request.match_info["id"])
        entity = project.delete(kind.name, request.match_info["id"])
        payload: dict[str, Any] = {"message": kind.message("deleted")}
        if kind.name in ("holdouts", "experiments"):  # the spec answers the deleted entity
            payload["data"] = entity
        if kind.name == "holdouts":
            sync_holdout_links(project)
        return json_reply(payload)

    return handler


def sync_holdout_links(project: Project) -> None:
    """Keep ``holdoutIDs`` of gates, experiments and layers in step with the holdouts."""
    linked: dict[tuple[str, str], list[str]] = {}
    for h in project.iter("holdouts"):
        for kind, field_name in (
            ("gates", "gateIDs"),
            ("experiments", "experimentIDs"),
            ("layers", "layerIDs"),
        ):
            for target in h.get(field_name) or ():
                linked.setdefault((kind, target), []).append(h["id"])
    for kind in ("gates", "experiments", "layers"):
        for entity in project.iter(kind):
            wanted = linked.get((kind, entity["id"]), [])
            if entity.get("holdoutIDs", []) != wanted:
                entity["holdoutIDs"] = wanted


def _versions(kind: Kind) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        project = project_of(request)
        entity = entity_or_404(project, kind, request.match_info["id"])
        page, limit = page_params(request.query, request.app[STATE_KEY].config.page_cap)
        # Entities loaded from a snapshot have no recorded past: their one version is now.
        stored = project.versions.get((kind.name, entity["id"])) or [orjson.dumps(entity)]
        newest_first = (orjson.loads(v) for v in reversed(stored))
        payload = page_payload(
            newest_first,
            len(stored),
            page,
            limit,
            request.path,
            f"{kind.singular} versions listed successfully.",
            request.query,
        )
        return json_reply(payload)

    return handler


def add_entity_routes(app: web.Application) -> None:
    """Register the CRUD routes of every kind."""
    for kind in KINDS.values():
        base = f"{API_PREFIX}/{kind.name}"
        app.router.add_get(base, _list(kind))
        app.router.add_post(base, _create(kind))
        app.router.add_get(base + "/{id}", _read(kind))
        if kind.name in VERSIONED_KINDS:
            app.router.add_get(base + "/{id}/versions", _versions(kind))
        if kind.body.update:
            app.router.add_post(base + "/{id}", _update(kind, "full"))
            app.router.add_patch(base + "/{id}", _update(kind, "partial"))
        app.router.add_delete(base + "/{id}", _delete(kind))
