"""Every file the CLI reads for the user, when it is not UTF-8 text or is a directory: one line
naming the file, that it is not text, and what is expected; exit 2, nothing sent, no run left."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from clihelp import REPO, bulkops, cli_env, fast_config

from bulkops.testing import EmulatorConfig, RunningEmulator

LATIN1 = "alice\nbéb\n".encode("latin-1")  # b"\xe9" on line 2

# What each command reads, given the path of the file to read.
READERS: dict[str, Callable[[str], list[str]]] = {
    "@ids": lambda f: ["run", "overrides", "--kind", "gates", "--add-passing", f"@{f}"],
    "--merge": lambda f: ["run", "patch", "--kind", "gates", "--merge", f],
    "--projects-file": lambda f: [
        "run", "patch", "--kind", "gates", "--set", "description=x", "--projects-file", f,
    ],
    "--from-snapshot": lambda f: ["run", "migrate", "--to", "prod", "--from-snapshot", f],
    "job file": lambda f: ["run", f],
}  # fmt: skip
NAMED = {
    "@ids": "--add-passing file",
    "--merge": "--merge file",
    "--projects-file": "projects file",
    "--from-snapshot": "--from-snapshot: snapshot",
    "job file": "job file",
}


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    gates = [{"id": "uf_gate", "name": "uf_gate", "description": "d"}]
    seed = {"format": "bulkops-snapshot/1", "projects": {"default": {"entities": {"gates": gates}}}}
    return fast_config(seed=seed)


@pytest.fixture
def env(emulator: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    return cli_env(emulator, tmp_path / "state", STATSIG_PROD_CONSOLE_API_KEY=emulator.api_key())


def _nothing_happened(emulator: RunningEmulator, tmp_path: Path) -> None:
    assert emulator.mutation_log() == []
    state = tmp_path / "state"
    assert not state.exists() or list(state.glob("*.journal")) == []


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_file_that_is_not_utf8_says_so_in_one_line(
    emulator: RunningEmulator, env: dict[str, str], tmp_path: Path, reader: str
) -> None:
    path = tmp_path / "input.py"
    path.write_bytes(LATIN1)
    done = bulkops(*READERS[reader](str(path)), "--yes", env=env)
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(
        f"bulkops: {NAMED[reader]} {path} is not UTF-8 text (byte 0xe9 on line 2)"
    )
    assert ": expected " in line
    _nothing_happened(emulator, tmp_path)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_directory_says_so_in_one_line(
    emulator: RunningEmulator, env: dict[str, str], tmp_path: Path, reader: str
) -> None:
    folder = tmp_path / "folder.py"
    folder.mkdir()
    done = bulkops(*READERS[reader](str(folder)), "--yes", env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().startswith(f"bulkops: {NAMED[reader]} {folder} is a directory: ")
    _nothing_happened(emulator, tmp_path)


def test_an_emulator_seed_that_is_not_text_is_refused(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_bytes(LATIN1)
    done = subprocess.run(
        [sys.executable, "-m", "bulkops", "emulator", "--port", "0", "--seed", str(seed)],
        capture_output=True, text=True, timeout=30, cwd=REPO, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().startswith(f"bulkops emulator: snapshot {seed} is not UTF-8 text")
