"""Fuzz: a server answering garbage never draws a traceback, nor the blame for the job's code.

The emulator (a sample project) sits behind ``ManglingProxy``, which cuts JSON bodies short,
answers empty bodies or HTML with a 200, retypes a field (``data`` a string, an item's ``id``
a number, ``rules`` an object, ``pagination.totalItems`` negative, ...) or drops one. Under
seeded manglings: a dry run of every built-in job, ``export`` (every kind listed), and real
runs of ``patch`` whose reads or mutations are mangled, and of ``migrate`` and
``copy-experiments`` whose writes into an empty target are mangled (then resumed on a calm
server: they must converge, nothing created twice). Each case must end as
``clifuzz.problem`` requires (no traceback, exit 0-4, a one-line message last) and a server's
garbage must never be reported as the job's own bug (``JobCodeError``: "job ... failed while").
"""

from __future__ import annotations

import logging
import os
import random
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clifuzz import Ended, Verdicts, invoke
from mangling_proxy import KINDS, ManglingProxy, mangler

from bulkops.run import builtin_job_names
from bulkops.sample_project import sample_project
from bulkops.testing import EmulatorConfig, start_emulator

pytestmark = pytest.mark.timeout(120)

SOURCE_KEY, TARGET_KEY = "console-src", "console-dst"
SEED = os.environ.get("BULKOPS_FUZZ_SEED", "")
BASE: dict[str, list[str]] = {
    "attach-holdout": ["--holdout", "demo_holdout", "--kind", "gates", "--kind", "experiments"],
    "overrides": ["--kind", "gates", "--add-passing", "u1"],
    "archive-stale-gates": ["--older-than", "1d"],
    "patch": ["--kind", "gates", "--set", "description=fuzzed"],
    "copy-experiments": ["--to", "target"],
    "migrate": ["--to", "target", "--on-conflict", "update"],
}
#: Paths whose answers a case mangles ("" every one).
TARGETS = ("", "/project", "/gates", "/experiments", "/holdouts", "/segments", "/overrides", "?")
CASES_PER_JOB = 14
WRITES = ("POST", "PUT", "PATCH")
JOB_CODE_ERROR = re.compile(r"job \S+ failed while")


