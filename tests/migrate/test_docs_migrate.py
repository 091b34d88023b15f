"""The rehearsal of docs/migrate.md runs as written: every line, in order, on local emulators.

``bulkops emulator ... &`` lines start an in-process emulator with the same projects and seed
(and the port they name is mapped to its real one; mutations unmetered, for speed); ``export`` lines set the environment; the
other lines run as subprocesses in a working directory and must exit 0.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from clihelp import REPO

from bulkops.testing import EmulatorConfig, RunningEmulator, start_emulator

pytestmark = pytest.mark.timeout(120)
DOC = REPO / "docs" / "migrate.md"
_FAST = ((1_000_000, 1.0),)


def rehearsal() -> list[str]:
    """The lines of the ``sh`` block under "## Rehearsal on the emulator"."""
    text = DOC.read_text(encoding="utf-8").split("## Rehearsal on the emulator", 1)[1]
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def _emulator(words: list[str], workdir: Path) -> tuple[str, EmulatorConfig]:
    port = words[words.index("--port") + 1]
    projects = dict(words[i + 1].split("=", 1) for i, w in enumerate(words) if w == "--project")
    seed = words[words.index("--seed") + 1]
    # Unmetered (the doc's emulator has the real windows: the same run, 20 s slower).
    config = EmulatorConfig(projects=projects, seed=str(workdir / seed), mutation_limits=_FAST)
    return port, config


def _run(words: list[str], env: dict[str, str], workdir: Path, line: str) -> None:
    """Run one line (``> FILE`` sends its output to FILE in ``workdir``); it must exit 0."""
    into = words[words.index(">") + 1] if ">" in words else None
    words = words[: words.index(">")] if into else words
    argv = [sys.executable, *words[1:]] if words[0] == "python" else [sys.executable, "-m", *words]
    with contextlib.ExitStack() as files:
        out = files.enter_context(open(workdir / into, "wb")) if into else subprocess.PIPE
        done = subprocess.run(
            argv, env=env, cwd=workdir, stdout=out, stderr=subprocess.PIPE, timeout=60, check=False
        )
    assert done.returncode == 0, (line, done.stderr)


def test_the_rehearsal_runs_as_written(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "BULKOPS_STATE_DIR": str(tmp_path / "state")}
    env["BULKOPS_MUTATION_LIMITS"] = "1000000/1s"
    ports: dict[str, RunningEmulator] = {}
    with contextlib.ExitStack() as stack:
        for line in rehearsal():
            words = shlex.split(line.removesuffix("&"))
            if words[:2] == ["bulkops", "emulator"]:
                port, config = _emulator(words, tmp_path)
                ports[port] = stack.enter_context(start_emulator(config))
            elif words[0] == "export":
                for name, value in (w.split("=", 1) for w in words[1:]):
                    url = re.match(r"http://127\.0\.0\.1:(\d+)/console/v1", value)
                    env[name] = ports[url.group(1)].base_url if url else value
            else:
                _run(words, env, tmp_path, line)
        source, copy = ports["8788"].dump()["projects"], ports["8789"].dump()["projects"]
    assert copy["default"]["entities"] == source["default"]["entities"]
    assert copy["default"]["id_lists"] == source["default"]["id_lists"]
    assert not any(source["prod"]["entities"].values())  # reverted
