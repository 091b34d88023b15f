"""A server may not park a run for hours: waits past ``RetryPolicy.max_server_wait`` are refused.

Each case runs a loopback server answering every request with one status and ``Retry-After``;
waits run on a FakeClock that jumps while every task is blocked, so nothing sleeps.
"""

from __future__ import annotations

from email.utils import formatdate
from time import time
from typing import Any

import orjson
import pytest
from aiohttp import web

from bulkops.api import (
    ConsoleClient,
    FakeClock,
    OutcomeUnknownError,
    RateLimitedError,
    RetryPolicy,
    ServerWaitTooLongError,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


class Answering:
    """Answers ``status`` with ``Retry-After: retry_after`` (only the first time when
    ``then_ok``, then 200); ``sent`` lists the methods received."""

    def __init__(self, status: int, retry_after: str, then_ok: bool = False) -> None:
        self.status, self.retry_after, self.then_ok = status, retry_after, then_ok
        self.sent: list[str] = []

    async def __call__(self, request: web.Request) -> web.Response:
        self.sent.append(request.method)
        if self.then_ok and len(self.sent) > 1:
            return web.Response(body=b'{"data": {"id": "g"}}', content_type="application/json")
        return web.Response(
            status=self.status,
            body=orjson.dumps({"status": self.status, "message": "later"}),
            content_type="application/json",
            headers={"Retry-After": self.retry_after},
        )


async def call(
    serve: Any, api_key: str, handler: Answering, method: str, **options: object
) -> tuple[Any, ConsoleClient, FakeClock]:
    """Send one request; return its result (or the error it raised), the client, the clock."""
    clock = FakeClock()
    async with (
        serve(handler) as base_url,
        ConsoleClient(api_key, base_url, clock=clock, **options) as api,  # type: ignore[arg-type]
        clock.autojump(),
    ):
        try:
            return await api.request(method, "/gates/g", json={}), api, clock
        except Exception as error:  # noqa: BLE001 - handed to the test to inspect
            return error, api, clock


@pytest.mark.parametrize("method", ["PATCH", "GET"])
async def test_a_day_long_retry_after_fails_at_once_and_pauses_nothing(
    serve, api_key, method
) -> None:
    handler = Answering(429, "86400")
    error, api, clock = await call(serve, api_key, handler, method)
    assert isinstance(error, ServerWaitTooLongError) and isinstance(error, RateLimitedError)
    assert error.retry_after == 86400 and error.max_wait == 900
    assert error.status == 429 and error.path == "/gates/g"
    message = str(error)
    assert "86400 s (24 h)" in message and "900 s (15 min)" in message
    assert "resume" in message
    assert handler.sent == [method]
    assert clock.now() == 0.0
    assert api.budget.statistics().paused_until is None
    assert api.statistics().read_paused_until is None and api.statistics().read_pauses == 0


async def test_an_http_date_beyond_the_cap_fails_at_once(serve, api_key) -> None:
    handler = Answering(429, formatdate(time() + 2 * 86400, usegmt=True))
    error, api, _ = await call(serve, api_key, handler, "PATCH")
    assert isinstance(error, ServerWaitTooLongError)
    assert error.retry_after == pytest.approx(2 * 86400, abs=60)
    assert api.budget.statistics().paused_until is None


async def test_a_wait_at_the_cap_is_honoured_in_full(serve, api_key) -> None:
    handler = Answering(429, "900", then_ok=True)
    result, api, clock = await call(serve, api_key, handler, "PATCH")
    assert result == {"id": "g"}
    assert 900.0 <= clock.now() < 990.0
    assert api.budget.statistics().rate_limited == 1


async def test_the_cap_is_a_setting_of_the_retry_policy(serve, api_key) -> None:
    handler = Answering(429, "120")
    policy = RetryPolicy(max_server_wait=60)
    error, api, _ = await call(serve, api_key, handler, "PATCH", retry_policy=policy)
    assert isinstance(error, ServerWaitTooLongError) and error.max_wait == 60
    assert api.budget.statistics().paused_until is None


@pytest.mark.parametrize("method", ["GET", "PATCH"])
async def test_a_5xx_asking_past_the_cap_stops_at_once_like_a_429(serve, api_key, method) -> None:
    handler = Answering(503, "86400")
    error, api, clock = await call(serve, api_key, handler, method)
    assert isinstance(error, ServerWaitTooLongError) and error.status == 503
    assert error.retry_after == 86400 and error.max_wait == 900
    assert str(error).startswith(f"{method} /gates/g: server unavailable (503): the server")
    assert "asked to wait 86400 s (24 h), longer than the 900 s (15 min)" in str(error)
    assert handler.sent == [method] and clock.now() == 0.0
    assert api.statistics().read_pauses == 0
    assert api.budget.statistics().paused_until is None


async def test_a_post_drawing_a_5xx_past_the_cap_is_an_unknown_outcome_first(
    serve, api_key
) -> None:
    handler = Answering(503, "86400")
    error, _, clock = await call(serve, api_key, handler, "POST")
    assert isinstance(error, OutcomeUnknownError)  # it may have been applied: read it first
    assert handler.sent == ["POST"] and clock.now() == 0.0


@pytest.mark.parametrize("value", ["0", "-5", "", "soon", "inf", "nan", "1e400"])
async def test_a_429_without_a_usable_retry_after_backs_off_and_retries(
    serve, api_key, value
) -> None:
    handler = Answering(429, value, then_ok=True)
    result, api, clock = await call(serve, api_key, handler, "GET")
    assert result == {"id": "g"}
    assert api.statistics().read_pauses == 1
    assert clock.now() <= RetryPolicy().backoff_base  # our own first backoff, not the server's
