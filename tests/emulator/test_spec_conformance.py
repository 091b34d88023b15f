"""Conformance with the real spec (../shared/statsig-openapi/console-v1.json).

1. Every modeled endpoint's answer validates against the response schema the spec gives for
   that operation and status (OpenAPI 3.0 semantics, the spec's components resolved), required
   fields included.
2. Create bodies built from the spec's own request examples are accepted. Examples sometimes
   carry fields their schema does not declare (e.g. ``lastModifierName`` in the gate create
   example); we follow the schema and keep only declared fields.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from emulator_http import Api
from openapi_spec import MISSING_REASON, load_spec, spec_available

from bulkops.testing import RunningEmulator

pytestmark = pytest.mark.spec

if not spec_available():
    pytest.skip(MISSING_REASON, allow_module_level=True)

from openapi_schema_validator import OAS30Validator

SPEC: dict[str, Any] = load_spec()
RULE = {"name": "everyone", "passPercentage": 50, "conditions": [{"type": "public"}]}
SEGMENT_RULE = {
    "name": "staff",
    "passPercentage": 100,
    "conditions": [{"type": "email", "operator": "str_contains_any", "targetValue": ["@x.io"]}],
}
# Schemas that contradict themselves: allOf a paged list (data: array) and data: IDListDto
# (an object). The spec's example, and so the emulator, answers the object; we check the
# object against IDListDto and the rest against the paged envelope.
SELF_CONTRADICTORY = {("GET", "/segments/{id}/id_list"): "IDListDto"}
GROUPS = [
    {"name": "control", "id": "control", "size": 50, "parameterValues": {}},
    {"name": "test", "id": "test", "size": 50, "parameterValues": {}},
]


def _contradictory_errors(method: str, spec_path: str, body: Any) -> list[Any]:
    components = {"components": SPEC["components"]}
    data_schema = {"$ref": "#/components/schemas/" + SELF_CONTRADICTORY[(method, spec_path)]}
    envelope = {"$ref": "#/components/schemas/PaginationResponseWithMessage"}
    rest = {**body, "data": []}
    return [
        *OAS30Validator({**data_schema, **components}).iter_errors(body.get("data")),
        *OAS30Validator({**envelope, **components}).iter_errors(rest),
    ]


def _validator(method: str, spec_path: str, status: int) -> OAS30Validator:
    responses = SPEC["paths"]["/console/v1" + spec_path][method.lower()]["responses"]
    entry = responses.get(str(status))
    assert entry is not None, f"{method} {spec_path} answered {status}, not in {list(responses)}"
    schema = entry["content"]["application/json"]["schema"]
    return OAS30Validator({**schema, "components": SPEC["components"]})


def _populate(api: Api) -> str:
    api.post("/segments", {"name": "seg one", "type": "id_list"})
    api.post("/segments", {"name": "seg store", "type": "user_store_id_list"})
    api.post("/segments", {"name": "seg rules", "type": "rule_based"})
    api.post("/gates", {"name": "g one", "rules": [RULE]})
    api.post("/layers", {"name": "layer one", "idType": "userID"})
    api.post(
        "/experiments",
        {
            "name": "exp_one",
            "targetingGateID": "g_one",
            "groups": GROUPS,
            "layerID": "layer_one",
            "hypothesis": "h",
        },
    )
    api.post("/experiments", {"name": "exp_two", "groups": GROUPS})
    api.post("/holdouts", {"name": "h one"})
    api.post("/dynamic_configs", {"name": "cfg one", "rules": [RULE]})
    api.post("/tags", {"name": "core", "description": "core things"})
    api.post("/target_app", {"name": "web", "description": "the web app"})
    return api.get("/gates/g_one").data["rules"][0]["id"]


FULL_GATE = {"description": "d", "isEnabled": True, "rules": [{**RULE, "id": "{rule}"}]}
FULL_EXPERIMENT = {
    "description": "d",
    "idType": "userID",
    "hypothesis": "h",
    "groups": GROUPS,
    "allocation": 50,
    "targetingGateID": None,
    "bonferroniCorrection": False,
    "defaultConfidenceInterval": "95",
    "status": "setup",
}
FULL_HOLDOUT = {
    "isEnabled": True,
    "description": "d",
    "passPercentage": 5,
    "gateIDs": ["g_one"],
    "experimentIDs": [],
    "layerIDs": [],
    "isGlobal": False,
    "targetingGateID": None,
}
IDS = {"passingUserIDs": ["u1"], "failingUserIDs": []}
EXP_OVERRIDES = {
    "overrides": [{"type": "gate", "id": "g_one", "groupID": "test"}],
    "userIDOverrides": [{"groupID": "test", "ids": ["u1"]}],
}

# (method, spec path, concrete path, body); {rule} is the gate's first rule id.
CASES: list[tuple[str, str, str, Any]] = [
    ("GET", "/gates", "/gates", None),
    ("GET", "/gates/{id}", "/gates/g_one", None),
    ("PATCH", "/gates/{id}", "/gates/g_one", {"description": "x"}),
    ("POST", "/gates/{id}", "/gates/g_one", FULL_GATE),
    ("GET", "/gates/{id}/rules", "/gates/g_one/rules", None),
    ("GET", "/gates/{id}/versions", "/gates/g_one/versions", None),
    ("POST", "/gates/{id}/rules", "/gates/g_one/rules", {"rules": [RULE]}),
    ("POST", "/gates/{id}/rule", "/gates/g_one/rule", RULE),
    ("PATCH", "/gates/{id}/rules/{ruleID}", "/gates/g_one/rules/{rule}", {"passPercentage": 9}),
    ("PATCH", "/gates/{id}/rules", "/gates/g_one/rules", {"rules": [{"id": "{rule}"}]}),
    ("POST", "/gates/{id}/overrides", "/gates/g_one/overrides", IDS),
    ("PATCH", "/gates/{id}/overrides", "/gates/g_one/overrides", IDS),
    ("DELETE", "/gates/{id}/overrides", "/gates/g_one/overrides", None),
    ("PUT", "/gates/{id}/disable", "/gates/g_one/disable", None),
    ("PUT", "/gates/{id}/enable", "/gates/g_one/enable", None),
    ("PUT", "/gates/{id}/launch", "/gates/g_one/launch", None),
    ("PUT", "/gates/{id}/archive", "/gates/g_one/archive", None),
    ("PUT", "/gates/{id}/unarchive", "/gates/g_one/unarchive", None),
    ("DELETE", "/gates/{id}/rules/{ruleID}", "/gates/g_one/rules/{rule}", None),
    ("GET", "/dynamic_configs", "/dynamic_configs", None),
    ("GET", "/dynamic_configs/{id}", "/dynamic_configs/cfg_one", None),
    ("PATCH", "/dynamic_configs/{id}", "/dynamic_configs/cfg_one", {"description": "x"}),
    ("POST", "/dynamic_configs/{id}", "/dynamic_configs/cfg_one", FULL_GATE),
    ("GET", "/dynamic_configs/{id}/rules", "/dynamic_configs/cfg_one/rules", None),
    ("GET", "/dynamic_configs/{id}/versions", "/dynamic_configs/cfg_one/versions", None),
    ("PUT", "/dynamic_configs/{id}/disable", "/dynamic_configs/cfg_one/disable", None),
    ("PUT", "/dynamic_configs/{id}/archive", "/dynamic_configs/cfg_one/archive", None),
    ("GET", "/segments", "/segments", None),
    ("GET", "/segments/{id}", "/segments/seg_one", None),
    ("PATCH", "/segments/{id}/id_list", "/segments/seg_one/id_list", {"ids": ["u1", "u2"]}),
    ("GET", "/segments/{id}/id_list", "/segments/seg_one/id_list", None),
    ("DELETE", "/segments/{id}/id_list", "/segments/seg_one/id_list", {"ids": ["u1"]}),
    ("POST", "/segments/{id}/id_list/reset", "/segments/seg_one/id_list/reset", {"ids": ["u3"]}),
    ("PATCH", "/segments/{id}/add_ids", "/segments/seg_store/add_ids", {"ids": ["a", "b"]}),
    ("PATCH", "/segments/{id}/remove_ids", "/segments/seg_store/remove_ids", {"ids": ["a"]}),
    ("GET", "/segments/{id}/idlist_metadata", "/segments/seg_store/idlist_metadata", None),
    ("POST", "/segments/{id}/conditional", "/segments/seg_rules/conditional", [SEGMENT_RULE]),
    ("PUT", "/segments/{id}/archive", "/segments/seg_one/archive", None),
    ("GET", "/layers", "/layers", None),
    ("GET", "/layers/{id}", "/layers/layer_one", None),
    ("PATCH", "/layers/{id}", "/layers/layer_one", {"description": "x"}),
    ("POST", "/layers/{id}", "/layers/layer_one", {"description": "x", "parameters": []}),
    ("GET", "/experiments", "/experiments", None),
    ("GET", "/experiments/{id}", "/experiments/exp_one", None),
    ("PATCH", "/experiments/{id}", "/experiments/exp_one", {"description": "x"}),
    ("POST", "/experiments/{id}", "/experiments/exp_two", FULL_EXPERIMENT),
    ("GET", "/experiments/{id}/overrides", "/experiments/exp_one/overrides", None),
    ("GET", "/experiments/{id}/versions", "/experiments/exp_one/versions", None),
    ("POST", "/experiments/{id}/overrides", "/experiments/exp_one/overrides", EXP_OVERRIDES),
    ("PATCH", "/experiments/{id}/overrides", "/experiments/exp_one/overrides", EXP_OVERRIDES),
    ("DELETE", "/experiments/{id}/overrides", "/experiments/exp_one/overrides", None),
    ("PUT", "/experiments/{id}/start", "/experiments/exp_one/start", None),
    (
        "PUT",
        "/experiments/{id}/make_decision",
        "/experiments/exp_one/make_decision",
        {"id": "test", "decisionReason": "won"},
    ),
    ("PUT", "/experiments/{id}/archive", "/experiments/exp_one/archive", None),
    ("PUT", "/experiments/{id}/unarchive", "/experiments/exp_one/unarchive", None),
    ("PUT", "/experiments/{id}/reset", "/experiments/exp_one/reset", None),
    ("PUT", "/experiments/{id}/abandon", "/experiments/exp_one/abandon", {"decisionReason": "x"}),
    ("GET", "/holdouts", "/holdouts", None),
    ("GET", "/holdouts/{id}", "/holdouts/h_one", None),
    ("PATCH", "/holdouts/{id}", "/holdouts/h_one", {"passPercentage": 3}),
    ("POST", "/holdouts/{id}", "/holdouts/h_one", FULL_HOLDOUT),
    ("GET", "/holdouts/{id}/overrides", "/holdouts/h_one/overrides", None),
    ("POST", "/holdouts/{id}/overrides", "/holdouts/h_one/overrides", IDS),
    ("PATCH", "/holdouts/{id}/overrides", "/holdouts/h_one/overrides", IDS),
    ("DELETE", "/holdouts/{id}/overrides", "/holdouts/h_one/overrides", None),
    ("GET", "/tags", "/tags", None),
    ("GET", "/target_app", "/target_app", None),
    ("DELETE", "/holdouts/{id}", "/holdouts/h_one", None),
    ("DELETE", "/experiments/{id}", "/experiments/exp_two", None),
    ("DELETE", "/gates/{id}", "/gates/g_one", None),
    ("DELETE", "/dynamic_configs/{id}", "/dynamic_configs/cfg_one", None),
    ("DELETE", "/segments/{id}", "/segments/seg_one", None),
    ("DELETE", "/layers/{id}", "/layers/layer_one", None),
]


def _fill(value: Any, rule_id: str) -> Any:
    return json.loads(json.dumps(value).replace("{rule}", rule_id))


def test_every_modeled_response_validates_against_the_spec(api: Api) -> None:
    rule_id = _populate(api)
    failures = []
    for method, spec_path, path, body in CASES:
        reply = api.call(method, _fill(path, rule_id), _fill(body, rule_id))
        if reply.status >= 300:
            failures.append(f"{method} {path}: {reply.status} {reply.body}")
            continue
        if (method, spec_path) in SELF_CONTRADICTORY:
            errors = _contradictory_errors(method, spec_path, reply.body)
        else:
            validator = _validator(method, spec_path, reply.status)
            errors = sorted(validator.iter_errors(reply.body), key=str)
        failures += [
            f"{method} {spec_path}: {e.message} at {list(e.absolute_path)}" for e in errors[:3]
        ]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "spec_path", ["/gates", "/segments", "/layers", "/experiments", "/holdouts", "/dynamic_configs"]
)
def test_created_entities_validate_against_the_create_response_schema(
    api: Api, spec_path: str
) -> None:
    _populate(api)
    for item in api.get(spec_path).data:
        reply = api.get(f"{spec_path}/{item['id']}")
        errors = list(_validator("GET", spec_path + "/{id}", reply.status).iter_errors(reply.body))
        assert not errors, errors[0].message


def _documented_error_schema(status: int) -> OAS30Validator:
    for item in SPEC["paths"].values():
        for operation in item.values():
            entry = (
                operation.get("responses", {}).get(str(status))
                if isinstance(operation, dict)
                else None
            )
            if entry and "application/json" in entry.get("content", {}):
                return OAS30Validator(entry["content"]["application/json"]["schema"])
    raise AssertionError(f"the spec documents no {status} body")


def test_error_bodies_have_the_documented_error_shape(api: Api) -> None:
    for status, reply in (
        (404, api.get("/gates/ghost")),
        (400, api.post("/gates", {"x": 1})),
        (401, api.get("/gates", key="bad")),
    ):
        assert reply.status == status
        assert not list(_documented_error_schema(status).iter_errors(reply.body))


def _example_body(spec_path: str) -> dict[str, Any] | None:
    """The spec's request example for ``POST spec_path`` (declared fields only), or None."""
    content = SPEC["paths"]["/console/v1" + spec_path]["post"]["requestBody"]["content"]
    media = content["application/json"]
    schema = media["schema"]
    if "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].split("/")[-1]]
    example = media.get("example") or schema.get("example")
    if example is None and media.get("examples"):
        example = next(iter(media["examples"].values()))["value"]
    if not isinstance(example, dict):
        return None
    declared = schema.get("properties", {})
    return {k: v for k, v in example.items() if k in declared}


