"""What a demanding user hits around the edges: closed clients, DNS, headers, list filters."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import orjson
import pytest
from aiohttp import web

from bulkops.api import ConsoleClient, FakeClock, Timeouts, TransportError

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


def recording_handler(seen: list[web.Request]) -> Any:
    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        body = {"message": "ok", "data": [], "pagination": {"nextPage": None, "totalItems": 0}}
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    return handle


async def test_request_on_a_closed_client_says_it_was_closed(serve, api_key) -> None:
    async with serve(recording_handler([])) as base_url:
        async with ConsoleClient(api_key=api_key, base_url=base_url) as client:
            await client.request("GET", "/gates")
        with pytest.raises(RuntimeError, match="closed.*inside the block, or open a new client"):
            await client.request("GET", "/gates")
        with pytest.raises(RuntimeError, match="cannot be reopened"):
            async with client:
                pass


async def test_request_before_opening_says_how_to_open(api_key) -> None:
    client = ConsoleClient(api_key=api_key, base_url="http://127.0.0.1:9/console/v1")
    with pytest.raises(RuntimeError, match="async with ConsoleClient"):
        await client.request("GET", "/gates")


async def test_unknown_host_is_a_transport_error_naming_the_host(monkeypatch, api_key) -> None:
    host = "console.bulkops-test.invalid"
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == host:  # no real DNS lookup leaves the machine
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    clock = FakeClock()
    client = ConsoleClient(
        api_key=api_key, base_url=f"https://{host}/console/v1", max_retries=1, clock=clock
    )
    with anyio.fail_after(20):
        async with client, clock.autojump():
            with pytest.raises(TransportError) as caught:
                await client.request("GET", "/gates")
    message = str(caught.value)
    assert f"cannot resolve the host '{host}'" in message
    assert "STATSIG_CONSOLE_API_URL" in message and api_key not in message
    assert client.statistics().retries == 1  # nothing was sent, so it was safe to retry


async def test_review_settings_header_is_only_sent_when_asked(serve, api_key) -> None:
    seen: list[web.Request] = []
    async with serve(recording_handler(seen)) as base_url:
        async with ConsoleClient(api_key=api_key, base_url=base_url) as plain:
            await plain.request("POST", "/gates", json={"name": "g"})
        async with ConsoleClient(
            api_key=api_key, base_url=base_url, respect_review_settings=True
        ) as reviewed:
            await reviewed.request("PATCH", "/gates/g", json={"isEnabled": False})
    assert "x-respect-review-settings" not in seen[0].headers
    assert seen[1].headers["x-respect-review-settings"] == "true"
    assert seen[1].headers["STATSIG-API-VERSION"] == "20240601"


async def test_list_filters_are_sent_as_repeated_query_parameters(serve, api_key) -> None:
    seen: list[web.Request] = []
    async with (
        serve(recording_handler(seen)) as base_url,
        ConsoleClient(api_key=api_key, base_url=base_url) as client,
    ):
        items = [
            item
            async for item in client.paginate(
                "segments", idType=["userID", "stableID"], tags=("a",), type=None
            )
        ]
    assert items == []
    query = seen[0].rel_url.query
    assert query.getall("idType") == ["userID", "stableID"]
    assert query.getall("tags") == ["a"]
    assert "type" not in query  # None means "no filter"


def test_timeouts_have_documented_defaults_and_a_number_is_the_total() -> None:
    assert Timeouts() == Timeouts(connect=10.0, read=60.0, total=300.0)
    client = ConsoleClient(api_key="console-x", base_url="http://127.0.0.1:9", timeout=12)
    assert client.timeouts == Timeouts(connect=10.0, read=60.0, total=12.0)
