"""Snapshots (dump/load round trip, seeding) and the admin endpoints."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from emulator_http import Api

from bulkops.emulator import SNAPSHOT_FORMAT
from bulkops.testing import EmulatorConfig, RunningEmulator, start_emulator


def _admin(emulator: RunningEmulator, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(emulator.admin_url + path, data, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _populate(api: Api) -> None:
    api.post(
        "/gates",
        {
            "name": "g one",
            "rules": [{"name": "r", "passPercentage": 5, "conditions": [{"type": "public"}]}],
        },
    )
    api.post("/gates/g_one/overrides", {"passingUserIDs": ["u1"], "failingUserIDs": []})
    api.post("/experiments", {"name": "exp_one", "targetingGateID": "g_one"})
    api.post("/tags", {"name": "core", "description": "d"})


def test_dump_then_load_into_a_fresh_emulator_round_trips(
    emulator: RunningEmulator, api: Api
) -> None:
    _populate(api)
    snapshot = emulator.dump()
    assert snapshot["format"] == SNAPSHOT_FORMAT
    assert [g["id"] for g in snapshot["projects"]["default"]["entities"]["gates"]] == ["g_one"]
    with start_emulator(EmulatorConfig(seed=snapshot)) as other:
        assert other.dump() == snapshot
        copy = Api(other)
        assert copy.get("/gates/g_one/overrides").data["passingUserIDs"] == ["u1"]
        assert copy.get("/tags").data[0]["name"] == "core"


def test_seed_from_a_file(tmp_path: Path, emulator: RunningEmulator, api: Api) -> None:
    _populate(api)
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(emulator.dump()))
    with start_emulator(EmulatorConfig(seed=str(path))) as other:
        assert Api(other).get("/experiments/exp_one").status == 200


def test_load_replaces_state(emulator: RunningEmulator, api: Api) -> None:
    _populate(api)
    snapshot = emulator.dump()
    api.post("/gates", {"name": "later"})
    emulator.load(snapshot)
    assert api.get("/gates/later").status == 404 and api.get("/gates/g_one").status == 200


def test_single_project_snapshot_is_accepted(emulator: RunningEmulator, api: Api) -> None:
    emulator.load(
        {
            "format": SNAPSHOT_FORMAT,
            "entities": {"segments": [{"id": "s1", "name": "s1", "type": "id_list"}]},
        }
    )
    assert api.get("/segments/s1").status == 200


def test_bad_snapshots_are_refused_with_a_reason(emulator: RunningEmulator) -> None:
    with pytest.raises(ValueError, match="format"):
        emulator.load({"projects": {}})
    with pytest.raises(ValueError, match="--project"):
        emulator.load({"format": SNAPSHOT_FORMAT, "projects": {"elsewhere": {}}})


def test_admin_state_dump_and_load(emulator: RunningEmulator, api: Api) -> None:
    _populate(api)
    snapshot = _admin(emulator, "GET", "/state")
    api.delete("/gates/g_one")
    _admin(emulator, "PUT", "/state", snapshot)
    assert api.get("/gates/g_one").status == 200


def test_admin_stats_and_mutation_log(emulator: RunningEmulator, api: Api) -> None:
    api.post("/gates", {"name": "g one"})
    api.get("/gates/g_one")
    api.get("/gates/ghost")
    stats = _admin(emulator, "GET", "/stats")
    assert stats["requests"] == {"POST 201": 1, "GET 200": 1, "GET 404": 1}
    assert stats["max_in_flight"] >= 1 and stats["in_flight"] == 0
    assert stats["projects"]["default"]["entities"]["gates"] == 1
    [record] = _admin(emulator, "GET", "/mutations")["mutations"]
    assert record["seq"] == 1 and record["path"] == "/console/v1/gates"
    assert record["body"] == {"name": "g one"} and record["status"] == 201
    assert _admin(emulator, "GET", "/mutations?since=1")["mutations"] == []
    _admin(emulator, "POST", "/stats/reset")
    assert emulator.stats()["total_requests"] == 0 and emulator.mutation_log() == []


def test_failed_mutations_are_not_in_the_log(emulator: RunningEmulator, api: Api) -> None:
    api.post("/gates", {"name": "ab"})
    api.patch("/gates/ghost", {"description": "x"})
    assert emulator.mutation_log() == []


def test_admin_routes_need_no_key_and_console_routes_do(emulator: RunningEmulator) -> None:
    assert _admin(emulator, "GET", "/health") == {"ok": True}