def _references_of(body: dict[str, Any]) -> list[tuple[str, str]]:
    refs = []
    for rule in body.get("rules") or []:
        for condition in rule.get("conditions") or []:
            kind = {
                "passes_gate": "gates",
                "fails_gate": "gates",
                "passes_segment": "segments",
                "fails_segment": "segments",
            }.get(condition.get("type"))
            values = condition.get("targetValue")
            for value in values if isinstance(values, list) else [values]:
                if kind and isinstance(value, str):
                    refs.append((kind, value))
    for key, kind in (("targetingGateID", "gates"), ("layerID", "layers")):
        if isinstance(body.get(key), str):
            refs.append((kind, body[key]))
    return refs


_CREATE_PATHS = (
    "/gates",
    "/segments",
    "/layers",
    "/experiments",
    "/holdouts",
    "/dynamic_configs",
    "/tags",
)
#: The create endpoints whose request the spec gives an example of (the others have none).
_EXAMPLED = [path for path in _CREATE_PATHS if _example_body(path) is not None]


def test_the_spec_gives_examples_for_the_main_creates() -> None:
    assert {"/gates", "/experiments", "/tags"} <= set(_EXAMPLED)


@pytest.mark.parametrize("spec_path", _EXAMPLED)
def test_create_bodies_from_the_spec_examples_are_accepted(
    emulator: RunningEmulator, api: Api, spec_path: str
) -> None:
    body = _example_body(spec_path)
    assert body is not None
    for kind, entity_id in sorted(set(_references_of(body))):
        extra = {"type": "id_list"} if kind == "segments" else {}
        extra.update({"idType": "userID"} if kind == "layers" else {})
        assert api.post(f"/{kind}", {"name": entity_id, **extra}).status in (200, 201)
    reply = api.post(spec_path, body)
    assert reply.status in (200, 201), reply.body
