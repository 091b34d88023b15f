"""`bulkops demo`: a real emulator, a sample project, real journaled runs, a true summary."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from openapi_spec import MISSING_REASON, load_spec, spec_available

from bulkops.cli import main
from bulkops.demo import QA_USERS, run_demo, run_scenario, scaled_limits, summarize
from bulkops.emulator import EmulatorConfig, start_emulator
from bulkops.run.statedir import StateDir
from bulkops.sample_project import BLOCKING_EXPERIMENT, DEMO_HOLDOUT, sample_project

TIME_SCALE = 0.02  # windows of 100/0.2s


def _gates(snapshot: dict) -> dict[str, dict]:
    return {g["id"]: g for g in snapshot["projects"]["default"]["entities"]["gates"]}


def test_demo_command_shows_progress_and_what_changed(tmp_path: Path) -> None:
    env = dict(os.environ)
    # The demo must ignore the user's settings and only talk to its own emulator.
    env.update(
        STATSIG_CONSOLE_API_KEY="console-users-real-key",
        STATSIG_CONSOLE_API_URL="http://127.0.0.1:9/console/v1",
        BULKOPS_STATE_DIR=str(tmp_path / "not-this-one"),
    )
    state = tmp_path / "state"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bulkops",
            "demo",
            "--gates",
            "40",
            "--time-scale",
            str(TIME_SCALE),
            "--state-dir",
            str(state),
        ],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "progress: done" in output
    assert "stale gates archived: 0 → 6" in output
    assert f"holdout {DEMO_HOLDOUT}: gateIDs 0 → 26" in output
    assert f"gates passing for {', '.join(QA_USERS)}: 0 → 26" in output
    assert f"experiment {BLOCKING_EXPERIMENT} (targeting gate)" in output
    assert "bulkops report " in output
    assert "console-local" not in output and "console-users-real-key" not in output
    journals = sorted(state.glob("*.journal"))
    assert len(journals) == 3
    assert not (tmp_path / "not-this-one").exists()


def test_demo_journals_record_every_operation_done(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert (
        main(["demo", "--gates", "20", "--time-scale", str(TIME_SCALE), "--state-dir", str(state)])
        == 0
    )
    statuses: dict[str, int] = {}
    runs = list(StateDir(state).runs())
    assert [r.job for r in runs] == ["archive-stale-gates", "overrides", "attach-holdout"]
    for run in runs:
        journal = StateDir(state).open_readonly(run.run_id)
        try:
            assert journal.meta()["phase"] == "complete"
            for status, n in journal.counts().items():
                statuses[status] = statuses.get(status, 0) + n
        finally:
            journal.close()
    statuses = {k: v for k, v in statuses.items() if v}
    assert set(statuses) == {"DONE", "BLOCKED"}  # the two referenced stale gates


@pytest.mark.anyio
async def test_scenario_leaves_the_emulator_as_the_summary_says(tmp_path: Path) -> None:
    config = EmulatorConfig(time_scale=TIME_SCALE, seed=sample_project(150))
    with start_emulator(config) as emulator:
        before = emulator.dump()
        printed = io.StringIO()
        results = await run_scenario(
            emulator.base_url,
            emulator.api_key(),
            tmp_path,
            limits=scaled_limits(TIME_SCALE),
            out=printed,
        )
        after = emulator.dump()
        log = emulator.mutation_log()
        refused = emulator.stats()["projects"]["default"]["rate_limited"]
    assert [r.exit_code for r in results] == [0, 0, 0]
    assert "progress: done" in printed.getvalue()
    gates_before, gates_after = _gates(before), _gates(after)
    archived = {i for i, g in gates_after.items() if g["status"] == "Archived"}
    assert len(archived) == results[0].counts["DONE"]
    assert all(gates_before[i]["type"] == "STALE" for i in archived)
    assert all("keep" not in gates_before[i]["tags"] for i in archived)
    blocked = {item.rsplit(":", 1)[-1] for item, _ in results[0].blocked}
    experiment = next(
        e
        for e in after["projects"]["default"]["entities"]["experiments"]
        if e["id"] == BLOCKING_EXPERIMENT
    )
    assert experiment["targetingGateID"] in blocked and not blocked & archived
    temporary = {i for i, g in gates_before.items() if g["type"] == "TEMPORARY"}
    holdout = next(
        h for h in after["projects"]["default"]["entities"]["holdouts"] if h["id"] == DEMO_HOLDOUT
    )
    assert set(holdout["gateIDs"]) == temporary
    overrides = after["projects"]["default"]["overrides"]["gates"]
    assert {
        i for i, o in overrides.items() if set(QA_USERS) <= set(o.get("passingUserIDs") or ())
    } == temporary
    # More than one window's worth of mutations went out, and the budget drew no 429.
    assert len(log) == len(archived) + len(temporary) + 1 > 100
    assert refused == 0
    lines = summarize(before, after, results, log, refused)
    assert f"stale gates archived: 0 → {len(archived)}" in lines
    assert f"holdout {DEMO_HOLDOUT}: gateIDs 0 → {len(temporary)}" in lines


def test_sample_project_is_deterministic_and_mixed() -> None:
    one, two = sample_project(150, now=1_700_000_000), sample_project(150, now=1_700_000_000)
    assert one == two
    gates = one["entities"]["gates"]
    assert len(gates) == len({g["id"] for g in gates}) == 150
    types = {g["type"] for g in gates}
    assert types == {"STALE", "TEMPORARY", "PERMANENT"}
    assert any("keep" in g["tags"] for g in gates if g["type"] == "STALE")
    assert [h["gateIDs"] for h in one["entities"]["holdouts"]] == [[]]


@pytest.mark.spec
def test_sample_project_uses_the_specs_enums() -> None:
    if not spec_available():
        pytest.skip(MISSING_REASON)
    schemas = load_spec()["components"]["schemas"]
    gate = schemas["ExternalGateDto"]["properties"]
    project = sample_project(60)["entities"]
    for g in project["gates"]:
        assert g["type"] in gate["type"]["enum"]
        assert g["typeReason"] in gate["typeReason"]["enum"]
        assert g["status"] in gate["status"]["enum"]
    statuses = {e["status"] for e in project["experiments"]}
    assert statuses <= set(schemas["ExternalExperimentDto"]["properties"]["status"]["enum"])


@pytest.mark.parametrize("argv", [["--gates", "0"], ["--time-scale", "-1"], ["--gates", "x"]])
def test_demo_rejects_bad_options(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["demo", *argv])
    assert exc.value.code == 2


def test_keep_running_leaves_the_emulator_serving_the_changed_project(tmp_path: Path) -> None:
    seen: list[int] = []

    def try_it(emulator) -> None:  # what a user does in another shell, meanwhile
        request = urllib.request.Request(
            f"{emulator.base_url}/holdouts/{DEMO_HOLDOUT}",
            headers={"STATSIG-API-KEY": emulator.api_key()},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            seen.append(len(json.loads(response.read())["data"]["gateIDs"]))

    printed = io.StringIO()
    code = run_demo(gates=20, time_scale=TIME_SCALE, keep_running=True, out=printed, wait=try_it)
    assert code == 0
    assert seen == [13]
    assert "export STATSIG_CONSOLE_API_URL=http://127.0.0.1:" in printed.getvalue()


def test_demo_in_a_temporary_dir_suggests_no_command_for_the_deleted_dir() -> None:
    out = io.StringIO()
    assert run_demo(gates=20, time_scale=TIME_SCALE, out=out) == 0
    text = out.getvalue()
    # the temporary state dir is gone when the demo returns: no command may point at it
    line = next(x for x in text.splitlines() if x.startswith("journals (SQLite) in"))
    temp_dir = line.split(" in ", 1)[1].rstrip(":")
    assert not Path(temp_dir).exists()
    assert f"--state-dir {temp_dir}" not in text and "bulkops report 20" not in text, text
    assert "`bulkops demo --state-dir DIR`" in text
