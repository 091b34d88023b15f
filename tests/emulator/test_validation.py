"""Validation as the service does it: each error is a 400 with a message that names the field."""

from __future__ import annotations

import pytest
from emulator_http import Api


def _error(reply) -> str:  # type: ignore[no-untyped-def]
    assert reply.status == 400, reply.body
    assert reply.body["status"] == 400
    return reply.body["message"]


def test_unknown_field_is_rejected(api: Api) -> None:
    assert "property colour should not exist" in _error(
        api.post("/gates", {"name": "g one", "colour": "red"})
    )


def test_read_only_field_is_rejected(api: Api) -> None:
    api.post("/gates", {"name": "g one"})
    assert "property checksPerHour should not exist" in _error(
        api.patch("/gates/g_one", {"checksPerHour": 5})
    )


def test_missing_required_field(api: Api) -> None:
    assert "name should not be empty" in _error(api.post("/experiments", {"description": "x"}))


def test_wrong_type(api: Api) -> None:
    assert "isEnabled must be a boolean value" in _error(
        api.post("/gates", {"name": "g one", "isEnabled": "yes"})
    )


def test_enum(api: Api) -> None:
    assert "type must be one of the following values" in _error(
        api.post("/gates", {"name": "g one", "type": "STALE"})
    )


def test_name_length_and_characters(api: Api) -> None:
    assert "longer than or equal to 3" in _error(api.post("/gates", {"name": "ab"}))
    assert "name must only contain" in _error(api.post("/gates", {"name": "bad/name"}))


@pytest.mark.parametrize("value", [-1, 10.5, 11])
def test_holdout_pass_percentage_is_0_to_10(api: Api, value: float) -> None:
    api.post("/holdouts", {"name": "h one"})
    assert "passPercentage" in _error(api.patch("/holdouts/h_one", {"passPercentage": value}))


def test_holdout_pass_percentage_10_is_accepted(api: Api) -> None:
    api.post("/holdouts", {"name": "h one"})
    assert api.patch("/holdouts/h_one", {"passPercentage": 10}).status == 200


@pytest.mark.parametrize("value", [-0.5, 100.01])
def test_rule_pass_percentage_is_0_to_100(api: Api, value: float) -> None:
    rule = {"name": "r", "passPercentage": value, "conditions": [{"type": "public"}]}
    assert "passPercentage" in _error(api.post("/gates", {"name": "g one", "rules": [rule]}))


def test_rule_condition_type_must_be_known(api: Api) -> None:
    rule = {"name": "r", "passPercentage": 5, "conditions": [{"type": "moon_phase"}]}
    assert "conditions.0.type" in _error(api.post("/gates", {"name": "g one", "rules": [rule]}))


def test_duplicate_name_on_create(api: Api) -> None:
    api.post("/gates", {"name": "g one"})
    assert "already exists" in _error(api.post("/gates", {"name": "G One"}))


def test_body_must_be_json(api: Api) -> None:
    assert "not valid JSON" in _error(api.call("POST", "/gates", raw=b"{nope"))


@pytest.mark.parametrize("field,kind", [("targetingGateID", "gate"), ("layerID", "layer")])
def test_experiment_references_must_exist(api: Api, field: str, kind: str) -> None:
    message = _error(api.post("/experiments", {"name": "exp_one", field: "ghost"}))
    assert f"{kind} ghost does not exist" in message


def test_experiment_references_that_exist_are_accepted(api: Api) -> None:
    api.post("/gates", {"name": "g one"})
    api.post("/layers", {"name": "l one", "idType": "userID"})
    reply = api.post(
        "/experiments", {"name": "exp_one", "targetingGateID": "g_one", "layerID": "l_one"}
    )
    assert reply.status == 201


@pytest.mark.parametrize("field", ["gateIDs", "experimentIDs", "layerIDs"])
def test_holdout_references_must_exist(api: Api, field: str) -> None:
    api.post("/holdouts", {"name": "h one"})
    assert "ghost does not exist" in _error(api.patch("/holdouts/h_one", {field: ["ghost"]}))


@pytest.mark.parametrize(
    "condition,kind",
    [
        ("passes_gate", "gate"),
        ("fails_gate", "gate"),
        ("passes_segment", "segment"),
        ("fails_segment", "segment"),
    ],
)
def test_rule_conditions_must_name_existing_gates_and_segments(
    api: Api, condition: str, kind: str
) -> None:
    rule = {
        "name": "r",
        "passPercentage": 5,
        "conditions": [{"type": condition, "targetValue": ["ghost"]}],
    }
    assert f"{kind} ghost does not exist" in _error(
        api.post("/gates", {"name": "g one", "rules": [rule]})
    )


def test_references_are_per_project(emulator, api: Api) -> None:  # type: ignore[no-untyped-def]
    api.post("/gates", {"name": "g one"})
    rule = {
        "name": "r",
        "passPercentage": 5,
        "conditions": [{"type": "passes_gate", "targetValue": "g_one"}],
    }
    assert api.post("/gates", {"name": "g two", "rules": [rule]}).status == 201


def test_bad_page_parameters(api: Api) -> None:
    assert "limit" in _error(api.get("/gates?limit=abc"))
    assert "page" in _error(api.get("/gates?page=0"))
