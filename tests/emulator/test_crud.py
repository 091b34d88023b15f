"""CRUD, envelope, pagination, ids, auth and projects."""

from __future__ import annotations

import pytest
from emulator_http import Api

from bulkops.testing import EmulatorConfig, RunningEmulator


def test_create_derives_the_id_from_the_name_as_the_service_does(api: Api) -> None:
    reply = api.post("/gates", {"name": "A Gate"})
    assert reply.status == 201
    assert reply.body["message"] == "Gate created successfully."
    assert reply.data["id"] == "a_gate"
    assert reply.data["name"] == "A Gate"


def test_create_accepts_an_explicit_id(api: Api) -> None:
    assert api.post("/dynamic_configs", {"name": "My Config", "id": "cfg_1"}).data["id"] == "cfg_1"


def test_read_answers_the_stored_entity_with_server_fields(api: Api) -> None:
    api.post("/gates", {"name": "beta gate", "description": "d"})
    gate = api.get("/gates/beta_gate").data
    for field in ("lastModifierID", "checksPerHour", "createdTime", "status", "type", "typeReason"):
        assert field in gate
    assert gate["description"] == "d"


def test_holdout_create_answers_200_as_documented(api: Api) -> None:
    assert api.post("/holdouts", {"name": "a holdout"}).status == 200


def test_unknown_id_is_404_with_the_service_error_body(api: Api) -> None:
    reply = api.get("/experiments/nope")
    assert reply.status == 404
    assert reply.body == {"status": 404, "message": "Experiment nope not found."}


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_missing_or_wrong_key_is_401(api: Api, key: str | None) -> None:
    reply = api.get("/gates", key=key)
    assert reply.status == 401
    assert reply.body["status"] == 401


def test_unknown_route_is_a_json_404(api: Api) -> None:
    reply = api.get("/no_such_kind")
    assert reply.status == 404 and reply.body["status"] == 404


def test_partial_update_changes_only_the_given_fields(api: Api) -> None:
    api.post("/gates", {"name": "g one", "description": "old", "tags": ["t"]})
    reply = api.patch("/gates/g_one", {"description": "new"})
    assert reply.status == 200
    assert reply.data["description"] == "new" and reply.data["tags"] == ["t"]
    assert reply.data["version"] == 2


def test_full_update_requires_the_full_body(api: Api) -> None:
    api.post("/gates", {"name": "g one"})
    assert api.post("/gates/g_one", {"description": "x"}).status == 400
    reply = api.post("/gates/g_one", {"description": "x", "isEnabled": False, "rules": []})
    assert reply.status == 200 and reply.data["isEnabled"] is False


def test_delete_removes_the_entity(api: Api) -> None:
    api.post("/layers", {"name": "layer one", "idType": "userID"})
    assert api.delete("/layers/layer_one").body == {"message": "Layer deleted successfully."}
    assert api.get("/layers/layer_one").status == 404


def test_segments_have_no_update_route(api: Api) -> None:
    api.post("/segments", {"name": "seg one", "type": "id_list"})
    assert api.patch("/segments/seg_one", {"description": "x"}).status == 404


def _names(api: Api, path: str) -> list[str]:
    return [item["id"] for item in api.get(path).data]


def test_pagination_walks_every_item_in_creation_order(api: Api) -> None:
    for i in range(5):
        api.post("/gates", {"name": f"gate {i}"})
    first = api.get("/gates?limit=2")
    assert [g["id"] for g in first.data] == ["gate_0", "gate_1"]
    assert first.body["pagination"] == {
        "itemsPerPage": 2,
        "pageNumber": 1,
        "totalItems": 5,
        "nextPage": "/console/v1/gates?page=2&limit=2",
        "previousPage": None,
        "all": "/console/v1/gates",
    }
    last = api.get("/gates?limit=2&page=3")
    assert _names(api, "/gates?limit=2&page=3") == ["gate_4"]
    assert last.body["pagination"]["nextPage"] is None
    assert last.body["pagination"]["previousPage"] == "/console/v1/gates?page=2&limit=2"


