"""Override sets and their edits: replace (POST), union (PATCH), remove (DELETE).

Two shapes, per the spec: gates and holdouts hold ID lists (``passingUserIDs``,
``failingUserIDs``, ``passingCustomIDs``, ``failingCustomIDs``) plus ``environmentOverrides``
(``{environment, unitID, passingIDs, failingIDs}``); experiments hold ``overrides`` (a gate or
segment forced into a group) and ``userIDOverrides`` (IDs forced into a group).
"""

from __future__ import annotations

from typing import Any

from .replies import ApiProblem

__all__ = ["ID_LISTS", "apply_overrides", "check_overrides"]

ID_LISTS = ("passingUserIDs", "failingUserIDs", "passingCustomIDs", "failingCustomIDs")
_MAX_IDS = 2000


def _string_list(name: str, value: Any, limit: int | None = None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        return [f"{name} must be an array of non-empty strings"]
    if limit is not None and len(value) > limit:
        return [f"{name} must contain no more than {limit} elements"]
    return []


def _check_ids_shape(body: dict[str, Any]) -> list[str]:
    allowed = {*ID_LISTS, "environmentOverrides"}
    errors = [f"property {key} should not exist" for key in body if key not in allowed]
    if "environmentOverrides" not in body and not {"passingUserIDs", "failingUserIDs"} <= set(body):
        errors.append("send environmentOverrides, or both passingUserIDs and failingUserIDs")
    for name in ID_LISTS:
        if name in body:
            errors += _string_list(name, body[name], _MAX_IDS)
    for i, item in enumerate(body.get("environmentOverrides") or []):
        if not isinstance(item, dict):
            errors.append(f"environmentOverrides.{i} must be an object")
            continue
        for key in ("unitID", "passingIDs", "failingIDs"):
            if key not in item:
                errors.append(f"environmentOverrides.{i}.{key} should not be empty")
        for key in ("passingIDs", "failingIDs"):
            if key in item:
                errors += _string_list(f"environmentOverrides.{i}.{key}", item[key])
    return errors


def _check_groups_shape(body: dict[str, Any]) -> list[str]:
    errors = [
        f"property {key} should not exist"
        for key in body
        if key not in ("overrides", "userIDOverrides")
    ]
    errors += [
        f"{key} should not be empty"
        for key in ("overrides", "userIDOverrides")
        if not isinstance(body.get(key), list)
    ]
    for i, item in enumerate(body.get("overrides") or []):
        if not isinstance(item, dict) or not {"type", "id", "groupID"} <= set(item):
            errors.append(f"overrides.{i} needs type, id and groupID")
        elif item["type"] not in ("gate", "segment"):
            errors.append(f"overrides.{i}.type must be one of the following values: gate, segment")
    for i, item in enumerate(body.get("userIDOverrides") or []):
        if not isinstance(item, dict) or not {"groupID", "ids"} <= set(item):
            errors.append(f"userIDOverrides.{i} needs groupID and ids")
        else:
            errors += _string_list(f"userIDOverrides.{i}.ids", item["ids"], 1000)
    return errors


def check_overrides(style: str, body: Any) -> None:
    """Raise a 400 unless ``body`` is an overrides body of that ``style``."""
    if not isinstance(body, dict):
        raise ApiProblem(400, "overrides body must be a JSON object")
    errors = _check_groups_shape(body) if style == "groups" else _check_ids_shape(body)
    if errors:
        raise ApiProblem(400, "; ".join(errors))


def _union(old: list[str], new: list[str]) -> list[str]:
    seen = set(old)
    return old + [v for v in new if not (v in seen or seen.add(v))]  # type: ignore[func-returns-value]


def _minus(old: list[str], gone: list[str]) -> list[str]:
    drop = set(gone)
    return [v for v in old if v not in drop]


def _keyed(
    items: list[dict[str, Any]], key: tuple[str, ...]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(item.get(k) for k in key): item for item in items}


def _merge_lists(
    current: list[dict[str, Any]],
    body: list[dict[str, Any]],
    key: tuple[str, ...],
    id_fields: tuple[str, ...],
    method: str,
) -> list[dict[str, Any]]:
    """Union (PATCH) or removal (DELETE) of entries keyed by ``key``, ids per ``id_fields``."""
    table = _keyed([dict(item) for item in current], key)
    for item in body:
        k = tuple(item.get(f) for f in key)
        if method == "PATCH":
            old = table.setdefault(k, {**item, **{f: [] for f in id_fields}})
            for f in id_fields:
                old[f] = _union(old.get(f) or [], item.get(f) or [])
        elif k in table:
            old = table[k]
            if not any(f in item for f in id_fields):
                del table[k]
                continue
            for f in id_fields:
                old[f] = _minus(old.get(f) or [], item.get(f) or [])
            if not any(old.get(f) for f in id_fields):
                del table[k]
    return list(table.values())


def apply_overrides(
    style: str, current: dict[str, Any], method: str, body: dict[str, Any] | None
) -> None:
    """Edit ``current`` in place: POST replaces, PATCH adds, DELETE removes (all if no body)."""
    if body is None:
        if method == "DELETE":
            for key, value in current.items():
                current[key] = [] if isinstance(value, list) else value
        return
    if method == "POST":
        if style == "ids" and any(k in body for k in ID_LISTS):
            current.update({name: list(body.get(name) or []) for name in ID_LISTS})
        current.update({k: list(v) for k, v in body.items() if k not in ID_LISTS})
        return
    if style == "groups":
        current["overrides"] = (
            _merge_lists(
                current["overrides"],
                body.get("overrides") or [],
                ("type", "id", "environment"),
                (),
                method,
            )
            if method == "DELETE"
            else list(
                _keyed(
                    current["overrides"] + body.get("overrides", []), ("type", "id", "environment")
                ).values()
            )
        )
        current["userIDOverrides"] = _merge_lists(
            current["userIDOverrides"],
            body.get("userIDOverrides") or [],
            ("groupID", "environment", "unitType"),
            ("ids",),
            method,
        )
        return
    for name in ID_LISTS:
        if name in body:
            edit = _union if method == "PATCH" else _minus
            current[name] = edit(current.get(name) or [], body[name])
    if "environmentOverrides" in body:
        current["environmentOverrides"] = _merge_lists(
            current["environmentOverrides"],
            body["environmentOverrides"],
            ("environment", "unitID"),
            ("passingIDs", "failingIDs"),
            method,
        )
