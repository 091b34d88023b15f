"""Lifecycle endpoints of gates, dynamic configs, segments and experiments."""

from __future__ import annotations

from emulator_http import Api


def test_gate_lifecycle(api: Api) -> None:
    api.post("/gates", {"name": "g one"})
    assert api.put("/gates/g_one/disable").data["isEnabled"] is False
    assert api.put("/gates/g_one/enable").data["isEnabled"] is True
    assert api.put("/gates/g_one/launch").data["status"] == "Launched"
    archived = api.put("/gates/g_one/archive", {"archiveReason": "done"})
    assert archived.data["status"] == "Archived"
    assert api.put("/gates/g_one/unarchive").data["status"] == "In Progress"
    assert api.put("/gates/ghost/archive").status == 404


def test_lifecycle_bodies_are_validated(api: Api) -> None:
    api.post("/gates", {"name": "g one"})
    assert api.put("/gates/g_one/archive", {"why": "x"}).status == 400


def test_dynamic_config_and_segment_lifecycle(api: Api) -> None:
    api.post("/dynamic_configs", {"name": "cfg one"})
    assert api.put("/dynamic_configs/cfg_one/disable").data["isEnabled"] is False
    api.post("/segments", {"name": "seg one", "type": "id_list"})
    assert api.put("/segments/seg_one/archive").status == 200


def test_experiment_start_is_not_repeatable(api: Api) -> None:
    api.post("/experiments", {"name": "exp_one"})
    started = api.put("/experiments/exp_one/start")
    assert started.body == {"message": "Experiment started successfully."}
    assert api.get("/experiments/exp_one").data["status"] == "active"
    assert api.put("/experiments/exp_one/start").status == 400


def test_experiment_abandon_needs_a_reason(api: Api) -> None:
    api.post("/experiments", {"name": "exp_one"})
    assert api.put("/experiments/exp_one/abandon").status == 400
    assert api.put("/experiments/exp_one/abandon", {"decisionReason": "meh"}).status == 200
    experiment = api.get("/experiments/exp_one").data
    assert experiment["status"] == "abandoned" and experiment["decisionReason"] == "meh"


def test_experiment_decision_archive_and_reset(api: Api) -> None:
    groups = [
        {"name": "control", "id": "control", "size": 50, "parameterValues": {}},
        {"name": "test", "id": "test", "size": 50, "parameterValues": {}},
    ]
    api.post("/experiments", {"name": "exp_one", "groups": groups})
    api.put("/experiments/exp_one/start")
    assert (
        api.put("/experiments/exp_one/make_decision", {"id": "nope", "decisionReason": "x"}).status
        == 400
    )
    api.put("/experiments/exp_one/make_decision", {"id": "test", "decisionReason": "won"})
    assert api.get("/experiments/exp_one").data["launchedGroupID"] == "test"
    api.put("/experiments/exp_one/archive")
    assert api.get("/experiments/exp_one").data["status"] == "archived"
    api.put("/experiments/exp_one/unarchive")
    assert api.get("/experiments/exp_one").data["status"] == "decision_made"
    api.put("/experiments/exp_one/reset")
    assert api.get("/experiments/exp_one").data["status"] == "setup"
