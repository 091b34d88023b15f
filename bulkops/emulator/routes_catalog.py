"""Read-mostly lists: metrics (``GET /metrics/list``), tags and target apps; project info.

Enough for jobs that read them (tags to filter, metrics to copy experiments): tags and target
apps can be created and deleted; metrics come from a snapshot (``load``). A create's
``description`` is required but may be empty, as the spec has it (no minimum length); the ID
is the server's own, opaque (as the spec's examples, ``"string"``, ``"Example ID"``, suggest),
so a client must take it from the create's response or find the entry by name. Entities may
name tags and target apps the project does not define: neither the spec nor the service is
known to refuse it, so the emulator does not either.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .replies import ApiProblem, json_reply, page_params, paged_reply
from .routes_entities import API_PREFIX, project_of, read_json
from .state import STATE_KEY

__all__ = ["add_catalog_routes"]

Handler = Callable[[web.Request], Awaitable[web.Response]]

_CREATE: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "tags": (frozenset({"name", "description", "isCore"}), ("name", "description")),
    "target_apps": (
        frozenset({"name", "description", "gates", "dynamicConfigs", "experiments"}),
        ("name", "description"),
    ),
}


def _list(table: str, label: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        items = project_of(request).catalog[table]
        page, limit = page_params(request.query, request.app[STATE_KEY].config.page_cap)
        return paged_reply(
            iter(items.values()),
            len(items),
            page,
            limit,
            request.path,
            f"{label} listed successfully.",
            request.query,
        )

    return handler


def _read(table: str, label: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        item = project_of(request).catalog[table].get(request.match_info["id"])
        if item is None:
            raise ApiProblem(404, f"{label} {request.match_info['id']} not found.")
        return json_reply({"message": f"{label} read successfully.", "data": item})

    return handler


def _create(table: str, label: str) -> Handler:
    allowed, required = _CREATE[table]

    async def handler(request: web.Request) -> web.Response:
        project = project_of(request)
        body = await read_json(request)
        if not isinstance(body, dict):
            raise ApiProblem(400, "body must be a JSON object")
        errors = [f"property {k} should not exist" for k in body if k not in allowed]
        errors += [f"{k} must be a string" for k in required if not isinstance(body.get(k), str)]
        if not errors and not str(body["name"]).strip():
            errors.append("name should not be empty")
        if errors:
            raise ApiProblem(400, "; ".join(errors))
        entries = project.catalog[table]
        if any(entry.get("name") == body["name"] for entry in entries.values()):
            raise ApiProblem(400, f"{label} {body['name']!r} already exists in this project.")
        item_id = secrets.token_urlsafe(15)
        item: dict[str, Any] = {"id": item_id, "name": body["name"]}
        if table == "tags":
            item.update(description=body["description"], isCore=bool(body.get("isCore", False)))
        project.catalog[table][item_id] = item
        return json_reply({"message": f"{label} created successfully", "data": item})

    return handler


def _delete(table: str, label: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        item_id = request.match_info["id"]
        if project_of(request).catalog[table].pop(item_id, None) is None:
            raise ApiProblem(404, f"{label} {item_id} not found.")
        return json_reply({"message": f"{label} deleted successfully"})

    return handler


async def _project_info(request: web.Request) -> web.Response:
    """``GET /project``: the key's project (``ExternalProjectDto``: its id)."""
    project = project_of(request)
    return json_reply(
        {"message": "Project Info Retrieved Successfully", "data": {"id": project.id}}
    )


def add_catalog_routes(app: web.Application) -> None:
    """Register project info, metrics, tags and target-app routes."""
    app.router.add_get(f"{API_PREFIX}/project", _project_info)
    app.router.add_get(f"{API_PREFIX}/metrics/list", _list("metrics", "Metrics"))
    app.router.add_get(f"{API_PREFIX}/metrics/{{id}}", _read("metrics", "Metric"))
    app.router.add_get(f"{API_PREFIX}/tags", _list("tags", "Tags"))
    app.router.add_post(f"{API_PREFIX}/tags", _create("tags", "Tag"))
    app.router.add_get(f"{API_PREFIX}/tags/{{id}}", _read("tags", "Tag"))
    app.router.add_delete(f"{API_PREFIX}/tags/{{id}}", _delete("tags", "Tag"))
    app.router.add_get(f"{API_PREFIX}/target_app", _list("target_apps", "Target apps"))
    app.router.add_post(f"{API_PREFIX}/target_app", _create("target_apps", "Target app"))
    app.router.add_get(f"{API_PREFIX}/target_app/{{id}}", _read("target_apps", "Target app"))
    app.router.add_delete(f"{API_PREFIX}/target_app/{{id}}", _delete("target_apps", "Target app"))
