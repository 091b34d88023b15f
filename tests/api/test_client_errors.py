"""Each kind of answer maps to the right exception, with text a user can act on.

Every case runs a real aiohttp server of its own on 127.0.0.1 (see conftest.serve); backoff
waits run on a FakeClock that jumps whenever every task is blocked, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import orjson
import pytest
from aiohttp import web

from bulkops.api import (
    AuthError,
    BadResponseError,
    ConsoleClient,
    FakeClock,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


def json_response(status: int, body: object, **headers: str) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(body), content_type="application/json", headers=headers
    )


@asynccontextmanager
async def running(
    server: AbstractAsyncContextManager[str], api_key: str, clock: FakeClock, **kwargs: object
) -> AsyncIterator[ConsoleClient]:
    """A server, a client of it, and the fake clock jumping while every task waits."""
    async with (
        server as base_url,
        client(base_url, api_key, clock, **kwargs) as api,
        clock.autojump(),
    ):
        yield api


def client(base_url: str, api_key: str, clock: FakeClock, **kwargs: object) -> ConsoleClient:
    return ConsoleClient(api_key=api_key, base_url=base_url, clock=clock, **kwargs)  # type: ignore[arg-type]


async def test_headers_and_orjson_body_are_sent(serve, api_key) -> None:
    seen: dict[str, object] = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(headers=dict(request.headers), body=await request.read(), path=request.path)
        return json_response(201, {"message": "ok", "data": {"id": "g1"}})

    clock = FakeClock()
    async with (
        serve(handler) as base_url,
        client(base_url, api_key, clock, respect_review_settings=True) as api,
    ):
        data = await api.request("POST", "/gates", json={"name": "g1", "isEnabled": True})
    headers = seen["headers"]
    assert data == {"id": "g1"}
    assert seen["path"] == "/console/v1/gates"
    assert headers["STATSIG-API-KEY"] == api_key  # type: ignore[index]
    assert headers["STATSIG-API-VERSION"] == "20240601"  # type: ignore[index]
    assert headers["Content-Type"] == "application/json"  # type: ignore[index]
    assert headers["x-respect-review-settings"] == "true"  # type: ignore[index]
    assert orjson.loads(seen["body"]) == {"name": "g1", "isEnabled": True}  # type: ignore[arg-type]


async def test_401_is_an_auth_error_naming_the_env_var_without_the_key(serve, api_key) -> None:
    async def handler(request: web.Request) -> web.Response:
        # The real API quotes the key it rejected.
        return json_response(401, {"status": 401, "message": f"invalid key. Key: {api_key}"})

    async with serve(handler) as base_url, client(base_url, api_key, FakeClock()) as api:
        with pytest.raises(AuthError) as info:
            await api.request("GET", "/gates")
    text = str(info.value)
    assert "401" in text and "STATSIG_CONSOLE_API_KEY" in text and base_url in text
    assert api_key not in text and api_key not in repr(info.value)
    assert "<redacted>" in text


async def test_403_is_an_auth_error_about_permissions(serve, api_key) -> None:
    async def handler(request: web.Request) -> web.Response:
        return json_response(403, {"status": 403, "message": "Forbidden resource"})

    async with serve(handler) as base_url, client(base_url, api_key, FakeClock()) as api:
        with pytest.raises(AuthError, match="permission") as info:
            await api.request("PATCH", "/gates/g1", json={"isEnabled": False})
    assert info.value.status == 403


async def test_404_is_not_found_with_the_path(serve, api_key) -> None:
    async def handler(request: web.Request) -> web.Response:
        return json_response(404, {"status": 404, "message": "Gate not found."})

    async with serve(handler) as base_url, client(base_url, api_key, FakeClock()) as api:
        with pytest.raises(NotFoundError) as info:
            await api.request("GET", "/gates/nope")
    assert info.value.path == "/gates/nope"
    assert "Gate not found." in str(info.value) and "check the id" in str(info.value)


async def test_400_is_a_validation_error_carrying_the_server_message(serve, api_key) -> None:
    calls = Counter[str]()

    async def handler(request: web.Request) -> web.Response:
        calls[request.method] += 1
        return json_response(400, {"status": 400, "message": "Name is already in use"})

    async with serve(handler) as base_url, client(base_url, api_key, FakeClock()) as api:
        with pytest.raises(ValidationError, match="Name is already in use"):
            await api.request("POST", "/gates", json={"name": "dup"})
    assert calls["POST"] == 1  # a 400 is final


async def test_html_503_page_is_a_bad_response_after_retries(serve, api_key) -> None:
    calls = Counter[str]()

    async def handler(request: web.Request) -> web.Response:
        calls[request.method] += 1
        return web.Response(status=503, text="<html><h1>503</h1></html>", content_type="text/html")

    clock = FakeClock()
    async with running(serve(handler), api_key, clock, max_retries=3) as api:
        with pytest.raises(BadResponseError) as info:
            await api.request("GET", "/gates")
    assert calls["GET"] == 4
    assert "HTML page" in str(info.value) and "STATSIG_CONSOLE_API_URL" in str(info.value)
    assert api.statistics().retries == 3


async def test_503_then_200_is_retried(serve, api_key) -> None:
    answers = [json_response(503, {"status": 503, "message": "busy"})]

    async def handler(request: web.Request) -> web.Response:
        if answers:
            return answers.pop()
        return json_response(200, {"message": "ok", "data": {"id": "g1"}})

    clock = FakeClock()
    async with running(serve(handler), api_key, clock) as api:
        assert await api.request("GET", "/gates/g1") == {"id": "g1"}
    stats = api.statistics()
    assert stats.requests["GET"] == 2 and stats.retries == 1


async def test_5xx_retry_waits_at_least_the_servers_retry_after(serve, api_key) -> None:
    answers = [json_response(503, {"status": 503, "message": "busy"}, **{"Retry-After": "40"})]

    async def handler(request: web.Request) -> web.Response:
        return answers.pop() if answers else json_response(200, {"data": None})

    clock = FakeClock()
    async with running(serve(handler), api_key, clock) as api:
        await api.request("DELETE", "/gates/g1")
    assert clock.now() >= 40.0


async def test_post_drawing_a_5xx_is_outcome_unknown_and_not_resent(serve, api_key) -> None:
    calls = Counter[str]()

    async def handler(request: web.Request) -> web.Response:
        calls[request.method] += 1
        return json_response(500, {"status": 500, "message": "internal"})

    clock = FakeClock()
    async with running(serve(handler), api_key, clock) as api:
        with pytest.raises(OutcomeUnknownError) as info:
            await api.request("POST", "/gates", json={"name": "x"})
    assert calls["POST"] == 1
    assert isinstance(info.value.cause, ServerError)
    assert "read the current state" in str(info.value)
    assert api.statistics().outcome_unknown == 1


async def test_post_whose_connection_dies_is_outcome_unknown(raw_server, api_key) -> None:
    requests: list[bytes] = []

    async def dies(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()  # the request arrived; the answer never leaves

    clock = FakeClock()
    async with running(raw_server(dies), api_key, clock) as api:
        with pytest.raises(OutcomeUnknownError) as info:
            await api.request("POST", "/gates", json={"name": "x"})
    assert len(requests) == 1 and requests[0].startswith(b"POST /console/v1/gates")
    assert isinstance(info.value.cause, TransportError)


async def test_post_to_a_closed_port_is_retried_because_nothing_was_sent(api_key) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    clock = FakeClock()
    base_url = f"http://127.0.0.1:{port}/console/v1"
    async with client(base_url, api_key, clock, max_retries=2) as api, clock.autojump():
        with pytest.raises(TransportError) as info:
            await api.request("POST", "/gates", json={"name": "x"})
    assert api.statistics().requests["POST"] == 3
    assert "before the request was sent" in str(info.value)
    assert "gave up after 3 attempts" in str(info.value)


async def test_cut_off_body_is_a_bad_response_retried_for_reads(raw_server, api_key) -> None:
    attempts = 0

    async def cut_off(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal attempts
        attempts += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b'Content-Length: 100\r\n\r\n{"data": [1, 2')
        await writer.drain()
        writer.close()

    clock = FakeClock()
    async with running(raw_server(cut_off), api_key, clock, max_retries=1) as api:
        with pytest.raises(BadResponseError, match="cut off"):
            await api.request("GET", "/gates")
    assert attempts == 2


async def test_429_on_a_read_waits_retry_after_then_succeeds(serve, api_key) -> None:
    answers = [json_response(429, {"status": 429, "message": "slow down"}, **{"Retry-After": "7"})]

    async def handler(request: web.Request) -> web.Response:
        return answers.pop() if answers else json_response(200, {"data": [1]})

    clock = FakeClock()
    async with running(serve(handler), api_key, clock) as api:
        assert await api.request("GET", "/gates") == [1]
    assert clock.now() >= 7.0
    assert api.statistics().rate_limited == 1
    assert api.budget.statistics().total_sent == 0  # reads never touch the budget


async def test_429_on_a_post_pauses_the_budget_and_resends(serve, api_key) -> None:
    calls = Counter[str]()

    async def handler(request: web.Request) -> web.Response:
        calls[request.method] += 1
        if calls[request.method] == 1:
            return json_response(429, {"status": 429, "message": "x"}, **{"Retry-After": "3"})
        return json_response(201, {"data": {"id": "g1"}})

    clock = FakeClock()
    async with running(serve(handler), api_key, clock) as api:
        assert await api.request("POST", "/gates", json={"name": "g1"}) == {"id": "g1"}
    assert calls["POST"] == 2  # a 429 was not applied: re-sending a create is safe
    assert clock.now() >= 3.0
    budget = api.budget.statistics()
    assert budget.rate_limited == 1 and budget.in_flight == 0


async def test_endless_429_gives_up_with_rate_limited_error(serve, api_key) -> None:
    async def handler(request: web.Request) -> web.Response:
        return json_response(429, {"status": 429, "message": "x"}, **{"Retry-After": "1"})

    clock = FakeClock()
    async with running(serve(handler), api_key, clock) as api:
        with pytest.raises(RateLimitedError) as info:
            await api.request("PATCH", "/gates/g1", json={})
    assert info.value.retry_after == 1.0
    assert api.statistics().requests["PATCH"] == api.retry_policy.max_rate_limited + 1


async def test_key_never_appears_in_reprs_errors_or_logs(serve, api_key, caplog) -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.method == "GET":
            return json_response(503, {"message": f"down for {api_key}"})
        return json_response(401, {"message": f"bad key {api_key}"})

    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    errors: list[Exception] = []
    async with serve(handler) as base_url, client(base_url, api_key, clock) as api:
        assert api_key not in repr(api)
        async with clock.autojump():
            for method in ("GET", "POST", "PATCH"):
                try:
                    await api.request(method, "/gates", json={})
                except Exception as exc:  # noqa: BLE001 - collecting every error to inspect
                    errors.append(exc)
    assert len(errors) == 3
    assert isinstance(errors[1], AuthError)
    for error in errors:
        assert api_key not in str(error) and api_key not in repr(error)
        cause = getattr(error, "cause", None)
        assert cause is None or api_key not in str(cause)
    assert caplog.records, "expected retry log lines"
    assert all(api_key not in record.getMessage() for record in caplog.records)
