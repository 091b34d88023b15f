"""Rules (adding is not idempotent) and overrides (replace, union, remove)."""

from __future__ import annotations

from emulator_http import Api

from bulkops.testing import RunningEmulator

RULE = {"name": "everyone", "passPercentage": 50, "conditions": [{"type": "public"}]}


def _gate(api: Api) -> None:
    assert api.post("/gates", {"name": "g one"}).status == 201


def test_adding_a_rule_twice_adds_it_twice(api: Api, emulator: RunningEmulator) -> None:
    _gate(api)
    api.post("/gates/g_one/rule", RULE)
    rules = api.post("/gates/g_one/rules", {"rules": [RULE]}).data["rules"]
    assert [r["name"] for r in rules] == ["everyone", "everyone"]
    assert rules[0]["id"] != rules[1]["id"]
    assert len(emulator.mutation_log()) == 3


def test_rules_are_read_as_the_schema_has_them(api: Api) -> None:
    _gate(api)
    api.post("/gates/g_one/rule", RULE)
    reply = api.get("/gates/g_one/rules")
    assert reply.data[0]["rules"][0]["name"] == "everyone"
    assert reply.body["pagination"]["totalItems"] == 1


def test_update_and_delete_one_rule(api: Api) -> None:
    _gate(api)
    rule_id = api.post("/gates/g_one/rule", RULE).data["rules"][0]["id"]
    updated = api.patch(f"/gates/g_one/rules/{rule_id}", {"passPercentage": 75})
    assert updated.data["rules"][0]["passPercentage"] == 75
    assert api.patch(f"/gates/g_one/rules/{rule_id}", {"passPercentage": 101}).status == 400
    assert api.delete(f"/gates/g_one/rules/{rule_id}").data["rules"] == []
    assert api.delete(f"/gates/g_one/rules/{rule_id}").status == 404


def test_update_several_rules_by_id(api: Api) -> None:
    _gate(api)
    rules = api.post("/gates/g_one/rules", {"rules": [RULE, RULE]}).data["rules"]
    reply = api.patch("/gates/g_one/rules", {"rules": [{"id": rules[1]["id"], "name": "half"}]})
    assert [r["name"] for r in reply.data["rules"]] == ["everyone", "half"]
    assert api.patch("/gates/g_one/rules", {"rules": [{"id": "ghost"}]}).status == 404


def test_dynamic_config_rule_routes(api: Api) -> None:
    api.post("/dynamic_configs", {"name": "cfg one", "rules": [RULE]})
    rule_id = api.get("/dynamic_configs/cfg_one").data["rules"][0]["id"]
    assert api.get(f"/dynamic_configs/cfg_one/rule/{rule_id}").data["name"] == "everyone"
    reply = api.patch(f"/dynamic_configs/cfg_one/rule/{rule_id}", {"passPercentage": 5})
    assert reply.data["rules"][0]["passPercentage"] == 5


def test_gate_overrides_replace_union_remove(api: Api) -> None:
    _gate(api)
    assert api.get("/gates/g_one/overrides").data["passingUserIDs"] == []
    api.post("/gates/g_one/overrides", {"passingUserIDs": ["a", "b"], "failingUserIDs": []})
    reply = api.patch(
        "/gates/g_one/overrides", {"passingUserIDs": ["b", "c"], "failingUserIDs": ["x"]}
    )
    assert reply.status == 201
    assert reply.data["passingUserIDs"] == ["a", "b", "c"]
    reply = api.delete("/gates/g_one/overrides", {"passingUserIDs": ["a"], "failingUserIDs": []})
    assert reply.data["passingUserIDs"] == ["b", "c"] and reply.data["failingUserIDs"] == ["x"]
    replaced = api.post("/gates/g_one/overrides", {"passingUserIDs": ["z"], "failingUserIDs": []})
    assert replaced.data["passingUserIDs"] == ["z"] and replaced.data["failingUserIDs"] == []
    assert api.delete("/gates/g_one/overrides").data["passingUserIDs"] == []


def test_environment_overrides_merge_by_environment_and_unit(api: Api) -> None:
    _gate(api)
    env = {"environment": "staging", "unitID": "userID", "passingIDs": ["a"], "failingIDs": []}
    api.post("/gates/g_one/overrides", {"environmentOverrides": [env]})
    more = {**env, "passingIDs": ["b"]}
    data = api.patch("/gates/g_one/overrides", {"environmentOverrides": [more]}).data
    assert data["environmentOverrides"] == [{**env, "passingIDs": ["a", "b"]}]
    data = api.delete(
        "/gates/g_one/overrides", {"environmentOverrides": [{**env, "passingIDs": ["a", "b"]}]}
    ).data
    assert data["environmentOverrides"] == []


def test_overrides_body_is_validated(api: Api) -> None:
    _gate(api)
    assert api.post("/gates/g_one/overrides", {"passingUserIDs": ["a"]}).status == 400
    assert (
        api.post("/gates/g_one/overrides", {"passingUserIDs": [""], "failingUserIDs": []}).status
        == 400
    )


def test_holdout_overrides(api: Api) -> None:
    api.post("/holdouts", {"name": "h one"})
    reply = api.patch("/holdouts/h_one/overrides", {"passingUserIDs": ["u"], "failingUserIDs": []})
    assert reply.status == 200 and reply.data["passingUserIDs"] == ["u"]


def test_experiment_overrides(api: Api) -> None:
    api.post("/gates", {"name": "g one"})
    api.post("/experiments", {"name": "exp_one"})
    body = {
        "overrides": [{"type": "gate", "id": "g_one", "groupID": "control"}],
        "userIDOverrides": [{"groupID": "test", "ids": ["u1"]}],
    }
    assert api.post("/experiments/exp_one/overrides", body).status == 200
    more = {"overrides": [], "userIDOverrides": [{"groupID": "test", "ids": ["u2"]}]}
    data = api.patch("/experiments/exp_one/overrides", more).data
    assert data["userIDOverrides"][0]["ids"] == ["u1", "u2"] and len(data["overrides"]) == 1
    ghost = {
        "overrides": [{"type": "segment", "id": "ghost", "groupID": "c"}],
        "userIDOverrides": [],
    }
    assert api.patch("/experiments/exp_one/overrides", ghost).status == 400
    assert api.delete("/experiments/exp_one/overrides").data == {
        "overrides": [],
        "userIDOverrides": [],
    }
