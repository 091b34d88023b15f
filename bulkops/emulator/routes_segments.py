"""Segment contents: id lists and rule-based conditions, per console-v1.json.

- ``GET /segments/{id}/id_list`` (paged ``{name, count, ids}``), ``PATCH`` adds IDs,
  ``DELETE`` removes them, ``POST /segments/{id}/id_list/reset`` replaces them: ``id_list``
  segments only (``{"ids": [...]}``, at most 100,000 per call).
- ``PATCH /segments/{id}/add_ids`` and ``/remove_ids``: ``user_store_id_list`` segments only
  (at most 1,000 per call; an optional ``version`` must equal the list's current version,
  the service's guard against concurrent edits). ``GET /segments/{id}/idlist_metadata``
  tells the version.
- ``POST /segments/{id}/conditional``: replace the rules of a ``rule_based`` segment (the body
  is the array of rules; condition types limited to those the spec allows for segments).

Each edit of a list bumps its version and sets the segment's ``count``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .kinds import KINDS
from .replies import ApiProblem, json_reply, page_params, page_payload
from .routes_entities import API_PREFIX, entity_or_404, project_of, read_json
from .state import STATE_KEY
from .store import Project
from .validation import check_references, rule_errors

__all__ = ["SEGMENT_CONDITION_TYPES", "add_segment_routes"]

Handler = Callable[[web.Request], Awaitable[web.Response]]
SEGMENTS = KINDS["segments"]
SEGMENT_CONDITION_TYPES = frozenset(
    [
        "app_version",
        "browser_name",
        "browser_version",
        "country",
        "custom_field",
        "email",
        "environment_tier",
        "fails_segment",
        "ip_address",
        "os_name",
        "os_version",
        "passes_segment",
        "unit_id",
        "user_id",
    ]
)
_ADDED = "IDs successfully added to Segment ID List"
_REMOVED = "IDs successfully removed from Segment ID List"


def _segment_of_type(request: web.Request, *types: str) -> dict[str, Any]:
    segment = entity_or_404(project_of(request), SEGMENTS, request.match_info["id"])
    if segment.get("type") not in types:
        raise ApiProblem(
            400,
            f"Segment must be of type '{types[0]}' to be modified on this endpoint "
            f"({segment['id']} is {segment.get('type')!r}).",
        )
    return segment


async def _ids_body(request: web.Request, max_items: int, *, versioned: bool) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiProblem(400, 'body must be an object: {"ids": ["..."]}')
    allowed = {"ids", "version"} if versioned else {"ids"}
    errors = [f"property {key} should not exist" for key in body if key not in allowed]
    ids = body.get("ids")
    if ids is None:
        errors.append("ids should not be empty")
    elif not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        errors.append("ids must be an array of strings")
    elif len(ids) > max_items:
        errors.append(f"ids must contain no more than {max_items} elements")
    version = body.get("version")
    if version is not None and (not isinstance(version, int | float) or isinstance(version, bool)):
        errors.append("version must be a number conforming to the specified constraints")
    if errors:
        raise ApiProblem(400, "; ".join(errors))
    return body


def _edit(project: Project, segment: dict[str, Any], ids: list[str], mode: str) -> None:
    current = project.id_lists.setdefault(segment["id"], {})
    if mode == "reset":
        current.clear()
    if mode == "remove":
        for item in ids:
            current.pop(item, None)
    else:
        current.update(dict.fromkeys(ids))
    project.id_list_versions[segment["id"]] = project.id_list_versions.get(segment["id"], 0) + 1
    segment["count"] = len(current)
    project.touch(segment)


def _id_list_edit(mode: str, message: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        segment = _segment_of_type(request, "id_list")
        body = await _ids_body(request, 100_000, versioned=False)
        _edit(project_of(request), segment, body["ids"], mode)
        return json_reply({"message": message})

    return handler


def _user_store_edit(mode: str, message: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        project = project_of(request)
        segment = _segment_of_type(request, "user_store_id_list")
        body = await _ids_body(request, 1_000, versioned=True)
        current = project.id_list_versions.get(segment["id"], 0)
        if body.get("version") is not None and body["version"] != current:
            raise ApiProblem(
                400,
                f"version {body['version']:g} is not the current version {current} of the "
                f"ID list of {segment['id']}: read idlist_metadata and retry",
            )
        _edit(project, segment, body["ids"], mode)
        return json_reply({"message": message})

    return handler


async def _read_id_list(request: web.Request) -> web.Response:
    project = project_of(request)
    segment = _segment_of_type(request, "id_list", "user_store_id_list")
    ids = list(project.id_lists.get(segment["id"], {}))
    page, limit = page_params(request.query, request.app[STATE_KEY].config.page_cap)
    payload = page_payload(
        (), len(ids), page, limit, request.path, "IDs read successfully", request.query
    )
    # The spec pages the ids inside one IDListDto object: data is that object, not a list.
    start = (page - 1) * limit
    payload["data"] = {
        "name": segment["name"],
        "count": len(ids),
        "ids": ids[start : start + limit],
    }
    return json_reply(payload)


async def _metadata(request: web.Request) -> web.Response:
    project = project_of(request)
    segment = entity_or_404(project, SEGMENTS, request.match_info["id"])
    data = {"currentVersion": project.id_list_versions.get(segment["id"], 0), "isUpdating": False}
    return json_reply({"message": "ID List metadata read successfully", "data": data})


async def _conditional(request: web.Request) -> web.Response:
    project = project_of(request)
    segment = _segment_of_type(request, "rule_based")
    rules = await read_json(request)
    if not isinstance(rules, list):
        raise ApiProblem(400, "body must be an array of rules")
    errors: list[str] = []
    for index, rule in enumerate(rules):
        problems = rule_errors(rule, partial=False, prefix=f"{index}.")
        errors += problems
        if problems:
            continue
        for c, condition in enumerate(rule.get("conditions") or []):
            if condition.get("type") not in SEGMENT_CONDITION_TYPES:
                errors.append(
                    f"{index}.conditions.{c}.type must be one of the following values: "
                    + ", ".join(sorted(SEGMENT_CONDITION_TYPES))
                )
    if errors:
        raise ApiProblem(400, "; ".join(errors))
    check_references({"rules": rules}, {}, project.exists)
    segment["rules"] = [project.stamp_rule(rule, keep_id=True) for rule in rules]
    project.touch(segment)
    return json_reply({"message": "Rules successfully updated", "data": segment})


def add_segment_routes(app: web.Application) -> None:
    """Register the id-list and conditional routes of segments."""
    base = f"{API_PREFIX}/segments/{{id}}"
    app.router.add_get(base + "/id_list", _read_id_list)
    app.router.add_patch(base + "/id_list", _id_list_edit("add", _ADDED))
    app.router.add_delete(base + "/id_list", _id_list_edit("remove", _REMOVED))
    app.router.add_post(
        base + "/id_list/reset", _id_list_edit("reset", "Segment Reset reset successfully.")
    )
    app.router.add_patch(base + "/add_ids", _user_store_edit("add", _ADDED))
    app.router.add_patch(base + "/remove_ids", _user_store_edit("remove", _REMOVED))
    app.router.add_get(base + "/idlist_metadata", _metadata)
    app.router.add_post(base + "/conditional", _conditional)
