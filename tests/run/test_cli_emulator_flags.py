"""`bulkops emulator` flags set faults and mutation limits from the start; --help shows how.

The emulator runs as a real subprocess on a free loopback port.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

pytestmark = pytest.mark.timeout(60)

KEY = "console-local"


@contextmanager
def emulator(*args: str) -> Iterator[str]:
    """The admin URL of a `bulkops emulator ARGS` subprocess (killed on exit)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bulkops", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on" in line, process.stderr.read() if process.stderr else line
        admin = next(w for w in line.split() if w.startswith("http://") and "_emulator" in w)
        yield admin.rstrip(";").rstrip("/")
    finally:
        process.kill()
        process.communicate(timeout=30)


def request(url: str, method: str = "GET", body: object = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url,
        method=method,
        data=data,
        headers={"STATSIG-API-KEY": KEY, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def api_url(admin: str) -> str:
    return admin.removesuffix("/_emulator") + "/console/v1"


def test_error_rate_and_methods_flags_set_the_fault_plan() -> None:
    with emulator("--error-rate", "1", "--error-status", "502", "--fault-methods", "post") as admin:
        _, plan = request(admin + "/faults")
        assert plan["error_rate"] == 1.0 and plan["methods"] == ["POST"], plan
        assert request(api_url(admin) + "/gates")[0] == 200  # GETs draw no faults
        status, _ = request(api_url(admin) + "/gates", "POST", {"name": "g1"})
        assert status == 502


def test_latency_reset_and_lost_flags_reach_the_plan() -> None:
    with emulator("--latency-ms", "20-80", "--reset-rate", "0.25", "--lost-rate", "0.5") as admin:
        _, plan = request(admin + "/faults")
        assert plan["latency"] == [0.02, 0.08]
        assert (plan["reset_rate"], plan["lost_rate"], plan["lost_mode"]) == (0.25, 0.5, "reset")


def test_mutation_limit_flag_sets_the_windows() -> None:
    with emulator("--mutation-limit", "2/10s") as admin:
        statuses = [
            request(api_url(admin) + "/gates", "POST", {"name": f"g{i}"})[0] for i in range(3)
        ]
        assert statuses[-1] == 429 and 429 not in statuses[:2], statuses


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--error-rate", "1.5"), ("--latency-ms", "slow"), ("--mutation-limit", "x")],
)
def test_bad_flag_values_are_usage_errors(flag: str, value: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bulkops", "emulator", "--port", "0", flag, value],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2 and flag in done.stderr, done.stderr


def test_help_shows_fault_flags_and_the_admin_endpoints() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bulkops", "emulator", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    for text in (
        "--error-rate",
        "--latency-ms",
        "--mutation-limit",
        "GET|PUT|DELETE /_emulator/faults",
        "/_emulator/faults/scripted",
    ):
        assert text in done.stdout, text
