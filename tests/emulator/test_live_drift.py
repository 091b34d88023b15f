"""The emulator accepts what the live API added since the 2025-10-20 spec snapshot.

The live spec (API version 20240601, as of 2026-03; ``console-v1.drift-2026-03.json`` next to
the spec) adds 14 fields to the experiment create and update DTOs and two condition types to
gate rules, and allows segment rules only 14 condition types. The emulator must take what the
service takes (else a migration of a real project could not be rehearsed on it) and refuse what
it refuses. The spec-reading cases skip when the spec is absent.
"""

from __future__ import annotations

import pytest
from emulator_http import Api
from openapi_spec import MISSING_REASON, live_additions, load_drift, load_spec, spec_available
from openapi_spec import ts_json_types as json_types

from bulkops.emulator.fields import BODIES
from bulkops.emulator.routes_segments import SEGMENT_CONDITION_TYPES
from bulkops.emulator.validation import CONDITION_TYPES

spec_only = pytest.mark.skipif(not spec_available(), reason=MISSING_REASON)

LIVE_EXPERIMENT = {
    "bayesianPriors": [],
    "cureCovariates": [],
    "defaultChanceToBeatThreshold": 0.95,
    "defaultRollupWindow": 14,
    "defaultSPRTMDE": 0.02,
    "defaultSPRTPowerParam": 0.8,
    "enabledNonProdEnvironments": ["staging", "development"],
    "externalEvents": [],
    "preComputedUserDimensions": [],
    "scheduledReloadDays": [1, 3],
    "sprtBaselineMode": "control",
    "sprtMDESettings": [],
    "turboMode": True,
    "userBuckets": [1, 2],
}


@spec_only
@pytest.mark.spec
@pytest.mark.parametrize(
    "dto,accepts",
    [
        ("ExperimentCreateDto", "create"),
        ("ExperimentPartialUpdateDto", "update"),
        ("ExperimentFullUpdateDto", "update"),
    ],
)
def test_the_live_experiment_fields_are_accepted_with_their_types(dto: str, accepts: str) -> None:
    body = BODIES["experiments"]
    added = live_additions(dto)
    assert set(added) == set(LIVE_EXPERIMENT)
    assert set(added) <= getattr(body, accepts)
    for name, ts_type in added.items():
        field = body.fields[name]
        types = {field.type} if isinstance(field.type, str) else set(field.type)
        assert "|".join(sorted(types | ({"null"} if field.nullable else set()))) == json_types(
            ts_type
        ), name


@spec_only
@pytest.mark.spec
def test_rule_condition_types_are_the_live_ones() -> None:
    drift = load_drift()["enum_drift"]
    snapshot = load_spec()["components"]["schemas"]["RuleDto"]["properties"]["conditions"]
    assert set(snapshot["items"]["properties"]["type"]["enum"]) < CONDITION_TYPES
    assert CONDITION_TYPES == set(drift["rule_condition_type"]["live_gate_config_rules"])
    assert SEGMENT_CONDITION_TYPES == set(drift["segment_rule_condition_type"]["live"])


def test_an_experiment_with_every_live_field_is_created_read_back_and_patched(api: Api) -> None:
    reply = api.post("/experiments", {"name": "exp one", **LIVE_EXPERIMENT})
    assert reply.status == 201, reply.body
    stored = api.get("/experiments/exp_one").data
    assert {k: stored.get(k) for k in LIVE_EXPERIMENT} == LIVE_EXPERIMENT
    assert api.patch("/experiments/exp_one", {"turboMode": False}).status == 200
    assert api.get("/experiments/exp_one").data["turboMode"] is False


def test_a_live_field_of_the_wrong_type_is_refused(api: Api) -> None:
    reply = api.post("/experiments", {"name": "exp one", "turboMode": "yes"})
    assert reply.status == 400
    assert "turboMode must be a boolean value" in reply.body["message"]


@pytest.mark.parametrize("condition", ["user_agent", "experiment_group"])
def test_gate_rules_take_the_live_condition_types(api: Api, condition: str) -> None:
    rule = {
        "name": "r",
        "passPercentage": 10,
        "conditions": [{"type": condition, "operator": "any", "targetValue": ["x"]}],
    }
    assert api.post("/gates", {"name": "g one", "rules": [rule]}).status == 201
    assert api.get("/gates/g_one").data["rules"][0]["conditions"][0]["type"] == condition
