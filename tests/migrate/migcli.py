"""Helpers of the migration CLI tests: a source and a target project on one emulator."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from clihelp import bulkops, cli_env

from bulkops.migrate.sample import migration_sample
from bulkops.testing import EmulatorConfig, RunningEmulator

SOURCE_KEY, TARGET_KEY = "console-src", "console-dst"
TARGET_ENV = {"STATSIG_TARGET_CONSOLE_API_KEY": TARGET_KEY}
MIGRATE = ("migrate", "--to", "prod")
KINDS = ("segments", "gates", "dynamic_configs", "layers", "experiments", "holdouts")


def two_projects() -> EmulatorConfig:
    """A source (``default``) and a target project, mutations unmetered."""
    return EmulatorConfig(
        projects={"default": SOURCE_KEY, "target": TARGET_KEY},
        mutation_limits=((1_000_000, 1.0),),
    )


def seed(emulator: RunningEmulator, snapshot: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load the sample (or ``snapshot``) into the source project; the target stays as it is."""
    snapshot = snapshot or migration_sample()
    emulator.load({**snapshot, "project": "default"})
    return snapshot


def env(emulator: RunningEmulator, state: Path, **extra: str) -> dict[str, str]:
    return cli_env(emulator, state, **{**TARGET_ENV, **extra})


def migrate(
    emulator: RunningEmulator, state: Path, *args: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    """``bulkops run migrate --to prod ARGS`` (no terminal)."""
    return bulkops("run", *MIGRATE, *args, env=env(emulator, state, **extra), timeout=120)


def verify(emulator: RunningEmulator, state: Path, run_id: str, **extra: str):
    return bulkops("verify", run_id, env=env(emulator, state, **extra), timeout=120)


def counts(emulator: RunningEmulator, project: str) -> dict[str, int]:
    entities = emulator.dump()["projects"][project]["entities"]
    return {kind: len(entities.get(kind, [])) for kind in KINDS}


def creates(emulator: RunningEmulator, project: str = "target") -> Counter[str]:
    """Successful creates in the mutation log (entities, tags, target apps), as ``kind/name``
    counts."""
    return Counter(
        f"{m['path'].rsplit('/', 1)[-1]}/{m['body'].get('name')}"
        for m in emulator.mutation_log(project)
        if m["method"] == "POST"
        and 200 <= m["status"] < 300
        and isinstance(m["body"], dict)
        and m["path"].rstrip("/").rsplit("/", 1)[-1] in (*KINDS, "tags", "target_app")
    )


def api(
    emulator: RunningEmulator, method: str, path: str, body: Any, project: str = "default"
) -> Any:
    """One request to a project of the emulator (changing the source or the target by hand)."""
    key = SOURCE_KEY if project == "default" else TARGET_KEY
    request = urllib.request.Request(
        emulator.base_url + path,
        method=method,
        data=json.dumps(body).encode(),
        headers={"STATSIG-API-KEY": key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")
