"""Test kit for bulkops users and our own tests: a running emulator and a fast clock.

Load the fixtures with ``pytest_plugins = ["bulkops.testing"]`` in a ``conftest.py``:

- ``emulator``: a :class:`RunningEmulator` on a free loopback port (one project ``default``
  with key ``console-local``), stopped after the test. Works in sync tests, ``@pytest.mark.anyio``
  tests and tests that run the CLI in a subprocess (it serves from a background thread).
- ``emulator_config``: override this fixture to configure the ``emulator`` fixture.
- ``emulator_env``: environment variables pointing a client or a CLI subprocess at it.
- ``redis_server``: a real ``redis-server`` on a free loopback port (:class:`RunningRedis`,
  ``.url``, ``.kill()``), for the shared budget; the test fails (never skips) when
  ``redis-server`` is not installed: run ``.ci/run`` or ``apt-get install redis-server``.

Planning a job in a unit test: :class:`FakeReadContext` (entities and documents in memory),
:func:`plan_job` (prepare, list and plan as the runner does, nothing sent) and
:func:`emulator_read_context` (the same against a running emulator).

Re-exports :func:`start_emulator`, :class:`EmulatorConfig`, :class:`RunningEmulator`,
:class:`FaultPlan`, :class:`ScriptedFault`, :func:`start_redis_server`, :class:`RunningRedis`
and :class:`FakeClock`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from bulkops.emulator import (
    EmulatorConfig,
    FaultPlan,
    RunningEmulator,
    ScriptedFault,
    start_emulator,
)
from bulkops.redis_process import RedisServerMissing, RunningRedis, start_redis_server
from bulkops.run.harness import FakeReadContext, emulator_read_context, plan_job

if TYPE_CHECKING:
    from bulkops.api.clock import FakeClock

__all__ = [
    "EmulatorConfig",
    "FakeClock",
    "FakeReadContext",
    "FaultPlan",
    "RunningEmulator",
    "RunningRedis",
    "ScriptedFault",
    "emulator",
    "emulator_config",
    "emulator_env",
    "emulator_read_context",
    "plan_job",
    "redis_server",
    "start_emulator",
    "start_redis_server",
]


def __getattr__(name: str) -> Any:
    # FakeClock lives in bulkops.api.clock; imported lazily so this module works without it.
    if name == "FakeClock":
        from bulkops.api.clock import FakeClock

        return FakeClock
    raise AttributeError(f"module 'bulkops.testing' has no attribute {name!r}")


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """The configuration the ``emulator`` fixture starts with (override to change it)."""
    return EmulatorConfig()


@pytest.fixture
def emulator(emulator_config: EmulatorConfig) -> Iterator[RunningEmulator]:
    """A running emulator on a free loopback port, torn down after the test."""
    with start_emulator(emulator_config) as running:
        yield running


@pytest.fixture
def emulator_env(emulator: RunningEmulator) -> dict[str, str]:
    """``os.environ`` plus ``STATSIG_CONSOLE_API_URL``/``STATSIG_CONSOLE_API_KEY`` for it."""
    env = dict(os.environ)
    env["STATSIG_CONSOLE_API_URL"] = emulator.base_url
    env["STATSIG_CONSOLE_API_KEY"] = emulator.api_key()
    return env


@pytest.fixture
def redis_server() -> Iterator[RunningRedis]:
    """A real ``redis-server`` on a free loopback port, stopped after the test."""
    try:
        with start_redis_server() as running:
            yield running
    except RedisServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
