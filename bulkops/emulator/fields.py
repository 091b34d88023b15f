"""Request-body fields of the Console API, derived from console-v1.json (not a copy of it).

For each kind: every field a create (``POST /kind``) or an update (``POST``/``PATCH
/kind/{id}``) body may carry, with its JSON type, enum and bounds; which names each operation
accepts; and which it requires. Anything else in a body is rejected as the service does
("property X should not exist"). Nested objects (rules, groups, parameters...) are typed
only at the top level here; ``validation.py`` checks the parts that matter (rules).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BODIES", "RULE", "RULE_UPDATE", "BodySpec", "Field"]


@dataclass(frozen=True)
class Field:
    """One body field: JSON type(s), and the constraints the service enforces."""

    type: str | tuple[str, ...]
    nullable: bool = False
    enum: tuple[object, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class BodySpec:
    """The fields of one kind and what each write operation accepts and requires."""

    fields: dict[str, Field]
    create: frozenset[str]
    create_required: tuple[str, ...]
    update: frozenset[str] = frozenset()
    full_update_required: tuple[str, ...] = ()


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_GATE = {
    "name": Field("string", min_length=3, max_length=100),
    "isEnabled": Field("boolean"),
    "description": Field("string", max_length=1000),
    "rules": Field("array"),
    "tags": Field("array"),
    "type": Field("string", enum=("PERMANENT", "TEMPORARY")),
    "idType": Field("string"),
    "targetApps": Field(("array", "string")),
    "creatorID": Field("string", nullable=True),
    "creatorEmail": Field("string", nullable=True),
    "team": Field("string", nullable=True),
    "teamID": Field("string", nullable=True),
    "measureMetricLifts": Field("boolean"),
    "monitoringMetrics": Field("array"),
    "reviewSettings": Field("object"),
    "releasePipelineID": Field("string", nullable=True),
    "id": Field("string", min_length=3, max_length=100),
    "isTemplate": Field("boolean"),
}
_DYNAMIC_CONFIG = {
    "name": Field("string", min_length=3, max_length=100),
    "isEnabled": Field("boolean"),
    "description": Field("string", max_length=1000),
    "rules": Field("array"),
    "defaultValue": Field("object"),
    "defaultValueJson5": Field("string"),
    "idType": Field("string"),
    "tags": Field("array"),
    "creatorID": Field("string", nullable=True),
    "owner": Field("object", nullable=True),
    "creatorEmail": Field("string", nullable=True),
    "schema": Field("string", nullable=True),
    "schemaJson5": Field("string", nullable=True),
    "targetApps": Field(("array", "string")),
    "team": Field("string", nullable=True),
    "teamID": Field("string", nullable=True),
    "releasePipelineID": Field("string", nullable=True),
    "id": Field("string", min_length=3, max_length=100),
    "isTemplate": Field("boolean"),
}
_SEGMENT = {
    "name": Field("string", min_length=3, max_length=100),
    "id": Field("string", min_length=3, max_length=100),
    "description": Field("string", max_length=1000),
    "type": Field("string", enum=("id_list", "rule_based", "analysis_list", "user_store_id_list")),
    "idType": Field("string"),
    "tags": Field("array"),
    "creatorID": Field("string", nullable=True),
    "creatorEmail": Field("string", nullable=True),
    "team": Field("string", nullable=True),
    "teamID": Field("string", nullable=True),
    "rules": Field("array"),
}
_LAYER = {
    "name": Field("string", min_length=3, max_length=100),
    "description": Field("string", max_length=1000),
    "idType": Field("string"),
    "targetApps": Field(("array", "string")),
    "team": Field("string"),
    "parameters": Field("array"),
}
#: Experiment fields of the live spec that the 2025-10-20 snapshot lacks (its 2026-03 drift):
#: in the create and both update DTOs alike.
_LIVE_EXPERIMENT = {
    "bayesianPriors": Field("array"),
    "cureCovariates": Field("array"),
    "defaultChanceToBeatThreshold": Field("number"),
    "defaultRollupWindow": Field("number"),
    "defaultSPRTMDE": Field("number"),
    "defaultSPRTPowerParam": Field("number"),
    "enabledNonProdEnvironments": Field("array"),
    "externalEvents": Field("array"),
    "preComputedUserDimensions": Field("array"),
    "scheduledReloadDays": Field("array", nullable=True),
    "sprtBaselineMode": Field("string"),
    "sprtMDESettings": Field("array"),
    "turboMode": Field("boolean"),
    "userBuckets": Field("array"),
}
_EXPERIMENT = {
    "name": Field("string", min_length=3, max_length=100),
    "description": Field("string", max_length=1000),
    "idType": Field("string"),
    "secondaryIDType": Field("string", nullable=True),
    "identifierMappingMode": Field(
        "string", enum=("strictOneToOne", "firstTouchOneToMany", "lastTouchOneToMany")
    ),
    "identityResolutionSource": Field("string", nullable=True),
    "hypothesis": Field("string"),
    "links": Field("array"),
    "groups": Field("array"),
    "controlGroupID": Field("string"),
    "allocation": Field("number", minimum=0, maximum=100),
    "primaryMetricTags": Field("array"),
    "secondaryMetricTags": Field("array"),
    "primaryMetrics": Field("array"),
    "secondaryMetrics": Field("array"),
    "otherMetrics": Field("array"),
    "targetApps": Field(("array", "string")),
    "tags": Field("array"),
    "duration": Field("integer", minimum=1),
    "targetExposures": Field("integer", minimum=1),
    "targetingGateID": Field("string", nullable=True),
    "sequentialTesting": Field("boolean"),
    "bonferroniCorrection": Field("boolean"),
    "bonferroniCorrectionPerMetric": Field("boolean"),
    "benjaminiHochbergPerVariant": Field("boolean"),
    "benjaminiHochbergPerMetric": Field("boolean"),
    "benjaminiPrimaryMetricsOnly": Field("boolean"),
    "defaultConfidenceInterval": Field("string", enum=("80", "90", "95", "98", "99")),
    "manualQualityScores": Field("array"),
    "status": Field(
        "string",
        enum=(
            "active",
            "setup",
            "decision_made",
            "abandoned",
            "archived",
            "experiment_stopped",
            "assignment_stopped",
        ),
    ),
    "launchedGroupID": Field("string", nullable=True),
    "assignmentSourceName": Field("string"),
    "assignmentSourceExperimentName": Field("string"),
    "creatorID": Field("string", nullable=True),
    "creatorEmail": Field("string", nullable=True),
    "isAnalysisOnly": Field("boolean", nullable=True),
    "team": Field("string", nullable=True),
    "teamID": Field("string", nullable=True),
    "allocationDuration": Field("integer", nullable=True, minimum=1),
    "cohortedAnalysisDuration": Field("integer", minimum=1),
    "cohortedMetricsMatureAfterEnd": Field("boolean"),
    "cohortWaitUntilEndToInclude": Field("boolean"),
    "fixedAnalysisDuration": Field("integer", minimum=1),
    "scheduledReloadHour": Field("integer", nullable=True, minimum=0, maximum=23),
    "scheduledReloadType": Field("string", enum=("full", "incremental")),
    "analysisEndTime": Field("string"),
    "assignmentSourceFilters": Field("array"),
    "analyticsType": Field("string", enum=("frequentist", "bayesian", "sprt")),
    "isSidecar": Field("boolean"),
    "decisionReason": Field("string"),
    "stratifiedSampling": Field("object", nullable=True),
    "id": Field("string", min_length=3, max_length=100),
    "layerID": Field("string"),
    **_LIVE_EXPERIMENT,
}
_HOLDOUT = {
    "name": Field("string", min_length=3, max_length=100),
    "description": Field("string", max_length=1000),
    "idType": Field("string"),
    "teamID": Field("string", nullable=True),
    "isEnabled": Field("boolean"),
    "passPercentage": Field("number", minimum=0, maximum=10),
    "gateIDs": Field("array"),
    "experimentIDs": Field("array"),
    "layerIDs": Field("array"),
    "isGlobal": Field("boolean"),
    "targetingGateID": Field("string", nullable=True),
    "monitoringMetrics": Field("array"),
}
_RULE = {
    "name": Field("string"),
    "passPercentage": Field("number", minimum=0, maximum=100),
    "conditions": Field("array"),
    "environments": Field("array", nullable=True),
    "id": Field("string"),
    "baseID": Field("string"),
    "returnValue": Field("object"),
    "completedAutomatedRollouts": Field("array"),
    "pendingAutomatedRollouts": Field("array"),
}
_RULE_UPDATE = {
    "name": Field("string"),
    "passPercentage": Field("number", minimum=0, maximum=100),
    "conditions": Field("array"),
    "environments": Field("array", nullable=True),
    "id": Field("string"),
    "baseID": Field("string"),
    "returnValue": Field("object"),
    "completedAutomatedRollouts": Field("array"),
    "pendingAutomatedRollouts": Field("array"),
}

BODIES: dict[str, BodySpec] = {
    "gates": BodySpec(
        _GATE,
        create=_names("""
