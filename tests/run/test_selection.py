import pytest

from bulkops.run.job import JobConfigError
from bulkops.run.selection import build_selection, kind_of, parse_condition, selection_for


def test_server_side_filters_are_split_from_local_predicates() -> None:
    sel = selection_for(
        kind_of("gates"), ["type=STALE", "name~checkout_*", "isEnabled=true", "tag=keep"]
    )
    assert sel.server == {"type": "STALE", "tags": "keep"}
    assert [str(c) for c in sel.local] == ["name~checkout_*", "isEnabled=true"]


def test_conditions_are_anded() -> None:
    sel = build_selection(["name~a*", "isEnabled=false"])
    assert sel.matches({"name": "abc", "isEnabled": False})
    assert not sel.matches({"name": "abc", "isEnabled": True})
    assert not sel.matches({"name": "xbc", "isEnabled": False})


def test_list_fields_match_on_contains_and_not_contains() -> None:
    sel = build_selection(["tags=keep"])
    assert sel.matches({"tags": ["a", "keep"]})
    assert not build_selection(["tags!=keep"]).matches({"tags": ["keep"]})


def test_glob_matches_any_list_element_and_numbers_compare_numerically() -> None:
    assert build_selection(["tags~team-*"]).matches({"tags": ["x", "team-growth"]})
    assert build_selection(["passPercentage=5"]).matches({"passPercentage": 5.0})


def test_null_matches_missing_field() -> None:
    assert build_selection(["targetingGateID=null"]).matches({"id": "e1"})


def test_second_condition_on_a_server_field_is_applied_locally() -> None:
    sel = build_selection(["tags=a", "tags=b"], server_filters={"tags"})
    assert sel.server == {"tags": "a"}
    assert sel.matches({"tags": ["a", "b"]}) and not sel.matches({"tags": ["a"]})


def test_server_conditions_are_rechecked_locally_when_the_field_is_there() -> None:
    sel = build_selection(["type=STALE"], server_filters={"type", "passRate"})
    assert not sel.matches({"type": "PERMANENT"})
    assert build_selection(["passRate=0"], server_filters={"passRate"}).matches({"id": "g"})


@pytest.mark.parametrize("text", ["type", "=STALE", "name~", "type=STALEE", "1x=2"])
def test_malformed_where_is_a_config_error_naming_it(text: str) -> None:
    with pytest.raises(JobConfigError, match="--where"):
        parse_condition(text)


def test_unknown_field_is_rejected_with_the_known_fields() -> None:
    with pytest.raises(JobConfigError, match="no field 'colour'"):
        selection_for(kind_of("gates"), ["colour=red"])


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(JobConfigError, match="unknown kind 'gatez'"):
        kind_of("gatez")


def test_no_where_selects_everything() -> None:
    sel = build_selection(None)
    assert sel.matches({"id": "x"}) and sel.describe() == "everything"
