"""Helpers for the client tests: a tiny aiohttp.web server of our own on a free loopback port.

The emulator (``bulkops.testing``) covers behaviour end to end; these servers pin one answer
each (a 401 body, an HTML 503, a cut-off body) so each mapping is tested on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

API_KEY = "console-TESTKEY-abcdef0123456789"


@asynccontextmanager
async def serve_handler(handler: Handler) -> AsyncIterator[str]:
    """Serve every path with ``handler`` on 127.0.0.1; yields the base URL (…/console/v1)."""
    app = web.Application()

    async def route(request: web.Request) -> web.StreamResponse:
        return await handler(request)

    app.router.add_route("*", "/{tail:.*}", route)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/console/v1"
    finally:
        await runner.cleanup()


@pytest.fixture
def serve() -> Callable[[Handler], AbstractAsyncContextManager[str]]:
    """``async with serve(handler) as base_url:`` runs a one-handler server for the test."""
    return serve_handler


@asynccontextmanager
async def serve_raw(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[str]:
    """A bare TCP server on 127.0.0.1 for answers aiohttp.web will not give (cut bodies)."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/console/v1"
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def raw_server() -> Callable[..., AbstractAsyncContextManager[str]]:
    """``async with raw_server(handle) as base_url:`` with an asyncio stream handler."""
    return serve_raw


@pytest.fixture
def api_key() -> str:
    """A recognisable fake Console API key, to check that it never leaks."""
    return API_KEY
