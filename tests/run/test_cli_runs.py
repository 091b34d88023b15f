"""`bulkops run/status/report/resume` as real subprocesses against the emulator."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from clihelp import JOBFILE, api, bulkops, cli_env, fast_config, seed_holdout

from bulkops.testing import EmulatorConfig, RunningEmulator


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return fast_config()


@pytest.fixture
def env(emulator: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    seed_holdout(emulator)
    return cli_env(emulator, tmp_path / "state")


def test_run_with_yes_applies_the_plan_and_exits_0(emulator: RunningEmulator, env: dict) -> None:
    done = bulkops("run", JOBFILE, "--count", "5", "--yes", "--run-id", "r1", env=env)
    assert done.returncode == 0, done.stderr
    assert "plan: 16 operation(s) to send" in done.stderr
    holdout = api(emulator, "GET", "/holdouts/bulk_holdout")["data"]
    assert holdout["gateIDs"][0] == "someone_elses_gate" and len(holdout["gateIDs"]) == 6
    gate = api(emulator, "GET", "/gates/bulk_gate_0003")["data"]
    assert gate["description"] == "bulk edited" and len(gate["rules"]) == 1


def test_status_and_report_describe_the_run(env: dict) -> None:
    bulkops("run", JOBFILE, "--count", "3", "--yes", "--run-id", "r1", env=env)
    status = json.loads(bulkops("status", "r1", "--json", env=env).stdout)
    assert status["phase"] == "complete" and status["counts"]["DONE"] == 10
    assert status["remaining"] == 0
    rows = [json.loads(line) for line in bulkops("report", "r1", env=env).stdout.splitlines()]
    assert len(rows) == 10 and {r["status"] for r in rows} == {"DONE"}
    assert rows[0]["key"] == "bulk_gate_0000:create" and rows[0]["operation"] == "POST /gates"
    table = list(
        csv.DictReader(io.StringIO(bulkops("report", "r1", "--format", "csv", env=env).stdout))
    )
    assert [r["key"] for r in table] == [r["key"] for r in rows]
    assert bulkops("report", "r1", "--failed-only", env=env).stdout == ""


def test_without_a_terminal_mutations_need_yes(emulator: RunningEmulator, env: dict) -> None:
    emulator.reset_counters()
    done = bulkops("run", JOBFILE, "--count", "2", "--run-id", "r1", env=env)
    assert done.returncode == 2
    assert "--yes" in done.stderr and emulator.mutation_log() == []
    resumed = bulkops("resume", "r1", "--yes", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert len(emulator.mutation_log()) == 7


def test_dry_run_prints_the_diff_and_sends_nothing(emulator: RunningEmulator, env: dict) -> None:
    emulator.reset_counters()
    done = bulkops("run", JOBFILE, "--count", "2", "--dry-run", env=env)
    assert done.returncode == 0, done.stderr
    assert "(description created → bulk edited)" in done.stdout, done.stdout
    assert "gateIDs +2 (bulk_gate_0000, bulk_gate_0001)" in done.stdout, done.stdout
    as_json = json.loads(
        bulkops("run", JOBFILE, "--count", "2", "--dry-run", "--json", env=env).stdout
    )
    assert as_json["summary"]["to_send"] == 7
    assert emulator.mutation_log() == []


def test_failed_operations_exit_1_and_are_reported(emulator: RunningEmulator, env: dict) -> None:
    api(emulator, "DELETE", "/holdouts/bulk_holdout")
    done = bulkops("run", JOBFILE, "--count", "2", "--yes", env=env)
    assert done.returncode == 2 and "holdout 'bulk_holdout' not found" in done.stderr
    seed_holdout(emulator)
    emulator.fail_next(1, "POST", "/gates/bulk_gate_0001/rules", status=400)
    done = bulkops("run", JOBFILE, "--count", "2", "--yes", "--run-id", "r2", env=env)
    assert done.returncode == 1, done.stderr
    failed = [
        json.loads(x) for x in bulkops("report", "r2", "--failed-only", env=env).stdout.splitlines()
    ]
    assert {r["key"]: r["status"] for r in failed} == {
        "bulk_gate_0001:rule": "FAILED_PERM",
        "bulk_gate_0001:describe": "FAILED_PERM",
    }
    assert failed[0]["http_status"] == 400


def test_rejected_key_is_fatal_exit_4(env: dict) -> None:
    env["STATSIG_CONSOLE_API_KEY"] = "console-wrong-key-123"
    done = bulkops("run", JOBFILE, "--count", "1", "--yes", env=env)
    assert done.returncode == 4
    assert "console-wrong-key-123" not in done.stderr + done.stdout


def test_usage_errors_exit_2(env: dict, tmp_path: Path) -> None:
    assert bulkops("run", "no-such-job", env=env).returncode == 2
    assert bulkops("run", JOBFILE, "--run-id", "bad id!", env=env).returncode == 2
    assert bulkops("status", "nope", env=env).returncode == 2
    no_key = dict(env, STATSIG_CONSOLE_API_KEY="")
    done = bulkops("run", JOBFILE, env=no_key)
    assert done.returncode == 2 and "STATSIG_CONSOLE_API_KEY" in done.stderr


def test_json_log_format_emits_machine_readable_events(env: dict) -> None:
    done = bulkops("run", JOBFILE, "--count", "2", "--yes", "--log-format", "json", env=env)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    kinds = [e["event"] for e in events]
    assert kinds[:2] == ["run", "plan"] and kinds[-1] == "finished"
    assert events[1]["to_send"] == 7 and events[-1]["counts"] == {"DONE": 7}
    assert len(events) == len(done.stderr.splitlines())  # every line is a JSON object


def test_status_without_run_id_shows_the_latest_run(env: dict) -> None:
    bulkops("run", JOBFILE, "--count", "1", "--yes", "--run-id", "a", env=env)
    bulkops("run", JOBFILE, "--count", "2", "--yes", "--run-id", "b", env=env)
    done = bulkops("status", env=env)
    assert done.returncode == 0 and done.stdout.startswith("run b (")
    assert "DONE 4" in done.stdout  # bulk_gate_0000 existed: skipped by the plan
