"""Segment contents: id lists (id_list, user_store_id_list) and rule-based conditions."""

from __future__ import annotations

import pytest
from emulator_http import Api

from bulkops.testing import EmulatorConfig, RunningEmulator


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(page_cap=2)


@pytest.fixture
def segments(api: Api) -> Api:
    for name, kind in (
        ("ids", "id_list"),
        ("store", "user_store_id_list"),
        ("rules", "rule_based"),
    ):
        assert api.post("/segments", {"name": f"seg {name}", "type": kind}).status == 201
    return api


def _ids(api: Api, segment: str = "seg_ids") -> list[str]:
    ids, page = [], 1
    while True:
        reply = api.get(f"/segments/{segment}/id_list?page={page}")
        ids += reply.data["ids"]
        if reply.body["pagination"]["nextPage"] is None:
            return ids
        page += 1


def test_id_list_add_is_a_union_remove_and_reset(segments: Api) -> None:
    api = segments
    assert api.patch("/segments/seg_ids/id_list", {"ids": ["a", "b", "c"]}).status == 200
    assert api.patch("/segments/seg_ids/id_list", {"ids": ["c", "d"]}).status == 200
    assert _ids(api) == ["a", "b", "c", "d"]
    assert api.delete("/segments/seg_ids/id_list", {"ids": ["b", "zz"]}).status == 200
    assert _ids(api) == ["a", "c", "d"]
    assert api.post("/segments/seg_ids/id_list/reset", {"ids": ["x"]}).status == 200
    assert _ids(api) == ["x"]
    assert api.get("/segments/seg_ids").data["count"] == 1


def test_id_list_pages_carry_name_and_total_count(segments: Api) -> None:
    segments.patch("/segments/seg_ids/id_list", {"ids": ["a", "b", "c"]})
    reply = segments.get("/segments/seg_ids/id_list")
    assert reply.data == {"name": "seg ids", "count": 3, "ids": ["a", "b"]}
    assert reply.body["pagination"]["totalItems"] == 3


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/segments/seg_store/id_list", {"ids": ["a"]}),
        ("PATCH", "/segments/seg_ids/add_ids", {"ids": ["a"]}),
        ("POST", "/segments/seg_ids/conditional", []),
        ("GET", "/segments/seg_rules/id_list", None),
    ],
)
def test_each_endpoint_takes_only_its_segment_type(
    segments: Api, method: str, path: str, body: object
) -> None:
    reply = segments.call(method, path, body)
    assert reply.status == 400
    assert "must be of type" in reply.body["message"]


@pytest.mark.parametrize(
    "body",
    [{}, {"ids": "a"}, {"ids": [1]}, {"ids": ["a"], "extra": 1}, {"ids": ["a"], "version": "1"}],
)
def test_bad_id_bodies_are_400s(segments: Api, body: object) -> None:
    assert segments.patch("/segments/seg_store/add_ids", body).status == 400


def test_user_store_lists_cap_a_call_at_1000_ids(segments: Api) -> None:
    reply = segments.patch("/segments/seg_store/add_ids", {"ids": [str(i) for i in range(1001)]})
    assert reply.status == 400 and "1000" in reply.body["message"]


def test_user_store_version_guards_concurrent_edits(segments: Api) -> None:
    api = segments
    assert api.get("/segments/seg_store/idlist_metadata").data["currentVersion"] == 0
    assert api.patch("/segments/seg_store/add_ids", {"ids": ["a", "b"], "version": 0}).status == 200
    stale = api.patch("/segments/seg_store/remove_ids", {"ids": ["a"], "version": 0})
    assert stale.status == 400 and "current version 1" in stale.body["message"]
    assert api.patch("/segments/seg_store/remove_ids", {"ids": ["a"], "version": 1}).status == 200
    assert _ids(api, "seg_store") == ["b"]
    assert api.get("/segments/seg_store/idlist_metadata").data == {
        "currentVersion": 2,
        "isUpdating": False,
    }


def test_conditional_replaces_rules_and_checks_conditions(segments: Api) -> None:
    api = segments
    rule = {"name": "r", "passPercentage": 100, "conditions": [{"type": "user_id"}]}
    reply = api.post("/segments/seg_rules/conditional", [rule])
    assert reply.status == 200 and reply.data["rules"][0]["id"]
    gate_rule = {**rule, "conditions": [{"type": "passes_gate", "targetValue": ["g"]}]}
    assert api.post("/segments/seg_rules/conditional", [gate_rule]).status == 400
    missing = {**rule, "conditions": [{"type": "passes_segment", "targetValue": ["ghost"]}]}
    reply = api.post("/segments/seg_rules/conditional", [missing])
    assert reply.status == 400 and "ghost" in reply.body["message"]


def test_id_lists_survive_a_snapshot_round_trip(emulator: RunningEmulator, segments: Api) -> None:
    segments.patch("/segments/seg_ids/id_list", {"ids": ["a", "b"]})
    snapshot = emulator.dump()
    segments.post("/segments/seg_ids/id_list/reset", {"ids": []})
    emulator.load(snapshot)
    assert _ids(segments) == ["a", "b"]


def test_deleting_a_segment_drops_its_ids(segments: Api) -> None:
    segments.patch("/segments/seg_ids/id_list", {"ids": ["a"]})
    segments.delete("/segments/seg_ids")
    segments.post("/segments", {"name": "seg ids", "type": "id_list"})
    assert _ids(segments) == []
