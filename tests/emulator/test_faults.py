"""Fault injection: scripted (deterministic) and random (seeded), switchable at run time."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import time
import urllib.request

import pytest
from emulator_http import Api

from bulkops.testing import (
    EmulatorConfig,
    FaultPlan,
    RunningEmulator,
    ScriptedFault,
    start_emulator,
)

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


def test_a_scripted_429_can_be_scoped_to_one_project() -> None:
    config = EmulatorConfig(projects={"a": "key-a", "b": "key-b"})
    with start_emulator(config) as emulator:
        a, b = Api(emulator, "a"), Api(emulator, "b")
        emulator.rate_limit_next(2, "POST", "/gates", project="a", retry_after=2)
        assert b.post("/gates", {"name": "g one"}).status == 201
        refused = a.post("/gates", {"name": "g one"})
        assert refused.status == 429 and refused.headers["Retry-After"] == "2"
        assert "rate limit" in refused.body["message"]
        assert a.post("/gates", {"name": "g one"}).status == 429
        assert a.post("/gates", {"name": "g one"}).status == 201
        assert emulator.stats()["rate_limited"] == 2


def test_a_scripted_429_without_retry_after_scoped_by_api_key() -> None:
    config = EmulatorConfig(projects={"a": "key-a", "b": "key-b"})
    with start_emulator(config) as emulator:
        emulator.rate_limit_next(1, project="key-b")
        assert Api(emulator, "a").get("/gates").status == 200
        refused = Api(emulator, "b").get("/gates")
        assert refused.status == 429 and "Retry-After" not in refused.headers


def test_random_faults_can_be_scoped_to_projects() -> None:
    config = EmulatorConfig(projects={"a": "key-a", "b": "key-b"})
    with start_emulator(config) as emulator:
        emulator.set_faults(error_rate=1.0, projects=("a",))
        assert Api(emulator, "a").get("/gates").status == 503
        assert Api(emulator, "b").get("/gates").status == 200


def test_injected_faults_and_vanished_clients_log_no_errors(
    emulator: RunningEmulator, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bulkops.emulator")
    emulator.drop_next("POST", "/gates")
    emulator.drop_next("POST", "/gates", applied=False)
    for _ in range(2):
        with pytest.raises(CONNECTION_LOST):
            api.post("/gates", {"name": "g one"})
    with socket.create_connection((emulator.host, emulator.port), timeout=5) as sock:
        sock.sendall(
            b"PATCH /console/v1/gates/g_one HTTP/1.1\r\nHost: x\r\nSTATSIG-API-KEY: "
            + emulator.api_key().encode()
            + b'\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"desc'
        )
    deadline = time.monotonic() + 5
    while "PATCH client_gone" not in emulator.stats()["requests"]:
        assert time.monotonic() < deadline, "the server never saw the client go away"
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any("injected" in r.getMessage() for r in caplog.records)


def test_the_admin_endpoint_scopes_a_scripted_429_to_a_project() -> None:
    config = EmulatorConfig(projects={"a": "key-a", "b": "key-b"})
    with start_emulator(config) as emulator:
        body = {"action": "rate_limited", "project": "b", "retry_after": 0.5}
        request = urllib.request.Request(
            emulator.admin_url + "/faults/scripted", json.dumps(body).encode(), method="POST"
        )
        urllib.request.urlopen(request, timeout=10).close()
        assert Api(emulator, "a").get("/gates").status == 200
        refused = Api(emulator, "b").get("/gates")
        assert (refused.status, refused.headers["Retry-After"]) == (429, "0.5")
