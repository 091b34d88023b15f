"""What the target should hold for a source entity: its writable state, references remapped.

``desired_state`` keeps the fields a create or update takes, minus what belongs to the source
project (people, teams, pipelines, target apps unless asked, review settings, the decisions and
status of an experiment) and what the server computes (a rule's ``id``/``baseID``, a gate's ``STALE``
type); every reference (rule conditions, reference fields) goes through ``target_id_of`` so it
names the target's entity. ``remap_overrides`` does the same for an override document.
``split_create`` tells what a create takes from what must be PATCHed after it (a layer's
``parameters``, everything of a holdout but its name and description).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from bulkops.api.resources import RULE_CONDITION_REFERENCES, get_kind
from bulkops.migrate.graph import reference_fields

__all__ = [
    "COMPUTED_GATE_TYPES",
    "CREATABLE_GATE_TYPES",
    "PROJECT_BOUND",
    "RULE_SERVER_FIELDS",
    "TargetIdOf",
    "created_id",
    "desired_state",
    "remap_overrides",
    "remap_rules",
    "split_create",
    "takes_id",
    "unknown_fields",
]

TargetIdOf = Callable[[str, str], str]
"""``target_id_of(kind, source id)``: the ID the entity has (or will have) in the target."""

#: Fields that belong to the source project (people, teams, pipelines, apps) or its history.
PROJECT_BOUND = frozenset(
    {
        "creatorID",
        "creatorEmail",
        "owner",
        "team",
        "teamID",
        "releasePipelineID",
        "targetApps",
        "status",
        "launchedGroupID",
        "decisionReason",
        "holdoutIDs",
        "reviewSettings",
    }
)
#: Rule fields the server sets.
RULE_SERVER_FIELDS = frozenset(
    {"id", "baseID", "completedAutomatedRollouts", "pendingAutomatedRollouts"}
)
#: Gate types a create accepts; the computed ones map to what a create takes instead (a type
#: in neither, TEMPLATE, is left out so that the target's default applies).
CREATABLE_GATE_TYPES = ("PERMANENT", "TEMPORARY")
COMPUTED_GATE_TYPES = {"STALE": "TEMPORARY"}


def takes_id(kind: str) -> bool:
    """Whether a create of ``kind`` takes the ID (else the server derives it from the name)."""
    return "id" in get_kind(kind).create_fields


def created_id(kind: str, source_id: str, name: Any) -> str:
    """The ID an entity created from ``source_id`` gets: the same, or the one its name gives."""
    if takes_id(kind) or not name:
        return source_id
    return str(name).strip().lower().replace(" ", "_")


def remap_rules(rules: Any, target_id_of: TargetIdOf) -> list[dict[str, Any]]:
    """A copy of ``rules`` with their condition references remapped and server fields dropped."""
    result = []
    for rule in copy.deepcopy(list(rules or ())):
        if not isinstance(rule, dict):
            continue
        for condition in rule.get("conditions") or ():
            kind = RULE_CONDITION_REFERENCES.get(str((condition or {}).get("type")))
            target = condition.get("targetValue")
            if kind is None or target is None:
                continue
            if isinstance(target, list):
                condition["targetValue"] = [target_id_of(kind, str(v)) for v in target]
            else:
                condition["targetValue"] = target_id_of(kind, str(target))
        result.append({k: v for k, v in rule.items() if k not in RULE_SERVER_FIELDS})
    return result


def _nullable(kind: str, name: str) -> bool:
    return "null" in get_kind(kind).update_types.get(name, "").split("|")


def desired_state(
    kind: str,
    entity: Mapping[str, Any],
    target_id_of: TargetIdOf,
    *,
    updates: bool = False,
    target_apps: bool = False,
) -> dict[str, Any]:
    """The writable state the target's copy of ``entity`` should have (see module docstring).

    Only create fields unless ``updates`` (then also the fields only an update takes). A null
    is kept where an update can write it (so a cleared reference is synced), else dropped.
    ``target_apps``: keep ``targetApps`` (names), for a migration, which creates the target
    apps the target lacks (``bulkops.migrate.catalog``).
    """
    catalog = get_kind(kind)
    writable = catalog.create_fields | (catalog.update_fields if updates else frozenset())
    bound = PROJECT_BOUND - {"targetApps"} if target_apps else PROJECT_BOUND
    body = {
        k: copy.deepcopy(v)
        for k, v in entity.items()
        if k in writable and k not in bound and k != "id"
    }
    if "rules" in body:
        body["rules"] = remap_rules(body["rules"], target_id_of)
    for name, target in reference_fields(kind).items():
        value = body.get(name)
        if isinstance(value, list):
            body[name] = [target_id_of(target, str(v)) for v in value]
        elif value:
            body[name] = target_id_of(target, str(value))
    if kind == "gates" and body.get("type") not in CREATABLE_GATE_TYPES:
        body["type"] = COMPUTED_GATE_TYPES.get(str(body.get("type")))
    return {k: v for k, v in body.items() if v is not None or (updates and _nullable(kind, k))}


def unknown_fields(kind: str, entity: Mapping[str, Any]) -> list[str]:
    """The fields of ``entity`` that hold a value and that the catalog does not know for
    ``kind`` (in no write DTO, not read-only): the API refuses a body property it does not
    know, so a migration cannot copy them, and ``verify`` does not compare them."""
    known = get_kind(kind).known_fields
    return [k for k, v in entity.items() if k not in known and v not in (None, [], {}, "")]


def split_create(kind: str, desired: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(what the create takes, what a PATCH must set after it)``; nulls left out of both."""
    create_fields = get_kind(kind).create_fields
    create = {k: v for k, v in desired.items() if k in create_fields and v is not None}
    after = {k: v for k, v in desired.items() if k not in create_fields and v not in (None, [])}
    return create, after


def remap_overrides(kind: str, doc: Mapping[str, Any], target_id_of: TargetIdOf) -> dict[str, Any]:
    """A copy of an override document whose references name the target's entities.

    Experiments: each forced gate or segment (``id``, or ``name`` as some reads spell it) is
    written back as ``id``. Layers: gates, segments and experiments are named by ``name`` and
    ``experimentName``.
    """
    result = copy.deepcopy(dict(doc))
    kinds = {"gate": "gates", "segment": "segments"}
    if kind == "experiments":
        entries = []
        for entry in result.get("overrides") or ():
            target = kinds.get(str(entry.get("type")))
            ident = entry.pop("name", None) or entry.get("id")
            if target and ident:
                entry["id"] = target_id_of(target, str(ident))
            entries.append(entry)
        result["overrides"] = entries
    if kind == "layers":
        for entry in result.get("conditionalOverrides") or ():
            target = kinds.get(str(entry.get("type")))
            if target and entry.get("name"):
                entry["name"] = target_id_of(target, str(entry["name"]))
        for entry in [
            *(result.get("conditionalOverrides") or ()),
            *(result.get("idOverrides") or ()),
        ]:
            if entry.get("experimentName"):
                entry["experimentName"] = target_id_of("experiments", str(entry["experimentName"]))
    return result