creatorEmail creatorID description id idType isEnabled isTemplate
measureMetricLifts monitoringMetrics name releasePipelineID reviewSettings rules
tags targetApps team teamID type"""),
        create_required=(),
        update=_names("""
creatorEmail creatorID description idType isEnabled measureMetricLifts
monitoringMetrics name releasePipelineID reviewSettings rules tags targetApps
team teamID type"""),
        full_update_required=("isEnabled", "description", "rules"),
    ),
    "dynamic_configs": BodySpec(
        _DYNAMIC_CONFIG,
        create=_names("""
creatorEmail creatorID defaultValue defaultValueJson5 description id idType
isEnabled isTemplate name owner releasePipelineID rules schema schemaJson5 tags
targetApps team teamID"""),
        create_required=("name",),
        update=_names("""
creatorEmail creatorID defaultValue defaultValueJson5 description idType
isEnabled name owner releasePipelineID rules schema schemaJson5 tags targetApps
team teamID"""),
        full_update_required=("isEnabled", "description", "rules"),
    ),
    "segments": BodySpec(
        _SEGMENT,
        create=_names("""
creatorEmail creatorID description id idType name rules tags team teamID type"""),
        create_required=("name", "type"),
        update=_names("""
"""),
        full_update_required=(),
    ),
    "layers": BodySpec(
        _LAYER,
        create=_names("""
