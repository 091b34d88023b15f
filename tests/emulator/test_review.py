"""``x-respect-review-settings``: writes to entities that require review are held, not applied."""

from __future__ import annotations

import pytest
from emulator_http import Api

from bulkops.emulator.review import REVIEW_HEADER, wants_review

RESPECT = {REVIEW_HEADER: "true"}
RULE = {"name": "r", "passPercentage": 10, "conditions": [{"type": "public"}]}


@pytest.fixture
def reviewed(api: Api) -> Api:
    body = {"name": "g one", "reviewSettings": {"requiredReview": True, "allowedReviewers": []}}
    assert api.post("/gates", body).status == 201
    assert api.post("/gates", {"name": "g free"}).status == 201
    return api


def test_with_the_header_a_write_to_a_reviewed_gate_is_held(reviewed: Api) -> None:
    reply = reviewed.call("PATCH", "/gates/g_one", {"description": "new"}, headers=RESPECT)
    assert reply.status == 200 and "review" in reply.body["message"]
    gate = reviewed.get("/gates/g_one").data
    assert gate["description"] == ""
    assert gate["activeReview"]["reviewStatus"] == "PENDING"
    held = reviewed.call("POST", "/gates/g_one/rules", {"rules": [RULE]}, headers=RESPECT)
    assert held.status == 200 and reviewed.get("/gates/g_one").data["rules"] == []


def test_without_the_header_the_console_api_bypasses_reviews(reviewed: Api) -> None:
    assert reviewed.patch("/gates/g_one", {"description": "new"}).status == 200
    assert reviewed.get("/gates/g_one").data["description"] == "new"
    off = {REVIEW_HEADER: "false"}
    assert reviewed.call("PATCH", "/gates/g_one", {"description": "x"}, headers=off).status == 200
    assert reviewed.get("/gates/g_one").data["description"] == "x"


def test_the_header_changes_nothing_for_gates_without_required_review(reviewed: Api) -> None:
    reply = reviewed.call("PATCH", "/gates/g_free", {"description": "new"}, headers=RESPECT)
    assert reply.status == 200
    assert reviewed.get("/gates/g_free").data["description"] == "new"


def test_deleting_is_never_held(reviewed: Api) -> None:
    assert reviewed.call("DELETE", "/gates/g_one", headers=RESPECT).status == 200
    assert reviewed.get("/gates/g_one").status == 404


@pytest.mark.parametrize(("value", "wanted"), [("true", True), ("TRUE", True), ("false", False)])
def test_header_values(value: str, wanted: bool) -> None:
    assert wants_review({REVIEW_HEADER: value}) is wanted
    assert wants_review({}) is False
