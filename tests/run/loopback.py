"""A misbehaving server's plumbing: one aiohttp handler served on a free 127.0.0.1 port, in a
thread and event loop of its own, so that the test (and the CLI processes it starts) can talk
to it while it runs. The hostile proxy, the mangling proxy and the secrets test's quoting
server each supply only their handler.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@contextmanager
def serve_in_thread(
    handler: Handler,
    *,
    name: str = "loopback-server",
    on_start: Callable[[], Awaitable[None]] | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
) -> Iterator[int]:
    """Serve ``handler`` for every method and path until the block ends; yields the port.

    ``on_start`` / ``on_stop`` run in the server's loop before it listens and after it
    stopped (to open and close a client session a proxy forwards with).
    """
    ready = threading.Event()
    box: dict[str, Any] = {}

    def main() -> None:
        loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        if on_start is not None:
            loop.run_until_complete(on_start())
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
        box["port"] = runner.addresses[0][1]
        box["stop"] = stop = asyncio.Event()
        box["loop"] = loop
        ready.set()
        try:
            loop.run_until_complete(stop.wait())
        finally:
            loop.run_until_complete(runner.cleanup())
            if on_stop is not None:
                loop.run_until_complete(on_stop())
            loop.close()

    thread = threading.Thread(target=main, name=name, daemon=True)
    thread.start()
    assert ready.wait(10), f"{name} did not start"
    try:
        yield box["port"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)
