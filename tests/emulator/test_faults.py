"""Fault injection: scripted (deterministic) and random (seeded), switchable at run time."""

from __future__ import annotations

import http.client
import json
import urllib.request

import pytest
from emulator_http import Api

from bulkops.testing import FaultPlan, RunningEmulator, ScriptedFault

CONNECTION_LOST = (
    ConnectionError,
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
    urllib.error.URLError,
)


def test_fail_next_gives_503_then_200(emulator: RunningEmulator, api: Api) -> None:
    emulator.fail_next(1, "GET", "/gates")
    first, second = api.get("/gates"), api.get("/gates")
    assert (first.status, second.status) == (503, 200)
    assert first.body["status"] == 503


def test_scripted_faults_match_method_and_path_prefix(emulator: RunningEmulator, api: Api) -> None:
    emulator.fail_next(1, "POST", "/gates")
    assert api.get("/gates").status == 200
    assert api.post("/experiments", {"name": "exp_one"}).status == 201
    assert api.post("/gates", {"name": "g one"}).status == 503
    assert api.get("/gates/g_one").status == 404  # nothing applied


def test_html_error_page(emulator: RunningEmulator, api: Api) -> None:
    emulator.fail_next(1, "GET", "/gates", status=502, html=True)
    reply = api.get("/gates")
    assert reply.status == 502
    assert reply.headers["Content-Type"].startswith("text/html")
    assert reply.body.lstrip().startswith("<html>")


def test_reset_before_the_effect_applies_nothing(emulator: RunningEmulator, api: Api) -> None:
    emulator.drop_next("POST", "/gates", applied=False)
    with pytest.raises(CONNECTION_LOST):
        api.post("/gates", {"name": "g one"})
    assert api.get("/gates/g_one").status == 404
    assert emulator.mutation_log() == []
    assert emulator.stats()["requests"]["POST reset"] == 1


def test_apply_then_reset_creates_once_and_loses_the_answer(
    emulator: RunningEmulator, api: Api
) -> None:
    emulator.drop_next("POST", "/gates")
    with pytest.raises(CONNECTION_LOST):
        api.post("/gates", {"name": "g one"})
    assert api.get("/gates/g_one").status == 200
    [record] = emulator.mutation_log()
    assert record["response_lost"] is True and record["method"] == "POST"


def test_apply_then_500(emulator: RunningEmulator, api: Api) -> None:
    emulator.drop_next("POST", "/gates", mode="500")
    assert api.post("/gates", {"name": "g one"}).status == 500
    assert api.get("/gates/g_one").status == 200
    assert emulator.mutation_log()[0]["response_lost"] is True


def test_fixed_latency_is_counted_as_injected(emulator: RunningEmulator, api: Api) -> None:
    emulator.set_faults(latency=0.001)
    assert api.get("/gates").status == 200
    assert emulator.stats()["faults_injected"] == {"latency": 1}


def _outcomes(emulator: RunningEmulator, api: Api, n: int) -> list[int]:
    statuses = []
    for _ in range(n):
        try:
            statuses.append(api.get("/gates").status)
        except CONNECTION_LOST:
            statuses.append(-1)
    return statuses


def test_random_faults_are_reproducible_with_a_seed(emulator: RunningEmulator, api: Api) -> None:
    plan = {"error_rate": 0.3, "reset_rate": 0.1, "latency": (0.0, 0.001), "seed": 7}
    emulator.set_faults(**plan)
    first = _outcomes(emulator, api, 40)
    emulator.set_faults(**plan)
    assert _outcomes(emulator, api, 40) == first
    assert {503, 200, -1} <= set(first)


def test_random_faults_can_be_limited_to_mutations(emulator: RunningEmulator, api: Api) -> None:
    emulator.set_faults(FaultPlan(error_rate=1.0, methods=("POST",)))
    assert api.get("/gates").status == 200
    assert api.post("/gates", {"name": "g one"}).status == 503


def test_clearing_faults_restores_normal_service(emulator: RunningEmulator, api: Api) -> None:
    emulator.set_faults(error_rate=1.0)
    assert api.get("/gates").status == 503
    emulator.clear_faults()
    assert api.get("/gates").status == 200


def test_admin_endpoint_switches_faults_at_run_time(emulator: RunningEmulator, api: Api) -> None:
    body = json.dumps({"action": "error", "method": "GET", "path_prefix": "/gates", "count": 2})
    request = urllib.request.Request(
        emulator.admin_url + "/faults/scripted", body.encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["scripted"][0]["count"] == 2
    assert [api.get("/gates").status for _ in range(3)] == [503, 503, 200]
    plan = json.dumps({"error_rate": 1.0, "error_body": "html"}).encode()
    urllib.request.urlopen(
        urllib.request.Request(emulator.admin_url + "/faults", plan, method="PUT"), timeout=10
    ).close()
    assert api.get("/gates").status == 503
    urllib.request.urlopen(
        urllib.request.Request(emulator.admin_url + "/faults", method="DELETE"), timeout=10
    ).close()
    assert api.get("/gates").status == 200


def test_unknown_fault_action_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault action"):
        ScriptedFault("explode")
