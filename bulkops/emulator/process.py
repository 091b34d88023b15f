"""An emulator in a process of its own, driven like a :class:`RunningEmulator`.

``start_emulator`` serves from a thread of the calling process, which shares the GIL with the
client under test. Where timing matters (pacing tests, benchmarks), that sharing adds the client's
CPU time to every request's latency; a separate process keeps the two apart, as on the network.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any

from bulkops.emulator.config import EmulatorConfig
from bulkops.emulator.server import start_emulator

__all__ = ["EmulatorProcess", "start_emulator_process"]

#: The RunningEmulator methods an EmulatorProcess forwards to the child.
FORWARDED = frozenset(
    {
        "api_key",
        "set_faults",
        "clear_faults",
        "script_fault",
        "fail_next",
        "rate_limit_next",
        "drop_next",
        "stats",
        "mutation_log",
        "reset_counters",
        "dump",
        "load",
    }
)


def _serve(config: EmulatorConfig, conn: Connection) -> None:
    with start_emulator(config) as running:
        conn.send((running.base_url, running.admin_url))
        while True:
            try:
                message = conn.recv()
            except EOFError:
                return
            if message is None:
                return
            name, args, kwargs = message
            try:
                conn.send((True, getattr(running, name)(*args, **kwargs)))
            except Exception as error:  # noqa: BLE001 - handed back to the caller, raised there
                conn.send((False, error))


class EmulatorProcess:
    """Handle on an emulator child process: ``base_url``, ``admin_url`` and the methods of
    :class:`RunningEmulator` listed in ``FORWARDED`` (each a round trip to the child)."""

    def __init__(self, conn: Connection, base_url: str, admin_url: str) -> None:
        self._conn = conn
        self.base_url = base_url
        self.admin_url = admin_url

    def __getattr__(self, name: str) -> Any:
        if name not in FORWARDED:
            raise AttributeError(f"EmulatorProcess does not forward {name!r}")

        def call(*args: Any, **kwargs: Any) -> Any:
            self._conn.send((name, args, kwargs))
            ok, value = self._conn.recv()
            if not ok:
                raise value
            return value

        return call

    def __repr__(self) -> str:
        return f"<EmulatorProcess {self.base_url}>"


@contextmanager
def start_emulator_process(
    config: EmulatorConfig | None = None, *, start_timeout: float = 30.0
) -> Iterator[EmulatorProcess]:
    """Run an emulator in a fresh (spawned) process on a free loopback port; stop it on exit."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(config or EmulatorConfig(), child), daemon=True)
    process.start()
    try:
        if not parent.poll(start_timeout):
            raise RuntimeError(f"emulator process did not start within {start_timeout:g} s")
        base_url, admin_url = parent.recv()
        yield EmulatorProcess(parent, base_url, admin_url)
    finally:
        try:
            parent.send(None)
        except OSError:
            pass
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join(5)
