"""Running an emulator: :func:`start_emulator` and the :class:`RunningEmulator` it yields.

The server runs in a background thread with its own event loop, so the same emulator serves
sync tests, async tests (on any loop) and CLI subprocesses. Methods of
:class:`RunningEmulator` may be called from any thread; they run on the server's loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar

from aiohttp import web

from .admin import ADMIN_PREFIX, emulator_stats
from .app import build_app
from .config import EmulatorConfig
from .faults import FaultPlan, ScriptedFault
from .routes_entities import API_PREFIX
from .snapshot import dump_snapshot, load_snapshot, read_snapshot_file
from .state import EmulatorState

__all__ = ["RunningEmulator", "start_emulator"]

T = TypeVar("T")


class RunningEmulator:
    """A live emulator: its URLs, keys, and controls for faults, counters and state."""

    def __init__(
        self, state: EmulatorState, loop: asyncio.AbstractEventLoop, host: str, port: int
    ) -> None:
        self._state = state
        self._loop = loop
        self.host = host
        self.port = port
        self.url = f"http://{host}:{port}"
        self.base_url = self.url + API_PREFIX
        """Console API base, e.g. ``http://127.0.0.1:PORT/console/v1``."""
        self.admin_url = self.url + ADMIN_PREFIX

    @property
    def config(self) -> EmulatorConfig:
        """The configuration the emulator runs with."""
        return self._state.config

    def api_key(self, project: str = "default") -> str:
        """The API key of ``project``."""
        try:
            return self._state.config.projects[project]
        except KeyError:
            raise KeyError(
                f"no project {project!r} in this emulator "
                f"(projects: {sorted(self._state.config.projects)})"
            ) from None

    def _call(self, fn: Callable[[], T]) -> T:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return future.result(timeout=30)

    def set_faults(self, plan: FaultPlan | None = None, **settings: Any) -> None:
        """Replace the fault plan: a :class:`FaultPlan`, or its fields as keywords; none clears."""
        if plan is None and settings:
            plan = FaultPlan(**settings)
        self._call(lambda: self._state.faults.set_plan(plan))

    def clear_faults(self) -> None:
        """No more faults: every request is served as it comes."""
        self.set_faults(None)

    def _project_name(self, project: str | None) -> str | None:
        """A project name from a name or an API key (``None`` stays ``None``: every project)."""
        if project is None or project in self._state.config.projects:
            return project
        for name, key in self._state.config.projects.items():
            if key == project:
                return name
        raise KeyError(
            f"no project named {project!r} and no project with that key in this emulator "
            f"(projects: {sorted(self._state.config.projects)})"
        )

    def script_fault(
        self,
        action: str,
        method: str | None = None,
        path_prefix: str = "",
        count: int = 1,
        *,
        status: int = 503,
        delay: float = 0.0,
        project: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Apply ``action`` to the next ``count`` matching requests (see :class:`ScriptedFault`).

        ``project``: a project name or API key; the fault then hits that project's requests only.
        """
        fault = ScriptedFault(
            action,
            method,
            path_prefix,
            count,
            status,
            delay,
            self._project_name(project),
            retry_after,
        )
        self._call(lambda: self._state.faults.add_scripted(fault))

    def fail_next(
        self,
        count: int = 1,
        method: str | None = None,
        path_prefix: str = "",
        *,
        status: int = 503,
        html: bool = False,
        project: str | None = None,
    ) -> None:
        """The next ``count`` matching requests get a ``status`` error, nothing applied."""
        self.script_fault(
            "html_error" if html else "error",
            method,
            path_prefix,
            count,
            status=status,
            project=project,
        )

    def rate_limit_next(
        self,
        count: int = 1,
        method: str | None = None,
        path_prefix: str = "",
        *,
        project: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """The next ``count`` matching requests get the service's 429 (nothing applied).

        ``retry_after`` seconds go in a ``Retry-After`` header; ``None`` sends none. With
        ``project`` (name or key) only that project's requests are refused.
        """
        self.script_fault(
            "rate_limited",
            method,
            path_prefix,
            count,
            project=project,
            retry_after=retry_after,
        )

    def drop_next(
        self,
        method: str | None = "POST",
        path_prefix: str = "",
        count: int = 1,
        *,
        mode: str = "reset",
        applied: bool = True,
        project: str | None = None,
    ) -> None:
        """Lose the response of the next matching requests: applied then reset (or a 500 when
        ``mode="500"``); ``applied=False`` resets before the effect instead."""
        if not applied:
            action = "reset"
        else:
            action = "apply_then_500" if mode == "500" else "apply_then_reset"
        self.script_fault(action, method, path_prefix, count, project=project)

    def stats(self) -> dict[str, Any]:
        """Counters by method/status, 429s served, in flight (max), windows, entity counts."""
        return self._call(lambda: emulator_stats(self._state))

    def mutation_log(self, project: str | None = None) -> list[dict[str, Any]]:
        """Every applied mutation (seq, time, project, method, path, body, status, lost)."""
        return self._call(
            lambda: [
                r.to_dict()
                for r in self._state.activity.mutations
                if project is None or r.project == project
            ]
        )

    def reset_counters(self) -> None:
        """Zero the counters and clear the mutation log (state is kept)."""
        self._call(self._state.activity.reset)

    def dump(self) -> dict[str, Any]:
        """The whole state as a snapshot dict (see :mod:`bulkops.emulator.snapshot`)."""
        return self._call(lambda: dump_snapshot(self._state.store))

    def load(self, snapshot: dict[str, Any]) -> None:
        """Replace the state of the projects the snapshot names."""
        self._call(lambda: load_snapshot(self._state.store, snapshot))

    def __repr__(self) -> str:
        return f"RunningEmulator({self.base_url!r}, projects={sorted(self.config.projects)})"


def _seed_snapshot(config: EmulatorConfig) -> dict[str, Any] | None:
    if config.seed is None or isinstance(config.seed, dict):
        return config.seed
    return read_snapshot_file(config.seed)


@contextmanager
def start_emulator(
    config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningEmulator]:
    """Run an emulator in a background thread until the ``with`` block ends.

    ``port=0`` picks a free port. The server accepts connections before this yields.
    """
    config = config or EmulatorConfig()
    state = EmulatorState(replace(config))
    seed = _seed_snapshot(config)
    if seed is not None:
        load_snapshot(state.store, seed)
    ready = threading.Event()
    failure: list[BaseException] = []
    box: dict[str, Any] = {}

    def main() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(build_app(state), access_log=None, shutdown_timeout=1.0)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, host, port, backlog=1024)
            loop.run_until_complete(site.start())
            box["port"] = runner.addresses[0][1]
            box["stop"] = stop = asyncio.Event()
            box["loop"] = loop
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            failure.append(exc)
            ready.set()
            loop.run_until_complete(runner.cleanup())
            loop.close()
            return
        ready.set()
        try:
            loop.run_until_complete(stop.wait())
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    thread = threading.Thread(target=main, name="bulkops-emulator", daemon=True)
    thread.start()
    ready.wait()
    if failure:
        raise OSError(f"emulator could not listen on {host}:{port}: {failure[0]}") from failure[0]
    loop: asyncio.AbstractEventLoop = box["loop"]
    try:
        yield RunningEmulator(state, loop, host, box["port"])
    finally:
        loop.call_soon_threadsafe(box["stop"].set)
        thread.join(timeout=30)