description idType name targetApps team"""),
        create_required=("name", "idType"),
        update=_names("""
description parameters targetApps"""),
        full_update_required=("description", "parameters"),
    ),
    "experiments": BodySpec(
        _EXPERIMENT,
        create=_names("""
allocation allocationDuration analysisEndTime analyticsType
assignmentSourceExperimentName assignmentSourceFilters assignmentSourceName
benjaminiHochbergPerMetric benjaminiHochbergPerVariant
benjaminiPrimaryMetricsOnly bonferroniCorrection bonferroniCorrectionPerMetric
cohortWaitUntilEndToInclude cohortedAnalysisDuration
cohortedMetricsMatureAfterEnd controlGroupID creatorEmail creatorID
decisionReason defaultConfidenceInterval description duration
fixedAnalysisDuration groups hypothesis id idType identifierMappingMode
identityResolutionSource isAnalysisOnly isSidecar launchedGroupID layerID links
manualQualityScores name otherMetrics primaryMetricTags primaryMetrics
scheduledReloadHour scheduledReloadType secondaryIDType secondaryMetricTags
secondaryMetrics sequentialTesting status stratifiedSampling tags targetApps
targetExposures targetingGateID team teamID""")
        | frozenset(_LIVE_EXPERIMENT),
        create_required=("name",),
        update=_names("""
allocation allocationDuration analysisEndTime analyticsType
assignmentSourceExperimentName assignmentSourceFilters assignmentSourceName
benjaminiHochbergPerMetric benjaminiHochbergPerVariant
benjaminiPrimaryMetricsOnly bonferroniCorrection bonferroniCorrectionPerMetric
cohortWaitUntilEndToInclude cohortedAnalysisDuration
cohortedMetricsMatureAfterEnd controlGroupID creatorEmail creatorID
decisionReason defaultConfidenceInterval description duration
fixedAnalysisDuration groups hypothesis idType identifierMappingMode
identityResolutionSource isAnalysisOnly isSidecar launchedGroupID links
manualQualityScores name otherMetrics primaryMetricTags primaryMetrics
scheduledReloadHour scheduledReloadType secondaryIDType secondaryMetricTags
secondaryMetrics sequentialTesting status stratifiedSampling tags targetApps
targetExposures targetingGateID team teamID""")
        | frozenset(_LIVE_EXPERIMENT),
        full_update_required=(
            "description",
            "idType",
            "hypothesis",
            "groups",
            "allocation",
            "targetingGateID",
            "bonferroniCorrection",
            "defaultConfidenceInterval",
            "status",
        ),
    ),
    "holdouts": BodySpec(
        _HOLDOUT,
        create=_names("""
description idType name teamID"""),
        create_required=("name",),
        update=_names("""
description experimentIDs gateIDs isEnabled isGlobal layerIDs monitoringMetrics
passPercentage targetingGateID"""),
        full_update_required=(
            "isEnabled",
            "description",
            "passPercentage",
            "gateIDs",
            "experimentIDs",
            "layerIDs",
            "isGlobal",
            "targetingGateID",
        ),
    ),
}
RULE = BodySpec(
    _RULE,
    create=_names("""
baseID completedAutomatedRollouts conditions environments id name passPercentage
pendingAutomatedRollouts returnValue"""),
    create_required=("name", "passPercentage", "conditions"),
)
RULE_UPDATE = BodySpec(
    _RULE_UPDATE,
    create=_names("""
baseID completedAutomatedRollouts conditions environments id name passPercentage
pendingAutomatedRollouts returnValue"""),
    create_required=(),
)
