"""Entities the server answers are checked for the fields jobs rely on (``bulkops.api.shapes``).

A wrong-typed entity is the server's fault: a ``BadResponseError`` (exit 4) naming the
endpoint and the field, never a crash in the job's code blamed on the user.
"""

from __future__ import annotations

from typing import Any

import pytest

from bulkops.api.errors import BadResponseError
from bulkops.api.resources import get_kind
from bulkops.api.shapes import item_kind, list_kind, overrides_error, read_checker, shape_error

GATES = get_kind("gates")
GOOD: dict[str, Any] = {"id": "g1", "name": "g1", "rules": [{"conditions": []}], "tags": []}


def test_a_well_formed_entity_passes() -> None:
    assert shape_error(GATES, GOOD) is None
    assert shape_error(GATES, {"id": "g1", "tags": None, "rules": None}) is None


@pytest.mark.parametrize(
    ("entity", "said"),
    [
        (["g1"], "not a JSON object"),
        ({"name": "g1"}, "id is missing"),
        ({**GOOD, "id": 7}, "id is 7"),
        ({**GOOD, "name": ["x"]}, "name is list"),
        ({**GOOD, "rules": {"a": 1}}, "rules is not a list of objects"),
        ({**GOOD, "rules": [{"conditions": "x"}]}, "conditions is not a list of objects"),
        ({**GOOD, "tags": "t"}, "tags is str"),
        ({**GOOD, "holdoutIDs": 3}, "holdoutIDs is int"),
    ],
)
def test_a_wrong_typed_entity_says_which_field(entity: Any, said: str) -> None:
    assert said in (shape_error(GATES, entity) or "")


def test_overrides_documents_need_lists() -> None:
    assert overrides_error({"passingUserIDs": ["a"], "environmentOverrides": []}) is None
    assert "passingUserIDs is int" in (overrides_error({"passingUserIDs": 1}) or "")
    assert "not a list of objects" in (overrides_error({"userIDOverrides": [1]}) or "")


def test_paths_name_their_kind() -> None:
    assert list_kind("/gates") is GATES and list_kind("/metrics/list") is get_kind("metrics")
    assert item_kind("/gates/g1") is GATES and item_kind("/gates/g1/rules") is None
    assert read_checker("PATCH", "/gates/g1") is None


def test_a_malformed_read_is_a_bad_response_naming_the_endpoint() -> None:
    check = read_checker("GET", "/gates/g1")
    assert check is not None
    with pytest.raises(BadResponseError) as caught:
        check({**GOOD, "rules": "x"})
    assert caught.value.path == "/gates/g1" and "gates 'g1'" in str(caught.value)
