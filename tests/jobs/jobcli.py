"""Helpers of the job tests that drive the real CLI against the emulator.

``run_job`` runs ``bulkops run NAME ...`` in a subprocess (via ``clihelp`` of the run tests);
``converges`` runs a job with ``--yes``, checks the mutations sent equal the plan, then runs it
again and checks the second plan is empty and nothing is sent.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from clihelp import bulkops, cli_env
from job_fakes import gate, segment

from bulkops.testing import EmulatorConfig, RunningEmulator

UNMETERED = ((1_000_000, 1.0),)
TARGET_KEY = "console-dst"
_PLANNED = re.compile(r"plan: (\d+) operation\(s\) to send")
_RUN_ID = re.compile(r"run id: (\S+)")


def two_projects() -> EmulatorConfig:
    """A fast emulator with a ``default`` (source) and a ``target`` project."""
    return EmulatorConfig(
        projects={"default": "console-src", "target": TARGET_KEY},
        page_cap=100,
        mutation_limits=UNMETERED,
    )


def seed(emulator: RunningEmulator, project: str = "default", **entities: list[dict]) -> None:
    """Replace ``project``'s state with these entities (by kind)."""
    emulator.load({"format": "bulkops-snapshot/1", "projects": {project: {"entities": entities}}})


def entities(emulator: RunningEmulator, kind: str, project: str = "default") -> dict[str, Any]:
    """The emulator's entities of ``kind`` by ID."""
    state = emulator.dump()["projects"][project]["entities"].get(kind, [])
    return {e["id"]: e for e in state}


def overrides(emulator: RunningEmulator, kind: str, project: str = "default") -> dict[str, Any]:
    """The emulator's override documents of ``kind`` by entity ID."""
    return emulator.dump()["projects"][project].get("overrides", {}).get(kind, {})


def sent(emulator: RunningEmulator, project: str | None = None) -> Counter[str]:
    """Mutations the emulator received, as ``METHOD /path`` counts."""
    return Counter(
        f"{m['method']} {m['path'].split('/console/v1')[-1]}"
        for m in emulator.mutation_log(project)
    )


def planned(output: str) -> int:
    """The ``plan: N operation(s) to send`` count printed by a run."""
    match = _PLANNED.search(output)
    assert match, f"no plan summary in:\n{output}"
    return int(match.group(1))


def run_id(output: str) -> str:
    """The ``run id: ID`` a run printed."""
    match = _RUN_ID.search(output)
    assert match, f"no run id in:\n{output}"
    return match.group(1)


def run_job(
    emulator: RunningEmulator,
    state_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``bulkops run ARGS`` against ``emulator`` (no terminal: stdin is empty)."""
    return bulkops("run", *args, env=cli_env(emulator, state_dir, **(env or {})), timeout=timeout)


def run_ok(
    emulator: RunningEmulator, state_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run with ``--yes``: exit 0, and the mutations sent are exactly the planned ones."""
    emulator.reset_counters()
    first = run_job(emulator, state_dir, *args, "--yes", env=env)
    assert first.returncode == 0, first.stderr
    log = emulator.mutation_log()
    assert len(log) == planned(first.stderr), (first.stderr, sent(emulator))
    assert all(200 <= m["status"] < 300 for m in log), log
    return first


def converges(
    emulator: RunningEmulator, state_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``run_ok``, then a second run plans 0 and sends nothing."""
    first = run_ok(emulator, state_dir, *args, env=env)
    emulator.reset_counters()
    second = run_job(emulator, state_dir, *args, "--yes", env=env)
    assert second.returncode == 0, second.stderr
    assert planned(second.stderr) == 0 and sent(emulator) == Counter(), second.stderr
    return first


def comparable(emulator: RunningEmulator, project: str = "default") -> dict[str, Any]:
    """A project's entities and overrides as a revert must restore them.

    Dropped: what every write changes (``lastModified*``, ``lastModifier*``, ``version``).
    Override ID lists compare as sets (the API treats them so; a revert re-adds an ID at the end)
    and an override entry or document holding no IDs equals none.
    """

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: clean(v)
                for k, v in value.items()
                if not k.startswith("lastModifi") and k != "version"
            }
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    state = emulator.dump()["projects"][project]
    docs = {
        kind: {
            entity: doc
            for entity, doc in ((e, _id_sets(d)) for e, d in by_id.items())
            if any(doc.values())
        }
        for kind, by_id in state.get("overrides", {}).items()
    }
    return clean({"entities": state.get("entities", {}), "overrides": docs})


def _id_sets(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            result[key] = sorted(value)
        elif isinstance(value, list):
            entries = [_id_sets(v) if isinstance(v, dict) else v for v in value]
            result[key] = [
                e
                for e in entries
                if not isinstance(e, dict) or any(isinstance(x, list) and x for x in e.values())
            ]
        else:
            result[key] = value
    return result


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Where two ``comparable`` states differ, as ``path: before != after`` lines."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            line
            for key in sorted(set(before) | set(after), key=str)
            for line in differences(before.get(key), after.get(key), f"{path}.{key}")
        ]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            line
            for i, (b, a) in enumerate(zip(before, after, strict=True))
            for line in differences(b, a, f"{path}[{i}]")
        ]
    return [] if before == after else [f"{path}: {before!r} != {after!r}"]


def experiment(exp_id: str, **fields: Any) -> dict[str, Any]:
    """An experiment shaped like GET /experiments/{id}."""
    data = {
        "id": exp_id,
        "name": exp_id,
        "status": "active",
        "idType": "userID",
        "hypothesis": "h",
        "description": "",
        "groups": [
            {"name": "control", "size": 50, "parameterValues": {}},
            {"name": "test", "size": 50, "parameterValues": {}},
        ],
    }
    return data | fields


def seed_source(emulator: RunningEmulator) -> None:
    """Source project: checkout_a (gate with a passes_segment rule, layer), checkout_b, search_c."""
    rule = {
        "name": "beta",
        "passPercentage": 100,
        "conditions": [{"type": "passes_segment", "targetValue": ["beta_users"]}],
    }
    seed(
        emulator,
        segments=[segment("beta_users")],
        gates=[gate("beta_gate", rules=[rule], description="beta")],
        layers=[{"id": "main_layer", "name": "main_layer", "idType": "userID", "description": ""}],
        experiments=[
            experiment("checkout_a", targetingGateID="beta_gate", layerID="main_layer"),
            experiment("checkout_b"),
            experiment("search_c"),
        ],
    )
