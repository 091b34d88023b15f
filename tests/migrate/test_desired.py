"""The desired state of a copy, and how it is compared with what the target holds."""

from bulkops.migrate.compare import differing_fields, normalize_overrides, same
from bulkops.migrate.desired import (
    created_id,
    desired_state,
    remap_overrides,
    split_create,
    unknown_fields,
)

MAPPING = {("gates", "g1"): "g1_copy", ("segments", "s1"): "s1_copy"}


def target_id_of(kind: str, source_id: str) -> str:
    return MAPPING.get((kind, source_id), source_id)


def test_references_are_remapped_and_server_and_project_fields_dropped() -> None:
    gate = {
        "id": "g2",
        "name": "g2",
        "creatorID": "u1",
        "type": "STALE",
        "rules": [
            {
                "id": "r1",
                "baseID": "r1",
                "name": "x",
                "passPercentage": 10,
                "conditions": [
                    {"type": "passes_gate", "targetValue": ["g1"]},
                    {"type": "fails_segment", "targetValue": "s1"},
                ],
            }
        ],
    }
    desired = desired_state("gates", gate, target_id_of)
    assert desired["type"] == "TEMPORARY" and "creatorID" not in desired and "id" not in desired
    [rule] = desired["rules"]
    assert "id" not in rule and "baseID" not in rule
    assert [c["targetValue"] for c in rule["conditions"]] == [["g1_copy"], "s1_copy"]


def test_an_experiments_status_is_never_part_of_its_desired_state() -> None:
    experiment = {"id": "e", "name": "e", "status": "active", "targetingGateID": "g1"}
    desired = desired_state("experiments", experiment, target_id_of, updates=True)
    assert "status" not in desired and desired["targetingGateID"] == "g1_copy"


def test_a_cleared_nullable_reference_is_kept_for_updates_only() -> None:
    experiment = {"id": "e", "name": "e", "targetingGateID": None}
    assert "targetingGateID" not in desired_state("experiments", experiment, target_id_of)
    synced = desired_state("experiments", experiment, target_id_of, updates=True)
    assert synced["targetingGateID"] is None


def test_what_a_create_cannot_take_is_patched_after_it() -> None:
    holdout = {"name": "h", "description": "d", "passPercentage": 5, "gateIDs": ["g1"]}
    create, after = split_create(
        "holdouts", desired_state("holdouts", holdout, target_id_of, updates=True)
    )
    assert create == {"name": "h", "description": "d"}
    assert after == {"passPercentage": 5, "gateIDs": ["g1_copy"]}


def test_layers_and_holdouts_get_the_id_their_name_gives() -> None:
    assert created_id("holdouts", "old_id", "Q3 Holdout") == "q3_holdout"
    assert created_id("gates", "g1", "Other Name") == "g1"


def test_override_references_are_remapped() -> None:
    doc = {"overrides": [{"type": "gate", "name": "g1", "groupID": "Test"}], "userIDOverrides": []}
    assert remap_overrides("experiments", doc, target_id_of)["overrides"] == [
        {"type": "gate", "id": "g1_copy", "groupID": "Test"}
    ]


def test_comparison_is_exact_on_lists_and_lenient_on_server_fields() -> None:
    assert same({"rules": [{"name": "a"}]}, {"rules": [{"name": "a", "id": "server"}]})
    assert not same({"tags": ["a"]}, {"tags": ["a", "b"]})
    assert not same({"isEnabled": True}, {"isEnabled": 1})
    assert same({"passPercentage": 10}, {"passPercentage": 10.0})
    assert same({"schema": None}, {})


def test_a_gate_the_target_made_stale_is_not_a_difference() -> None:
    assert differing_fields("gates", {"type": "TEMPORARY"}, {"type": "STALE"}) == []
    assert differing_fields("gates", {"type": "PERMANENT"}, {"type": "STALE"}) == ["type"]


def test_override_documents_compare_without_order_or_empty_entries() -> None:
    a = {"passingUserIDs": ["x", "y"], "failingUserIDs": [], "environmentOverrides": []}
    b = {
        "passingUserIDs": ["y", "x"],
        "environmentOverrides": [{"environment": "s", "passingIDs": [], "failingIDs": []}],
    }
    assert normalize_overrides(a) == normalize_overrides(b)


def test_live_fields_are_desired_and_only_fields_nobody_knows_are_unknown() -> None:
    experiment = {
        "id": "e1",
        "name": "e1",
        "turboMode": True,  # added by the live API: copied
        "enabledNonProdEnvironments": ["staging"],
        "isStale": True,  # added by the live API, read-only: neither copied nor unknown
        "createdTime": 1,
        "futureSetting": {"mode": "fast"},
        "futureFlag": False,
        "futureNull": None,
        "futureEmpty": [],
        "futureBlank": "",
    }
    desired = desired_state("experiments", experiment, target_id_of)
    assert desired["turboMode"] is True and desired["enabledNonProdEnvironments"] == ["staging"]
    assert "isStale" not in desired and "futureSetting" not in desired
    assert unknown_fields("experiments", experiment) == ["futureSetting", "futureFlag"]
    assert unknown_fields("gates", {"id": "g", "store0100Exposures": True}) == []
