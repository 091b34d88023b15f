"""Mistakes (in a job's code, its options, the settings) end in one clear line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import bulkops, cli_env, fast_config

from bulkops.testing import EmulatorConfig, RunningEmulator

PLAN_BUG = """\
from bulkops.run import Job, Operation, Source


class PlanBug(Job):
    name = "plan-bug"

    def sources(self):
        return [Source("gates")]

    async def plan(self, items, ctx):
        async for it in items:
            yield Operation(f"k:{it.id}", "PATCH", f"/gates/{it.id}", body={"d": it.data["nope"]})
"""

DUP_KEY = """\
from bulkops.run import Job, Operation, Source


class DupKey(Job):
    name = "dup-key"

    def sources(self):
        return [Source("gates")]

    async def plan(self, items, ctx):
        async for it in items:
            yield Operation("samekey", "PATCH", f"/gates/{it.id}", body={"description": "x"})
"""

TARGET_READER = """\
from bulkops.run import Job, Source


class TargetReader(Job):
    name = "target-reader"
    projects = ("target",)

    def sources(self):
        return [Source("gates", project="target")]

    async def plan(self, items, ctx):
        async for _ in items:
            yield
"""


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return fast_config()


@pytest.fixture
def env(emulator: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    from clihelp import api

    api(emulator, "POST", "/gates", {"name": "jerr_gate_one", "description": "d"})
    api(emulator, "POST", "/gates", {"name": "jerr_gate_two", "description": "d"})
    return cli_env(emulator, tmp_path / "state")


def _job(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _journals(tmp_path: Path) -> list[Path]:
    state = tmp_path / "state"
    return sorted(state.iterdir()) if state.exists() else []


def test_a_bug_in_plan_names_the_job_the_error_and_the_line(env: dict, tmp_path: Path) -> None:
    done = bulkops("run", _job(tmp_path, "planbug.py", PLAN_BUG), "--dry-run", env=env)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "Exception Group" not in done.stderr
    assert "job plan-bug failed while planning: KeyError: 'nope' (planbug.py, line 12)" in (
        done.stderr
    )
    assert "nothing was sent" in done.stderr
    debug = bulkops(
        "run",
        _job(tmp_path, "planbug.py", PLAN_BUG),
        "--dry-run",
        env={**env, "BULKOPS_DEBUG": "1"},
    )
    assert "Traceback" in debug.stderr and debug.returncode == 2


def test_a_repeated_operation_key_is_a_job_error(env: dict, tmp_path: Path) -> None:
    done = bulkops("run", _job(tmp_path, "dupkey.py", DUP_KEY), "--dry-run", env=env)
    assert done.returncode == 2, done.stderr
    assert "job dup-key: operation key 'samekey' is planned twice" in done.stderr
    assert "journal is broken" not in done.stderr


def test_a_usage_error_leaves_no_journal_and_no_run_id(env: dict, tmp_path: Path) -> None:
    done = bulkops(
        "run", "overrides", "--kind", "gates", "--where", "name=jerr_gate_one",
        "--add-passing", "alice,alice", "--dry-run", env=env,
    )  # fmt: skip
    assert done.returncode == 2 and "given twice" in done.stderr
    assert "run id" not in done.stderr
    assert _journals(tmp_path) == []


@pytest.mark.parametrize("value", ["0", "-3", "100000", "many"])
def test_concurrency_out_of_range_is_refused(env: dict, value: str) -> None:
    done = bulkops(
        "run", "patch", "--kind", "gates", "--set", "description=c", "--dry-run",
        "--concurrency", value, env=env,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--concurrency" in done.stderr


def test_a_state_dir_that_is_a_file_is_refused(env: dict, tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    done = bulkops(
        "run", "patch", "--kind", "gates", "--set", "description=y", "--dry-run",
        "--state-dir", str(afile), env=env,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"cannot use state dir {afile}: not a directory" in done.stderr
    assert "Traceback" not in done.stderr
    unmakeable = bulkops(
        "run", "patch", "--kind", "gates", "--set", "description=y", "--dry-run",
        "--state-dir", str(afile / "below"), env=env,
    )  # fmt: skip
    assert unmakeable.returncode == 2 and "cannot use state dir" in unmakeable.stderr


def test_a_rejected_target_key_names_the_target_option(env: dict, tmp_path: Path) -> None:
    done = bulkops(
        "run", _job(tmp_path, "target.py", TARGET_READER), "--dry-run",
        "--target-api-key", "console-TGTSECRET555", env=env,
    )  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert "target project's key: --target-api-key or STATSIG_TARGET_CONSOLE_API_KEY" in (
        done.stderr
    )
    assert "STATSIG_CONSOLE_API_KEY or --api-key" not in done.stderr
    assert done.stderr.count("check") == 1
    assert "TGTSECRET555" not in done.stderr


def test_json_log_format_errors_are_json_too(env: dict) -> None:
    done = bulkops(
        "run", "patch", "--kind", "gates", "--set", "bogus=1", "--dry-run",
        "--log-format", "json", env=env,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines and all(json.loads(line)["event"] == "error" for line in lines)
    bad_flag = bulkops("run", "patch", "--log-format", "json", "--nope", env=env)
    assert bad_flag.returncode == 2
    assert json.loads(bad_flag.stderr.splitlines()[-1])["event"] == "error"