def seeded(name: str) -> random.Random:
    return random.Random(zlib.crc32(f"{SEED}{name}".encode()))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ManglingProxy, Any]]:
    """The emulator (sample project in ``default``, an empty ``target``) behind the proxy."""
    config = EmulatorConfig(
        projects={"default": SOURCE_KEY, "target": TARGET_KEY},
        page_cap=7,  # several pages per list: the pagination fields are read too
        mutation_limits=((1_000_000, 1.0),),
        seed=sample_project(20),
    )
    cwd = tmp_path_factory.mktemp("fuzz-responses")
    server_log = logging.getLogger("aiohttp.server")
    with (
        start_emulator(config) as emulator,
        ManglingProxy(emulator.base_url.removesuffix("/console/v1")).running() as running,
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setattr(server_log, "level", logging.CRITICAL)
        mp.chdir(cwd)
        for name in list(os.environ):
            if name.startswith(("STATSIG_", "BULKOPS_")):
                mp.delenv(name)
        for prefix, key in (("STATSIG", SOURCE_KEY), ("STATSIG_TARGET", TARGET_KEY)):
            mp.setenv(f"{prefix}_CONSOLE_API_URL", running.base_url)
            mp.setenv(f"{prefix}_CONSOLE_API_KEY", key)
        mp.setenv("BULKOPS_MUTATION_LIMITS", "1000000/1s")
        mp.setenv("BULKOPS_STATE_DIR", str(cwd / "state"))
        yield running, emulator


@pytest.fixture
def proxy(served: tuple[ManglingProxy, Any]) -> ManglingProxy:
    return served[0]


def judged(verdicts: Verdicts, ended: Ended) -> None:
    """``verdicts.judge``, and the server's garbage is not blamed on the job's code."""
    verdicts.judge(ended)
    if JOB_CODE_ERROR.search(ended.stderr):
        verdicts.problems.append("the job's code blamed for the server: " + ended.describe())


def test_the_proxy_passes_answers_on_untouched(proxy: ManglingProxy) -> None:
    proxy.mangle = lambda *_: None
    for job in builtin_job_names():
        ended = invoke("run", job, "--dry-run", *BASE[job])
        assert ended.code == 0, ended.describe()


@pytest.mark.parametrize("job", builtin_job_names())
def test_dry_runs_survive_a_server_answering_garbage(proxy: ManglingProxy, job: str) -> None:
    verdicts = Verdicts()
    rng = seeded(job)
    for case in range(CASES_PER_JOB):
        kind = KINDS[case % len(KINDS)]
        proxy.mangle = mangler(kind, f"{job}-{case}", only=rng.choice(TARGETS))
        judged(verdicts, invoke("run", job, "--dry-run", *BASE[job]))
    verdicts.check()


def test_export_survives_a_server_answering_garbage(proxy: ManglingProxy, tmp_path: Path) -> None:
    verdicts = Verdicts()
    rng = seeded("export")
    for case in range(14):
        kind = KINDS[case % len(KINDS)]
        proxy.mangle = mangler(kind, f"export-{case}", only=rng.choice(TARGETS))
        judged(verdicts, invoke("export", "--out", str(tmp_path / "snapshot.json")))
    verdicts.check()


def test_real_runs_survive_garbage_answers_to_reads_and_mutations(proxy: ManglingProxy) -> None:
    verdicts = Verdicts()
    rng = seeded("real-run")
    for case in range(14):
        kind = KINDS[case % len(KINDS)]
        methods = ("PATCH",) if case % 2 else ("GET", "PATCH")
        proxy.mangle = mangler(kind, f"run-{case}", only=rng.choice(TARGETS), methods=methods)
        argv = ("run", "patch", "--kind", "gates", "--set", f"description=case {case}", "--yes")
        judged(verdicts, invoke(*argv))
    verdicts.check()


@pytest.mark.parametrize("job", ["migrate", "copy-experiments"])
def test_copies_survive_garbage_answers_to_their_writes_and_then_converge(
    served: tuple[ManglingProxy, Any], job: str
) -> None:
    """Creates (POST), rule and ID-list writes (PUT, PATCH) into an empty target answered with
    garbage: no traceback, a defined exit; then, on a calm server, the run resumes to the end
    (a migration to a target that verifies), every entity created once (an applied write is
    never applied twice)."""
    proxy, emulator = served
    snapshot = emulator.dump()
    empty = {**snapshot, "projects": {"target": _emptied(snapshot["projects"]["target"])}}
    verdicts, mangled = Verdicts(), 0
    rng = seeded(f"{job}-writes")
    for case in range(len(KINDS)):
        emulator.load(empty)
        emulator.reset_counters()
        only = rng.choice(("", "/segments", "/gates", "/experiments", "/tags", "/layers"))
        proxy.mangle = mangler(KINDS[case], f"mw-{case}", only=only, methods=WRITES)
        proxy.mangled, run = 0, f"{job}-w{case}"
        judged(verdicts, invoke("run", job, *BASE[job], "--yes", "--run-id", run))
        mangled += proxy.mangled
        proxy.mangle = lambda *_: None
        resumed = invoke("resume", run, "--yes")
        said = resumed.describe()
        if resumed.code != 0 or (job == "migrate" and invoke("verify", run).code != 0):
            verdicts.problems.append(f"{KINDS[case]} on {only!r}: did not converge: {said}")
        created = Counter(
            (m["path"], (m["body"] or {}).get("name"))
            for m in emulator.mutation_log("target")
            if m["method"] == "POST" and m["path"].count("/") == 3 and m["status"] < 300
        )
        if not created or max(created.values()) > 1:
            verdicts.problems.append(f"{KINDS[case]} on {only!r}: created twice: {created}")
    verdicts.check()
    assert mangled >= len(KINDS)  # every case had writes answered with garbage


def _emptied(project: dict[str, Any]) -> dict[str, Any]:
    """A project's snapshot with every table in it empty."""
    return {
        name: {table: type(rows)() for table, rows in part.items()} if name != "id_lists" else {}
        for name, part in project.items()
    }
