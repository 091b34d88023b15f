"""The six configurable kinds the emulator models, and what the service fills in on create.

Paths, labels, status codes, filters and defaults are derived from console-v1.json: e.g. the
spec's examples show ``"A Gate"`` stored as id ``a_gate`` (see :func:`id_from_name`), holdout
creation answers 200 where the other kinds answer 201, and a gate's response always carries
``lastModifierID``, ``checksPerHour``, ``status``, ``type`` and ``typeReason``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .fields import BODIES, BodySpec

__all__ = ["KINDS", "Kind", "id_from_name", "new_entity"]


def id_from_name(name: str) -> str:
    """The id the service derives from a display name: lowercase, spaces → underscores."""
    return name.strip().lower().replace(" ", "_")


@dataclass(frozen=True)
class Kind:
    """One resource kind: where it lives, how it is labelled, what the service defaults."""

    name: str
    singular: str
    plural: str
    create_status: int
    defaults: Callable[[], dict[str, Any]]
    filters: tuple[str, ...] = ()
    overrides: str | None = None  # "ids" (gates, holdouts) or "groups" (experiments)
    has_rules: bool = False
    lifecycle: tuple[str, ...] = ()
    references: dict[str, str] = field(default_factory=dict)  # field -> kind it names

    @property
    def body(self) -> BodySpec:
        return BODIES[self.name]

    def message(self, verb: str) -> str:
        """``"Gate created successfully."`` / ``"Gates listed successfully."``."""
        label = self.plural if verb == "listed" else self.singular
        return f"{label} {verb} successfully."


def _gate() -> dict[str, Any]:
    return {
        "isEnabled": True,
        "rules": [],
        "tags": [],
        "targetApps": [],
        "holdoutIDs": [],
        "checksPerHour": 0,
        "status": "In Progress",
        "type": "TEMPORARY",
        "typeReason": "NONE",
        "isTemplate": False,
        "measureMetricLifts": False,
        "monitoringMetrics": [],
        "team": None,
        "teamID": None,
        "owner": None,
        "releasePipelineID": None,
    }


def _dynamic_config() -> dict[str, Any]:
    return {
        "isEnabled": True,
        "rules": [],
        "tags": [],
        "targetApps": [],
        "holdoutIDs": [],
        "defaultValue": {},
        "team": None,
        "teamID": None,
        "owner": None,
        "schema": None,
        "releasePipelineID": None,
        "isTemplate": False,
    }


def _segment() -> dict[str, Any]:
    return {"isEnabled": True, "tags": [], "rules": [], "count": 0, "team": None, "teamID": None}


def _layer() -> dict[str, Any]:
    return {"isImplicitLayer": False, "parameters": [], "tags": [], "targetApps": [], "team": None}


def _experiment() -> dict[str, Any]:
    return {
        "hypothesis": "",
        "groups": [],
        "allocation": 100,
        "tags": [],
        "targetApps": [],
        "holdoutIDs": [],
        "primaryMetrics": [],
        "secondaryMetrics": [],
        "primaryMetricTags": [],
        "secondaryMetricTags": [],
        "targetingGateID": None,
        "layerID": None,
        "bonferroniCorrection": False,
        "defaultConfidenceInterval": "95",
        "status": "setup",
        "decisionReason": None,
        "decisionTime": None,
        "startTime": None,
        "endTime": None,
        "healthCheckStatus": "WAITING",
        "launchedGroupID": None,
        "team": None,
        "teamID": None,
        "owner": None,
    }


def _holdout() -> dict[str, Any]:
    return {
        "isEnabled": True,
        "passPercentage": 10,
        "gateIDs": [],
        "experimentIDs": [],
        "layerIDs": [],
        "isGlobal": False,
        "targetingGateID": None,
        "tags": [],
        "team": None,
        "teamID": None,
    }


KINDS: dict[str, Kind] = {
    "gates": Kind(
        "gates",
        "Gate",
        "Gates",
        201,
        _gate,
        filters=(
            "idType",
            "type",
            "typeReason",
            "passRate",
            "rolloutRate",
            "releasePipelineID",
            "creatorName",
            "creatorID",
            "tags",
        ),
        overrides="ids",
        has_rules=True,
        lifecycle=("archive", "unarchive", "enable", "disable", "launch"),
    ),
    "dynamic_configs": Kind(
        "dynamic_configs",
        "Dynamic Config",
        "Dynamic Configs",
        201,
        _dynamic_config,
        filters=("releasePipelineID", "creatorName", "creatorID", "tags"),
        has_rules=True,
        lifecycle=("archive", "unarchive", "enable", "disable"),
    ),
    "segments": Kind("segments", "Segment", "Segments", 201, _segment, lifecycle=("archive",)),
    "layers": Kind("layers", "Layer", "Layers", 201, _layer),
    "experiments": Kind(
        "experiments",
        "Experiment",
        "Experiments",
        201,
        _experiment,
        filters=("layerID", "idType", "teamID", "status", "creatorName", "creatorID", "tags"),
        overrides="groups",
        lifecycle=("start", "abandon", "archive", "unarchive", "reset", "make_decision"),
        references={"targetingGateID": "gates", "layerID": "layers"},
    ),
    "holdouts": Kind(
        "holdouts",
        "Holdout",
        "Holdouts",
        200,
        _holdout,
        filters=("creatorName", "creatorID", "tags"),
        overrides="ids",
        references={
            "gateIDs": "gates",
            "experimentIDs": "experiments",
            "layerIDs": "layers",
            "targetingGateID": "gates",
        },
    ),
}


def new_entity(
    kind: Kind, body: dict[str, Any], entity_id: str, author: dict[str, Any], now_ms: float
) -> dict[str, Any]:
    """A stored entity: the kind's defaults, the body's fields, then the server-set fields."""
    entity: dict[str, Any] = {
        "id": entity_id,
        "name": body.get("name", entity_id),
        "description": "",
        "idType": "userID",
    }
    entity.update(kind.defaults())
    entity.update(body)
    entity["id"] = entity_id
    entity.update(author)
    entity.update(
        {
            "creatorID": body.get("creatorID") or author["lastModifierID"],
            "creatorName": author["lastModifierName"],
            "creatorEmail": body.get("creatorEmail"),
            "createdTime": now_ms,
            "lastModifiedTime": now_ms,
            "version": 1,
        }
    )
    return entity
