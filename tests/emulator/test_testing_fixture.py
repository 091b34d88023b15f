"""bulkops.testing: the emulator fixture works in sync, async and subprocess tests."""

from __future__ import annotations

import json
import subprocess
import sys

import aiohttp
import pytest

from bulkops import testing
from bulkops.testing import RunningEmulator


def test_fixture_serves_sync_tests(emulator: RunningEmulator) -> None:
    assert emulator.base_url.startswith("http://127.0.0.1:")
    assert emulator.base_url.endswith("/console/v1")
    assert emulator.api_key() == "console-local"


@pytest.mark.anyio
async def test_fixture_serves_async_tests(emulator: RunningEmulator) -> None:
    headers = {"STATSIG-API-KEY": emulator.api_key()}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(emulator.base_url + "/gates", json={"name": "g one"}) as resp:
            assert resp.status == 201
        async with session.get(emulator.base_url + "/gates/g_one") as resp:
            assert (await resp.json())["data"]["id"] == "g_one"
    assert emulator.stats()["requests"]["GET 200"] == 1


def test_fixture_serves_subprocesses(
    emulator: RunningEmulator, emulator_env: dict[str, str]
) -> None:
    code = (
        "import os, urllib.request, json;"
        "r = urllib.request.Request(os.environ['STATSIG_CONSOLE_API_URL'] + '/gates',"
        " headers={'STATSIG-API-KEY': os.environ['STATSIG_CONSOLE_API_KEY']});"
        "print(json.load(urllib.request.urlopen(r, timeout=10))['message'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=emulator_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.strip() == "Gates listed successfully."


def test_repr_never_shows_the_key(emulator: RunningEmulator) -> None:
    assert emulator.api_key() not in repr(emulator)


def test_fake_clock_is_re_exported_when_available() -> None:
    try:
        from bulkops.api.clock import FakeClock
    except ImportError:
        pytest.skip("bulkops.api.clock is not there yet")
    assert testing.FakeClock is FakeClock
    assert json.dumps(sorted(testing.__all__))
