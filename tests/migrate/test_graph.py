"""References between entities, and the order (with cycles) they are created in."""

from bulkops.migrate.graph import create_references, dependency_order, references


def _passes(kind: str, *ids: str) -> dict:
    return {
        "name": "r",
        "passPercentage": 100,
        "conditions": [{"type": kind, "targetValue": list(ids)}],
    }


def test_every_reference_type_is_found() -> None:
    gate = {"rules": [_passes("passes_gate", "g1"), _passes("fails_segment", "s1")]}
    assert references("gates", gate) == [("gates", "g1"), ("segments", "s1")]
    experiment = {"targetingGateID": "g2", "layerID": "l1"}
    overrides = {"overrides": [{"type": "segment", "id": "s2", "groupID": "Test"}]}
    assert references("experiments", experiment, overrides) == [
        ("gates", "g2"),
        ("layers", "l1"),
        ("segments", "s2"),
    ]
    holdout = {
        "gateIDs": ["g3"],
        "experimentIDs": ["e1"],
        "layerIDs": ["l2"],
        "targetingGateID": "g4",
    }
    assert set(references("holdouts", holdout)) == {
        ("gates", "g3"),
        ("experiments", "e1"),
        ("layers", "l2"),
        ("gates", "g4"),
    }


def test_only_rules_and_an_experiments_gate_and_layer_must_exist_at_create() -> None:
    assert create_references("holdouts", {"gateIDs": ["g1"], "targetingGateID": "g2"}) == []
    experiment = {"layerID": "l1", "targetingGateID": "g1"}
    assert create_references("experiments", experiment) == [("gates", "g1"), ("layers", "l1")]


def test_read_only_reference_fields_are_not_references() -> None:
    assert references("gates", {"holdoutIDs": ["h1"]}) == []


def test_order_puts_what_is_named_first() -> None:
    edges = {"a": ["b"], "b": ["c"], "c": []}
    order, cyclic = dependency_order(["a", "b", "c"], lambda n: edges[n])
    assert order == ["c", "b", "a"] and cyclic == set()


def test_the_node_closing_a_cycle_is_cyclic_and_every_node_is_ordered() -> None:
    edges = {"a": ["b"], "b": ["a"], "self": ["self"]}
    order, cyclic = dependency_order(["a", "b", "self"], lambda n: edges[n])
    assert order == ["b", "a", "self"] and cyclic == {"b", "self"}


def test_a_long_chain_does_not_exhaust_the_stack() -> None:
    n = 20_000
    order, _ = dependency_order(range(n), lambda i: [i + 1] if i + 1 < n else [])
    assert order[0] == n - 1 and order[-1] == 0
