"""`bulkops emulator` as a real subprocess: one line once listening, clean stop on signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bulkops.emulator import SNAPSHOT_FORMAT


@contextmanager
def _emulator_process(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bulkops", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        yield process, line
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def _url(line: str) -> str:
    return next(word for word in line.split() if word.startswith("http://"))


def _get(url: str, key: str) -> dict:  # type: ignore[type-arg]
    request = urllib.request.Request(url, headers={"STATSIG-API-KEY": key})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_prints_where_it_listens_and_stops_on_signal(signum: int) -> None:
    with _emulator_process() as (process, line):
        assert "listening on http://127.0.0.1:" in line
        assert _get(_url(line) + "/gates", "console-local")["data"] == []
        process.send_signal(signum)
        assert process.wait(timeout=30) == 0
        assert process.stdout is not None and process.stdout.read() == ""


def test_projects_and_seed(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "format": SNAPSHOT_FORMAT,
                "projects": {"prod": {"entities": {"gates": [{"id": "g1", "name": "g1"}]}}},
            }
        )
    )
    with _emulator_process(
        "--project",
        "prod=key-1",
        "--project",
        "staging=key-2",
        "--seed",
        str(seed),
        "--page-cap",
        "5",
    ) as (process, line):
        assert "key-1" not in line and "key-2" not in line
        assert _get(_url(line) + "/gates", "key-1")["data"][0]["id"] == "g1"
        assert _get(_url(line) + "/gates", "key-2")["data"] == []
        process.terminate()
        assert process.wait(timeout=30) == 0


def test_bad_settings_exit_2_with_a_message() -> None:
    with _emulator_process("--page-cap", "0") as (process, _):
        assert process.wait(timeout=30) == 2
        assert process.stderr is not None and "page_cap" in process.stderr.read()
