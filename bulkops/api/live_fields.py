"""What the live Console API has beyond the spec snapshot the catalog is derived from.

The catalog (:mod:`bulkops.api.resources`) is derived from the 2025-10-20 snapshot of the
spec. The live spec of the same API version (20240601), as of 2026-03-26, has more properties
on some DTOs (the drift file next to the spec, ``console-v1.drift-2026-03.json``). The service
refuses a body property it does not know ("property X should not exist"), so a migration
copies only the fields it knows: a field the live API added and the catalog lacked would be
missing from every copy, and from every comparison. These are those fields, per kind:

- writable ones, in the create DTO and both update DTOs alike, with their JSON types (the
  drift gives TypeScript types: ``Array<...>`` is an array, an enum of strings a string);
- read-only ones, in the entity as read only (never written back).

``tests/api/test_resources_spec.py`` checks them against the drift file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bulkops.api.resource_kind import ResourceKind

__all__ = ["LIVE_READ_ONLY", "LIVE_WRITABLE", "with_live_fields"]

LIVE_WRITABLE: Mapping[str, Mapping[str, str]] = {
    "experiments": {
        "bayesianPriors": "array",
        "cureCovariates": "array",
        "defaultChanceToBeatThreshold": "number",
        "defaultRollupWindow": "number",
        "defaultSPRTMDE": "number",
        "defaultSPRTPowerParam": "number",
        "enabledNonProdEnvironments": "array",
        "externalEvents": "array",
        "preComputedUserDimensions": "array",
        "scheduledReloadDays": "array|null",
        "sprtBaselineMode": "string",
        "sprtMDESettings": "array",
        "turboMode": "boolean",
        "userBuckets": "array",
    },
}
"""Kind -> field -> JSON types (as in ``ResourceKind.update_types``) of the live additions."""

LIVE_READ_ONLY: Mapping[str, frozenset[str]] = {
    "experiments": frozenset({"experimentType", "inlineTargetingRules", "isStale", "qualityScore"}),
    "gates": frozenset({"store0100Exposures"}),
    "dynamic_configs": frozenset({"checksPerHour"}),
}
"""Kind -> fields the live API adds to the entity as read, and no write takes."""


def with_live_fields(kind: ResourceKind) -> ResourceKind:
    """``kind`` with the live additions above (itself when it has none)."""
    writable = LIVE_WRITABLE.get(kind.name, {})
    read_only = LIVE_READ_ONLY.get(kind.name, frozenset())
    if not writable and not read_only:
        return kind
    return replace(
        kind,
        create_fields=kind.create_fields | set(writable),
        update_fields=kind.update_fields | set(writable),
        update_types={**kind.update_types, **writable},
        read_only_fields=kind.read_only_fields | read_only,
    )