@pytest.mark.parametrize("emulator_config", [EmulatorConfig(page_cap=3)])
def test_limit_is_capped_by_the_server(api: Api) -> None:
    for i in range(5):
        api.post("/gates", {"name": f"gate {i}"})
    page = api.get("/gates?limit=100")
    assert len(page.data) == 3 and page.body["pagination"]["itemsPerPage"] == 3
    assert page.body["pagination"]["nextPage"] is not None


def test_list_filters_by_type_and_tags(api: Api) -> None:
    api.post("/gates", {"name": "perm gate", "type": "PERMANENT", "tags": ["core"]})
    api.post("/gates", {"name": "temp gate", "tags": ["other"]})
    assert _names(api, "/gates?type=PERMANENT") == ["perm_gate"]
    assert _names(api, "/gates?tags=other") == ["temp_gate"]
    assert _names(api, "/gates?tags=core&tags=other") == ["perm_gate", "temp_gate"]
    assert api.get("/gates?type=PERMANENT").body["pagination"]["totalItems"] == 1


def test_experiment_list_filters_by_status(api: Api) -> None:
    api.post("/experiments", {"name": "exp_one"})
    api.post("/experiments", {"name": "exp_two"})
    api.put("/experiments/exp_two/start")
    assert _names(api, "/experiments?status=active") == ["exp_two"]


@pytest.mark.parametrize(
    "emulator_config", [EmulatorConfig(projects={"source": "key-src", "target": "key-dst"})]
)
def test_each_project_has_its_own_state_and_key(emulator: RunningEmulator) -> None:
    source, target = Api(emulator, "source"), Api(emulator, "target")
    source.post("/gates", {"name": "only here"})
    assert source.get("/gates/only_here").status == 200
    assert target.get("/gates/only_here").status == 404
    assert emulator.api_key("target") == "key-dst"


def test_holdout_membership_shows_on_the_gate(api: Api) -> None:
    api.post("/gates", {"name": "g one"})
    api.post("/holdouts", {"name": "h one"})
    api.patch("/holdouts/h_one", {"gateIDs": ["g_one"]})
    assert api.get("/gates/g_one").data["holdoutIDs"] == ["h_one"]
    api.delete("/holdouts/h_one")
    assert api.get("/gates/g_one").data["holdoutIDs"] == []


def test_versions_list_every_state_newest_first(api: Api) -> None:
    api.post("/gates", {"name": "g one"})
    api.patch("/gates/g_one", {"description": "second"})
    api.put("/gates/g_one/disable")
    reply = api.get("/gates/g_one/versions")
    assert [v["version"] for v in reply.data] == [3, 2, 1]
    assert [v["description"] for v in reply.data] == ["second", "second", ""]
    assert reply.body["pagination"]["totalItems"] == 3
    assert api.get("/gates/ghost/versions").status == 404
    assert api.get("/layers/l/versions").status == 404


def test_a_tag_takes_an_empty_description_as_the_spec_allows_and_can_be_deleted(
    api: Api,
) -> None:
    created = api.post("/tags", {"name": "Core Team", "description": ""}).data
    # the server's own ID, not one the name gives (a client must not guess it)
    assert created == {"id": created["id"], "name": "Core Team", "description": "", "isCore": False}
    assert isinstance(created["id"], str) and created["id"] not in ("core_team", "Core Team")
    assert api.get(f"/tags/{created['id']}").data == created
    assert api.post("/tags", {"name": "no description"}).status == 400
    assert api.post("/tags", {"name": "Core Team", "description": "again"}).status == 400
    assert api.delete(f"/tags/{created['id']}").status == 200
    assert api.get(f"/tags/{created['id']}").status == 404
    assert api.delete(f"/tags/{created['id']}").status == 404


def test_a_target_app_can_be_deleted(api: Api) -> None:
    created = api.post("/target_app", {"name": "web", "description": ""}).data
    assert api.post("/target_app", {"name": "web", "description": ""}).status == 400
    assert api.delete(f"/target_app/{created['id']}").status == 200
    assert api.get("/target_app").data == []
