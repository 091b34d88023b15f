"""Helpers for the run CLI tests: a fast emulator, seeding it, running `bulkops` subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bulkops.testing import EmulatorConfig, RunningEmulator

JOBFILE = str(Path(__file__).with_name("jobfile.py"))
REPO = Path(__file__).resolve().parents[2]
UNMETERED = ((1_000_000, 1.0),)


def fast_config(**kw: Any) -> EmulatorConfig:
    return EmulatorConfig(mutation_limits=UNMETERED, **kw)


def api(emulator: RunningEmulator, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        emulator.base_url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"STATSIG-API-KEY": emulator.api_key(), "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def seed_holdout(emulator: RunningEmulator, name: str = "bulk_holdout") -> None:
    try:
        api(emulator, "GET", "/gates/someone_elses_gate")
    except urllib.error.HTTPError:
        api(emulator, "POST", "/gates", {"name": "someone_elses_gate", "description": "theirs"})
    api(emulator, "POST", "/holdouts", {"name": name, "description": "for tests"})
    api(emulator, "PATCH", f"/holdouts/{name}", {"gateIDs": ["someone_elses_gate"]})


def cli_env(emulator: RunningEmulator, state_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        STATSIG_CONSOLE_API_URL=emulator.base_url,
        STATSIG_CONSOLE_API_KEY=emulator.api_key(),
        BULKOPS_MUTATION_LIMITS="1000000/1s",
        BULKOPS_STATE_DIR=str(state_dir),
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


def bulkops(
    *args: str, env: dict[str, str], timeout: float = 60, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bulkops", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        check=False,
        input=input if input is not None else "",
    )


def spawn(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bulkops", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
    )


VOLATILE = {
    "lastModifiedTime",
    "createdTime",
    "version",
    "lastModifierID",
    "creatorID",
    "id",
    "baseID",
    "lastModifierName",
    "creatorName",
}


def normalized_state(emulator: RunningEmulator) -> dict[str, Any]:
    """The default project's entities without ids, timestamps and versions."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in VOLATILE}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    entities = emulator.dump()["projects"]["default"]["entities"]
    return {
        kind: sorted((clean(e) for e in rows), key=lambda e: e.get("name", ""))
        for kind, rows in entities.items()
    }
