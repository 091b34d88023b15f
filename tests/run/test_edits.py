"""ListEdit application and Check matching."""

from __future__ import annotations

import pytest

from bulkops.run.edits import apply_edits, contains, edited_fields, excludes
from bulkops.run.job import JobConfigError, ListEdit


def test_add_keeps_others_values_and_order() -> None:
    entity = {"gateIDs": ["theirs", "a"]}
    edited, changed = apply_edits(entity, [ListEdit("gateIDs", add=("a", "b"))])
    assert changed and edited["gateIDs"] == ["theirs", "a", "b"]
    assert entity["gateIDs"] == ["theirs", "a"]  # the read is not modified


def test_nothing_to_change_reports_unchanged() -> None:
    edited, changed = apply_edits({"ids": ["a"]}, [ListEdit("ids", add=("a",), remove=("z",))])
    assert not changed and edited == {"ids": ["a"]}


def test_selector_edits_the_matching_element_and_creates_it_when_missing() -> None:
    entity = {"environmentOverrides": [{"environment": "prod", "passingIDs": ["u1"]}]}
    edit = ListEdit("environmentOverrides[environment=staging].passingIDs", add=("u2",))
    edited, changed = apply_edits(entity, [edit])
    assert changed
    assert edited["environmentOverrides"] == [
        {"environment": "prod", "passingIDs": ["u1"]},
        {"environment": "staging", "passingIDs": ["u2"]},
    ]
    removed, _ = apply_edits(edited, [ListEdit(edit.field, remove=("u2",))])
    assert removed["environmentOverrides"][1]["passingIDs"] == []
    assert edited_fields([edit, ListEdit("gateIDs")]) == ("environmentOverrides", "gateIDs")


def test_a_field_that_is_not_a_list_is_a_job_error() -> None:
    with pytest.raises(JobConfigError, match="does not name a list"):
        apply_edits({"name": "x"}, [ListEdit("name", add=("y",))])


def test_contains_and_excludes() -> None:
    gate = {"rules": [{"name": "r1", "id": "x"}], "isEnabled": True, "tags": ["a", "b"]}
    assert contains(gate, {"rules": [{"name": "r1"}], "tags": ["b"]})
    assert not contains(gate, {"rules": [{"name": "r2"}]})
    assert not contains(gate, {"missing": None})
    assert excludes(gate, {"tags": ["c"], "isEnabled": False})
    assert not excludes(gate, {"tags": ["a"]})


def test_multi_key_selector_matches_every_key() -> None:
    entity = {
        "userIDOverrides": [
            {"groupID": "test", "environment": "prod", "ids": ["p"]},
            {"groupID": "test", "ids": ["g"]},
        ]
    }
    edit = ListEdit("userIDOverrides[groupID=test,environment=staging].ids", add=("s",))
    edited, changed = apply_edits(entity, [edit])
    assert changed and edited["userIDOverrides"][2] == {
        "groupID": "test",
        "environment": "staging",
        "ids": ["s"],
    }
    assert edited["userIDOverrides"][:2] == entity["userIDOverrides"]


def test_empty_selector_value_matches_a_missing_or_null_key() -> None:
    entity = {
        "userIDOverrides": [
            {"groupID": "test", "environment": "prod", "ids": ["p"]},
            {"groupID": "test", "environment": None, "ids": ["g"]},
        ]
    }
    edit = ListEdit("userIDOverrides[groupID=test,environment=].ids", remove=("g",), add=("h",))
    edited, _ = apply_edits(entity, [edit])
    assert [e["ids"] for e in edited["userIDOverrides"]] == [["p"], ["h"]]
    created, _ = apply_edits({}, [ListEdit("o[groupID=t,environment=].ids", add=("x",))])
    assert created == {"o": [{"groupID": "t", "ids": ["x"]}]}


def test_malformed_multi_key_selector_is_a_config_error() -> None:
    for field in ("o[a=1,a=2].ids", "o[a=1,b].ids", "o[=1].ids"):
        with pytest.raises(JobConfigError):
            apply_edits({}, [ListEdit(field, add=("x",))])
