"""Fuzz: hostile values for every option of every command never draw a traceback.

Each built-in job's options (its own and the common ones: connection, limits, state dir, run
id, projects) and the options and arguments of ``status``, ``report``, ``list``, ``prune``,
``resume``, ``revert``, ``export``, ``verify``, ``emulator`` and ``demo`` get values drawn from
a seeded generator (``clifuzz``: garbage, empty, 100k characters, odd unicode, huge and
negative numbers, bad paths). Runs are ``--dry-run`` against an in-process emulator; every case
must end as ``clifuzz.check_ended_cleanly`` says: no traceback, exit 0-4 (5 is a bug), and a
failure said in one last line on stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from clifuzz import Verdicts, huge, invoke, value
from clihelp import seed_holdout

from bulkops.cli import build_parser, options
from bulkops.run import builtin_job_names, load_job_class
from bulkops.testing import EmulatorConfig, RunningEmulator, start_emulator

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # about 30 s in all

SOURCE_KEY, TARGET_KEY = "console-src", "console-dst"
#: Options each job needs to get past its own checks, so the fuzzed option is what is judged.
BASE: dict[str, list[str]] = {
    "attach-holdout": ["--holdout", "bulk_holdout"],
    "overrides": ["--kind", "gates", "--add-passing", "u1"],
    "archive-stale-gates": [],
    "patch": ["--kind", "gates", "--set", "description=x"],
    "copy-experiments": ["--to", "target"],
    "migrate": ["--to", "target"],
}
#: Values per option; every option also gets "", a huge value and a unicode one.
PER_OPTION = 3
SEED = os.environ.get("BULKOPS_FUZZ_SEED", "")
COMMANDS = ("status", "report", "list", "prune", "resume", "revert", "export", "verify")


def seeded(name: str) -> random.Random:
    """A generator seeded by ``name``: the same values on every run of the test
    (``BULKOPS_FUZZ_SEED=N`` draws others, to explore)."""
    return random.Random(zlib.crc32(f"{SEED}{name}".encode()))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """One emulator (projects default and target) for the module, in a temp cwd and env."""
    config = EmulatorConfig(
        projects={"default": SOURCE_KEY, "target": TARGET_KEY},
        page_cap=100,
        mutation_limits=((1_000_000, 1.0),),
    )
    cwd = tmp_path_factory.mktemp("fuzz-cwd")
    server_log = logging.getLogger("aiohttp.server")  # the emulator's own (400 on huge headers)
    level = server_log.level
    with start_emulator(config) as emulator, pytest.MonkeyPatch.context() as mp:
        server_log.setLevel(logging.CRITICAL)
        seed_holdout(emulator)
        mp.chdir(cwd)
        for name in list(os.environ):
            if name.startswith(("STATSIG_", "BULKOPS_")):
                mp.delenv(name)
        mp.setenv("STATSIG_CONSOLE_API_URL", emulator.base_url)
        mp.setenv("STATSIG_CONSOLE_API_KEY", SOURCE_KEY)
        mp.setenv("STATSIG_TARGET_CONSOLE_API_URL", emulator.base_url)
        mp.setenv("STATSIG_TARGET_CONSOLE_API_KEY", TARGET_KEY)
        mp.setenv("BULKOPS_MUTATION_LIMITS", "1000000/1s")
        mp.setenv("BULKOPS_STATE_DIR", str(cwd / "state"))
        done = invoke("run", "patch", "--kind", "gates", "--set", "description=x", "--yes")
        assert done.code == 0, done.describe()
        yield emulator
        server_log.setLevel(level)


def job_options(job: str) -> list[argparse.Action]:
    """Every option of ``bulkops run JOB`` that takes a value."""
    parser = argparse.ArgumentParser(add_help=False)
    job_cls = load_job_class(job)
    options.add_connection_options(parser, ("source", *job_cls.projects))
    options.add_execution_options(parser)
    options.add_state_dir_option(parser)
    parser.add_argument("--run-id")
    parser.add_argument("--project", action="append")
    job_cls.add_arguments(parser)
    return [a for a in parser._actions if a.option_strings and a.nargs != 0]


def command_parser(command: str) -> argparse.ArgumentParser:
    subparsers = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    return subparsers.choices[command]


def values_for(action: argparse.Action, rng: random.Random) -> list[str]:
    """ "", a huge value, a unicode one and ``PER_OPTION`` drawn ones (a few for URL options:
    a blank URL means the public API, which a test must not reach)."""
    drawn = ["", huge(rng), rng.choice(("ünïcødé", "名前=値", "line\nbreak", "\x1b[31m"))]
    drawn += [value(rng) for _ in range(PER_OPTION)]
    if action.dest.endswith("base_url"):
        drawn = [v for v in drawn if v.strip()]
    return drawn


def drawn(action: argparse.Action, rng: random.Random) -> str:
    """One drawn value for ``action`` (never a blank URL)."""
    text = value(rng)
    while action.dest.endswith("base_url") and not text.strip():
        text = value(rng)
    return text


@pytest.mark.parametrize("job", builtin_job_names())
def test_every_job_option_survives_hostile_values(served: RunningEmulator, job: str) -> None:
    verdicts = Verdicts()
    rng = seeded(job)
    for action in job_options(job):
        for text in values_for(action, rng):
            flag = action.option_strings[-1] if len(text) % 2 else action.option_strings[0]
            verdicts.judge(invoke("run", job, "--dry-run", *BASE[job], flag, text))
            if rng.random() < 0.3:  # the same through the JSON log, and as --flag=value
                ended = invoke("run", job, "--dry-run", "--log-format", "json", *BASE[job],
                               f"{flag}={text}")  # fmt: skip
                verdicts.judge(ended)
    verdicts.check()


@pytest.mark.parametrize("job", builtin_job_names())
def test_jobs_survive_several_hostile_options_at_once(served: RunningEmulator, job: str) -> None:
    verdicts = Verdicts()
    rng = seeded(f"{job}-combined")
    actions = job_options(job)
    for _ in range(15):
        picked = rng.sample(actions, k=min(len(actions), rng.randint(2, 4)))
        argv = [arg for action in picked for arg in (action.option_strings[0], drawn(action, rng))]
        verdicts.judge(invoke("run", job, "--dry-run", *BASE[job], *argv))
    verdicts.check()


def test_the_job_argument_itself_survives_hostile_values(
    served: RunningEmulator, tmp_path: Path
) -> None:
    verdicts = Verdicts()
    (tmp_path / "syntax.py").write_text("def (:\n")
    (tmp_path / "nojob.py").write_text("X = 1\n")
    (tmp_path / "binary.py").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "dir.py").mkdir()
    rng = seeded("job-argument")
    specs = [str(tmp_path / n) for n in ("syntax.py", "nojob.py", "binary.py", "dir.py")]
    specs += ["x.py", "/dev/null/x.py", "-", "--", "run", huge(rng)]
    specs += [value(rng) for _ in range(12)]
    for spec in specs:
        verdicts.judge(invoke("run", spec, "--dry-run"))
    verdicts.check()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_option_survives_hostile_values(
    served: RunningEmulator, command: str, tmp_path: Path
) -> None:
    verdicts = Verdicts()
    parser = command_parser(command)
    rng = seeded(command)
    dry = ("--dry-run",) if command in ("prune", "revert") else ()
    for action in parser._actions:
        if action.nargs == 0 or isinstance(action, argparse._HelpAction):
            continue
        for text in values_for(action, rng):
            if action.option_strings:
                argv = [action.option_strings[0], text]
            else:  # a positional: RUN_ID
                argv = [text]
            if command == "export" and "--out" not in argv:
                argv += ["--out", str(tmp_path / "snapshot.json")]
            verdicts.judge(invoke(command, *dry, *argv))
    verdicts.check()


def test_emulator_flags_survive_hostile_values(
    served: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``bulkops emulator`` starts (and here stops at once) or refuses in one line."""
    import bulkops.cli.emulator as emulator_cli

    verdicts = Verdicts()

    class StopAtOnce:
        def wait(self, timeout: float | None = None) -> bool:
            return True

        def set(self) -> None:
            pass

    fakes = argparse.Namespace(Event=StopAtOnce)
    monkeypatch.setattr(emulator_cli, "threading", fakes)
    monkeypatch.setattr(emulator_cli.signal, "signal", lambda *_: None)
    parser = command_parser("emulator")
    rng = seeded("emulator")
    for action in parser._actions:
        if action.nargs == 0 or isinstance(action, argparse._HelpAction):
            continue
        for text in values_for(action, rng):
            port = [] if action.dest == "port" else ["--port", "0"]
            host = [] if action.dest == "host" else ["--host", "127.0.0.1"]
            argv = [*port, *host, action.option_strings[0], text]
            verdicts.judge(invoke("emulator", *argv))
    verdicts.check()


def test_demo_flags_refuse_hostile_values_in_one_line(served: RunningEmulator) -> None:
    """Only values the demo refuses before starting (a good one would run the whole demo)."""
    verdicts = Verdicts()
    rng = seeded("demo")
    for flag in ("--gates", "--time-scale"):
        for text in ["", "0", "-1", "nan", "inf", "1e-9", "x", huge(rng), "9" * 20, "1e309j"]:
            ended = verdicts.judge(invoke("demo", flag, text))
            assert ended.code == 2, ended.describe()
            assert ended.code == 2, ended.describe()
    verdicts.check()
