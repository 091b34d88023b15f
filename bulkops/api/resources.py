"""The resource catalog: per kind of Console API entity, where it lives and what is writable.

Derived from the Console API OpenAPI spec (``console-v1.json``, API version 20240601) and
carried here as literals, so nothing reads the spec at run time; the fields the live API added
since are in :mod:`bulkops.api.live_fields`. ``tests/api/test_resources_spec.py`` checks every
literal against the spec.

- ``create_fields``: properties of the create DTO (``POST <list path>``);
- ``update_fields``: properties of the update DTO (``PATCH <item path>``, or ``POST`` where the
  API has no PATCH, see ``update_method``); ``update_types``: their JSON types as the spec
  gives them (``"boolean"``, ``"null|string"``, ``"array|string"``: the names sorted, ``|``
  between them), so a wrong value is refused before a request is spent on it;
- ``read_only_fields``: in the entity as read, but in no write DTO (``createdTime``,
  ``lastModifierID``, ...): strip them before writing an entity back
  (:meth:`ResourceKind.strip_read_only`);
- ``list_filters``: the query parameters of the list operation besides ``limit``/``page``;
- ``lifecycle``: action name → ``(method, item path)``, e.g. ``archive`` → ``PUT
  /gates/{id}/archive``;
- ``references``: field → kind it points at (``targetingGateID`` → gates); inside rules,
  conditions of the types in :data:`RULE_CONDITION_REFERENCES` name gates or segments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulkops.api.live_fields import with_live_fields
from bulkops.api.resource_kind import ResourceKind, json_type_error

__all__ = [
    "CATALOG",
    "RULE_CONDITION_REFERENCES",
    "ResourceKind",
    "get_kind",
    "json_type_error",
    "rule_references",
]


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _update(fields_by_type: Mapping[str, str]) -> dict[str, Any]:
    """``{"boolean": "isEnabled isGlobal"}`` -> the ``update_fields`` and ``update_types``."""
    types = {name: kind for kind, names in fields_by_type.items() for name in names.split()}
    return {"update_fields": frozenset(types), "update_types": types}


RULE_CONDITION_REFERENCES: Mapping[str, str] = {
    "passes_gate": "gates",
    "fails_gate": "gates",
    "passes_segment": "segments",
    "fails_segment": "segments",
}
"""Rule condition type → the kind whose ids its ``targetValue`` holds."""


_AUDIT = (
    "createdTime creatorName lastModifiedTime lastModifierEmail lastModifierID lastModifierName"
)
_COMMON_REFS = {"holdoutIDs": "holdouts", "tags": "tags", "targetApps": "target_apps"}

_KINDS = (
    ResourceKind(
        name="gates",
        list_path="/gates",
        item_path="/gates/{id}",
        id_field="id",
        create_fields=_names(
            "creatorEmail creatorID description id idType isEnabled isTemplate "
            "measureMetricLifts monitoringMetrics name releasePipelineID reviewSettings rules "
            "tags targetApps team teamID type"
        ),
        **_update(
            {
                "array": "monitoringMetrics rules tags",
                "array|string": "targetApps",
                "boolean": "isEnabled measureMetricLifts",
                "null|string": "creatorEmail creatorID releasePipelineID team teamID",
                "object": "reviewSettings",
                "string": "description idType name type",
            }
        ),
        read_only_fields=_names(
            f"{_AUDIT} activeReview checksPerHour holdoutIDs owner status typeReason version"
        ),
        list_filters=(
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
        lifecycle={
            "archive": ("PUT", "/gates/{id}/archive"),
            "unarchive": ("PUT", "/gates/{id}/unarchive"),
            "enable": ("PUT", "/gates/{id}/enable"),
            "disable": ("PUT", "/gates/{id}/disable"),
            "launch": ("PUT", "/gates/{id}/launch"),
            "code_cleanup": ("POST", "/gates/{id}/code_cleanup"),
            "delete": ("DELETE", "/gates/{id}"),
        },
        references=dict(_COMMON_REFS),
        has_rules=True,
    ),
    ResourceKind(
        name="dynamic_configs",
        list_path="/dynamic_configs",
        item_path="/dynamic_configs/{id}",
        id_field="id",
        create_fields=_names(
            "creatorEmail creatorID defaultValue defaultValueJson5 description id idType "
            "isEnabled isTemplate name owner releasePipelineID rules schema schemaJson5 tags "
            "targetApps team teamID"
        ),
        **_update(
            {
                "array": "rules tags",
                "array|string": "targetApps",
                "boolean": "isEnabled",
                "null|object": "owner",
                "null|string": (
                    "creatorEmail creatorID releasePipelineID schema schemaJson5 team teamID"
                ),
                "object": "defaultValue",
                "string": "defaultValueJson5 description idType name",
            }
        ),
        read_only_fields=_names(f"{_AUDIT} holdoutIDs status version"),
        list_filters=("releasePipelineID", "creatorName", "creatorID", "tags"),
        lifecycle={
            "archive": ("PUT", "/dynamic_configs/{id}/archive"),
            "unarchive": ("PUT", "/dynamic_configs/{id}/unarchive"),
            "enable": ("PUT", "/dynamic_configs/{id}/enable"),
            "disable": ("PUT", "/dynamic_configs/{id}/disable"),
            "delete": ("DELETE", "/dynamic_configs/{id}"),
        },
        references=dict(_COMMON_REFS),
        has_rules=True,
    ),
    ResourceKind(
        name="segments",
        list_path="/segments",
        item_path="/segments/{id}",
        id_field="id",
        create_fields=_names(
            "creatorEmail creatorID description id idType name rules tags team teamID type"
        ),
        update_fields=frozenset(),
        update_method=None,
        read_only_fields=_names(f"{_AUDIT} count holdoutIDs isEnabled targetApps version"),
        lifecycle={
            "archive": ("PUT", "/segments/{id}/archive"),
            "delete": ("DELETE", "/segments/{id}"),
        },
        references=dict(_COMMON_REFS),
        has_rules=True,
    ),
    ResourceKind(
        name="layers",
        list_path="/layers",
        item_path="/layers/{id}",
        id_field="id",
        create_fields=_names("description idType name targetApps team"),
        **_update(
            {
                "array": "parameters",
                "array|string": "targetApps",
                "string": "description",
            }
        ),
        read_only_fields=_names(
            f"{_AUDIT} creatorEmail creatorID holdoutIDs id isImplicitLayer tags teamID version"
        ),
        lifecycle={"delete": ("DELETE", "/layers/{id}")},
        references=dict(_COMMON_REFS),
    ),
    ResourceKind(
        name="experiments",
        list_path="/experiments",
        item_path="/experiments/{id}",
        id_field="id",
        create_fields=_names(
            "allocation allocationDuration analysisEndTime analyticsType "
            "assignmentSourceExperimentName assignmentSourceFilters assignmentSourceName "
            "benjaminiHochbergPerMetric benjaminiHochbergPerVariant benjaminiPrimaryMetricsOnly "
            "bonferroniCorrection bonferroniCorrectionPerMetric cohortWaitUntilEndToInclude "
            "cohortedAnalysisDuration cohortedMetricsMatureAfterEnd controlGroupID creatorEmail "
            "creatorID decisionReason defaultConfidenceInterval description duration "
            "fixedAnalysisDuration groups hypothesis id idType identifierMappingMode "
            "identityResolutionSource isAnalysisOnly isSidecar launchedGroupID layerID links "
            "manualQualityScores name otherMetrics primaryMetricTags primaryMetrics "
            "scheduledReloadHour scheduledReloadType secondaryIDType secondaryMetricTags "
            "secondaryMetrics sequentialTesting status stratifiedSampling tags targetApps "
            "targetExposures targetingGateID team teamID"
        ),
        **_update(
            {
                "array": (
                    "assignmentSourceFilters groups links manualQualityScores otherMetrics "
                    "primaryMetricTags primaryMetrics secondaryMetricTags secondaryMetrics tags"
                ),
                "array|string": "targetApps",
                "boolean": (
                    "benjaminiHochbergPerMetric benjaminiHochbergPerVariant "
                    "benjaminiPrimaryMetricsOnly bonferroniCorrection "
                    "bonferroniCorrectionPerMetric cohortWaitUntilEndToInclude "
                    "cohortedMetricsMatureAfterEnd isSidecar sequentialTesting"
                ),
                "boolean|null": "isAnalysisOnly",
                "integer": (
                    "cohortedAnalysisDuration duration fixedAnalysisDuration targetExposures"
                ),
                "integer|null": "allocationDuration scheduledReloadHour",
                "null|object": "stratifiedSampling",
                "null|string": (
                    "creatorEmail creatorID identityResolutionSource launchedGroupID "
                    "secondaryIDType targetingGateID team teamID"
                ),
                "number": "allocation",
                "string": (
                    "analysisEndTime analyticsType assignmentSourceExperimentName "
                    "assignmentSourceName controlGroupID decisionReason defaultConfidenceInterval "
                    "description hypothesis idType identifierMappingMode name scheduledReloadType "
                    "status"
                ),
            }
        ),
        read_only_fields=_names(
            f"{_AUDIT} activeReview decisionTime endTime externalExperimentName "
            "healthCheckStatus healthChecks holdoutIDs inlineTargetingRulesJSON owner "
            "reviewSettings startTime subtype summarySections version"
        ),
        list_filters=(
            "layerID",
            "idType",
            "teamID",
            "status",
            "targetAppID",
            "createdStartDate",
            "createdEndDate",
            "creatorName",
            "creatorID",
            "tags",
        ),
        lifecycle={
            "start": ("PUT", "/experiments/{id}/start"),
            "schedule_start": ("POST", "/experiments/{id}/schedule_start"),
            "make_decision": ("PUT", "/experiments/{id}/make_decision"),
            "defer_decision": ("PUT", "/experiments/{id}/defer_decision"),
            "abandon": ("PUT", "/experiments/{id}/abandon"),
            "reset": ("PUT", "/experiments/{id}/reset"),
            "restart_as_new": ("POST", "/experiments/{id}/restart_as_new"),
            "archive": ("PUT", "/experiments/{id}/archive"),
            "unarchive": ("PUT", "/experiments/{id}/unarchive"),
            "code_cleanup": ("POST", "/experiments/{id}/code_cleanup"),
            "delete": ("DELETE", "/experiments/{id}"),
        },
        references={
            **_COMMON_REFS,
            "targetingGateID": "gates",
            "layerID": "layers",
            "primaryMetrics": "metrics",
            "secondaryMetrics": "metrics",
        },
    ),
    ResourceKind(
        name="holdouts",
        list_path="/holdouts",
        item_path="/holdouts/{id}",
        id_field="id",
        create_fields=_names("description idType name teamID"),
        **_update(
            {
                "array": "experimentIDs gateIDs layerIDs monitoringMetrics",
                "boolean": "isEnabled isGlobal",
                "null|string": "targetingGateID",
                "number": "passPercentage",
                "string": "description",
            }
        ),
        read_only_fields=_names(
            f"{_AUDIT} creatorEmail creatorID holdoutIDs id tags targetApps team version"
        ),
        list_filters=("creatorName", "creatorID", "tags"),
        lifecycle={"delete": ("DELETE", "/holdouts/{id}")},
        references={
            **_COMMON_REFS,
            "gateIDs": "gates",
            "experimentIDs": "experiments",
            "layerIDs": "layers",
            "targetingGateID": "gates",
        },
    ),
    ResourceKind(
        name="metrics",
        # GET /metrics answers metric *values*; the definitions are listed at /metrics/list.
        list_path="/metrics/list",
        item_path="/metrics/{id}",
        id_field="id",
        create_fields=_names(
            "customRollUpEnd customRollUpStart description directionality dryRun "
            "funnelCountDistinct funnelEventList isPermanent isReadOnly isVerified "
            "metricComponentMetrics metricEvents name rollupTimeWindow tags team teamID type "
            "unitTypes warehouseNative"
        ),
        **_update(
            {
                "array": "tags unitTypes",
                "boolean": "dryRun isPermanent isReadOnly isVerified",
                "null|string": "team teamID",
                "object": "owner warehouseNative",
                "string": "description directionality name",
            }
        ),
        update_method="POST",
        read_only_fields=_names(f"{_AUDIT} creatorEmail id isHidden lineage"),
        list_filters=("showHiddenMetrics", "tags", "filters"),
        lifecycle={
            "schedule_archive": ("PUT", "/metrics/{id}/schedule_archive"),
            "cancel_archive": ("PUT", "/metrics/{id}/cancel_archive"),
            "unarchive": ("PUT", "/metrics/{id}/unarchive"),
            "delete": ("DELETE", "/metrics/{id}"),
        },
        references={"tags": "tags", "metricComponentMetrics": "metrics"},
    ),
    ResourceKind(
        name="tags",
        list_path="/tags",
        item_path="/tags/{id}",
        id_field="id",
        create_fields=_names("description isCore name"),
        **_update(
            {
                "boolean": "isCore",
                "string": "description name",
            }
        ),
        read_only_fields=_names("id"),
        lifecycle={"delete": ("DELETE", "/tags/{id}")},
    ),
    ResourceKind(
        name="target_apps",
        list_path="/target_app",
        item_path="/target_app/{id}",
        id_field="id",
        create_fields=_names("description dynamicConfigs experiments gates name"),
        **_update(
            {
                "string": "description name",
            }
        ),
        read_only_fields=_names("id"),
        lifecycle={"delete": ("DELETE", "/target_app/{id}")},
        references={
            "gates": "gates",
            "experiments": "experiments",
            "dynamicConfigs": "dynamic_configs",
        },
    ),
)

CATALOG: Mapping[str, ResourceKind] = {kind.name: with_live_fields(kind) for kind in _KINDS}
"""Every kind bulkops knows, by name (with what the live API added, ``live_fields``)."""


def get_kind(name: str) -> ResourceKind:
    """The catalog entry for ``name`` (``"gates"``); KeyError names the known kinds."""
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown kind {name!r}; known kinds: {', '.join(CATALOG)}") from None


def rule_references(entity: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(kind, id)`` pairs named by the rule conditions of ``entity`` (passes_gate, ...)."""
    found: list[tuple[str, str]] = []
    for rule in entity.get("rules") or ():
        for condition in (rule or {}).get("conditions") or ():
            kind = RULE_CONDITION_REFERENCES.get((condition or {}).get("type", ""))
            if kind is None:
                continue
            value = condition.get("targetValue")
            values = value if isinstance(value, list) else [value]
            found.extend((kind, str(v)) for v in values if v is not None)
    return found
