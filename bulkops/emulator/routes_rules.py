"""Gate and dynamic-config rules, and the overrides of gates, holdouts and experiments.

Rules: ``GET /gates/{id}/rules`` (answered as the spec's schema has it: a one-item page holding
``{"rules": [...]}``), ``POST /gates/{id}/rules`` and ``POST /gates/{id}/rule`` add rules with
fresh ids (not idempotent: sent twice, added twice, as on the real service),
``PATCH /gates/{id}/rules`` updates rules matched by id, ``PATCH|DELETE
/gates/{id}/rules/{ruleID}``; dynamic configs: ``GET /dynamic_configs/{id}/rules`` and
``GET|PATCH|DELETE /dynamic_configs/{id}/rule/{ruleId}``.

Overrides (:mod:`.overrides` holds the set logic): ``GET``, ``POST`` = replace, ``PATCH`` =
add (union), ``DELETE`` = remove the IDs in the body, or everything without a body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .kinds import KINDS, Kind
from .overrides import apply_overrides, check_overrides
from .replies import ApiProblem, json_reply, paged_reply
from .routes_entities import API_PREFIX, entity_or_404, project_of, read_json
from .store import Project
from .validation import check_references, check_rules, condition_reference_errors, rule_errors

__all__ = ["add_rule_and_override_routes"]

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _rule_or_404(entity: dict[str, Any], rule_id: str) -> dict[str, Any]:
    for rule in entity.get("rules") or ():
        if rule.get("id") == rule_id or rule.get("baseID") == rule_id:
            return rule
    raise ApiProblem(404, f"Rule {rule_id} not found on {entity['id']}.")


def _check_rule_refs(project: Project, rules: list[Any]) -> None:
    check_references({"rules": rules}, {}, project.exists)


def _list_rules(kind: Kind) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        entity = entity_or_404(project_of(request), kind, request.match_info["id"])
        items = [{"rules": entity.get("rules") or []}]
        return paged_reply(
            items, 1, 1, 1, request.path, f"{kind.singular} rules read successfully."
        )

    return handler


def _add_rules(kind: Kind, single: bool) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        project = project_of(request)
        entity = entity_or_404(project, kind, request.match_info["id"])
        body = await read_json(request)
        if single:
            errors = rule_errors(body, partial=False)
            if errors:
                raise ApiProblem(400, "; ".join(errors))
            rules = [body]
        else:
            if not isinstance(body, dict) or set(body) - {"rules"} or "rules" not in body:
                raise ApiProblem(400, 'body must be {"rules": [...]} (property rules required)')
            check_rules(body["rules"], partial=False)
            rules = body["rules"]
        _check_rule_refs(project, rules)
        entity["rules"] = list(entity.get("rules") or []) + [
            project.stamp_rule(r, keep_id=False) for r in rules
        ]
        project.touch(entity)
        return json_reply({"message": f"{kind.singular} rules added successfully.", "data": entity})

    return handler


def _update_rules(kind: Kind) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        project = project_of(request)
        entity = entity_or_404(project, kind, request.match_info["id"])
        body = await read_json(request)
        if not isinstance(body, dict) or "rules" not in body:
            raise ApiProblem(400, "rules should not be empty")
        check_rules(body["rules"], partial=True)
        targets = []
        for update in body["rules"]:
            if "id" not in update:
                raise ApiProblem(400, "rules: each rule to update must carry its id")
            targets.append((_rule_or_404(entity, update["id"]), update))
        _check_rule_refs(project, body["rules"])
        for rule, update in targets:
            rule.update({k: v for k, v in update.items() if k != "id"})
        project.touch(entity)
        return json_reply(
            {"message": f"{kind.singular} rules updated successfully.", "data": entity}
        )

    return handler


def _one_rule(kind: Kind, key: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        project = project_of(request)
        entity = entity_or_404(project, kind, request.match_info["id"])
        rule = _rule_or_404(entity, request.match_info[key])
        if request.method == "GET":
            return json_reply({"message": "Rule read successfully.", "data": rule})
        if request.method == "DELETE":
            entity["rules"] = [r for r in entity["rules"] if r is not rule]
            verb = "deleted"
        else:
            update = await read_json(request)
            errors = rule_errors(update, partial=True)
            errors += condition_reference_errors(update, project.exists) if not errors else []
            if errors:
                raise ApiProblem(400, "; ".join(errors))
            rule.update({k: v for k, v in update.items() if k != "id"})
            verb = "updated"
        project.touch(entity)
        return json_reply({"message": f"{kind.singular} rule {verb} successfully.", "data": entity})

    return handler


def _overrides(kind: Kind) -> Handler:
    style = kind.overrides or "ids"
    write_status = 201 if kind.name == "gates" else 200  # as the spec documents them

    async def handler(request: web.Request) -> web.Response:
        project = project_of(request)
        entity = entity_or_404(project, kind, request.match_info["id"])
        current = project.overrides_of(kind.name, entity["id"])
        if request.method != "GET":
            body = await read_json(request, allow_empty=request.method == "DELETE")
            if body:
                check_overrides(style, body)
                if style == "groups":
                    check_references(
                        {
                            "gates": [
                                o["id"]
                                for o in body.get("overrides", [])
                                if o.get("type") == "gate"
                            ],
                            "segments": [
                                o["id"]
                                for o in body.get("overrides", [])
                                if o.get("type") == "segment"
                            ],
                        },
                        {"gates": "gates", "segments": "segments"},
                        project.exists,
                    )
            apply_overrides(style, current, request.method, body or None)
            project.touch(entity)
        status = 200 if request.method == "GET" else write_status
        verb = "read" if request.method == "GET" else "updated"
        return json_reply(
            {"message": f"{kind.singular} overrides {verb} successfully.", "data": current}, status
        )

    return handler


def add_rule_and_override_routes(app: web.Application) -> None:
    """Register rule and override routes (before the generic ``/{kind}/{id}`` ones)."""
    gates, configs = KINDS["gates"], KINDS["dynamic_configs"]
    base = f"{API_PREFIX}/gates/{{id}}"
    app.router.add_get(base + "/rules", _list_rules(gates))
    app.router.add_post(base + "/rules", _add_rules(gates, single=False))
    app.router.add_post(base + "/rule", _add_rules(gates, single=True))
    app.router.add_patch(base + "/rules", _update_rules(gates))
    app.router.add_patch(base + "/rules/{ruleID}", _one_rule(gates, "ruleID"))
    app.router.add_delete(base + "/rules/{ruleID}", _one_rule(gates, "ruleID"))
    base = f"{API_PREFIX}/dynamic_configs/{{id}}"
    app.router.add_get(base + "/rules", _list_rules(configs))
    for method in ("GET", "PATCH", "DELETE"):
        app.router.add_route(method, base + "/rule/{ruleId}", _one_rule(configs, "ruleId"))
    for kind in KINDS.values():
        if kind.overrides:
            path = f"{API_PREFIX}/{kind.name}/{{id}}/overrides"
            for method in ("GET", "POST", "PATCH", "DELETE"):
                app.router.add_route(method, path, _overrides(kind))
