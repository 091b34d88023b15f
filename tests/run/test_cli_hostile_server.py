"""A hostile server never holds a run forever, and never costs it its journal.

``bulkops`` runs as a subprocess against the emulator behind a :class:`HostileProxy` on a
free loopback port, which bends what the emulator cannot: a ``nextPage`` that loops, pages
that repeat, a ``Retry-After`` of a day (seconds, an HTTP-date, ``1e309``). Each case checks
the exit code, the one ``bulkops:`` line, and that once the server behaves again the run
completes (``bulkops resume RUN --yes``, or a new run when nothing was planned) with every
operation applied exactly once, counted by the emulator.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from time import time
from typing import Any

import pytest
from clihelp import JOBFILE, api, bulkops, cli_env, fast_config, seed_holdout
from hostile_proxy import HostileProxy, start_hostile_proxy

from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = pytest.mark.timeout(120)

GATES = [f"hh_gate_{i}" for i in range(5)]  # 3 pages of 2 (the emulator's page cap)
PATCH = ("patch", "--kind", "gates", "--where", "name~hh_gate_*", "--set", "description=new")


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return fast_config(page_cap=2)


@pytest.fixture
def proxy(emulator: RunningEmulator) -> Iterator[HostileProxy]:
    for name in GATES:
        api(emulator, "POST", "/gates", {"name": name, "description": "old"})
    emulator.reset_counters()
    with start_hostile_proxy(emulator) as running:
        yield running


@pytest.fixture
def env(emulator: RunningEmulator, proxy: HostileProxy, tmp_path: Path) -> dict[str, str]:
    return cli_env(emulator, tmp_path / "state", STATSIG_CONSOLE_API_URL=proxy.base_url)


def error_line(stderr: str) -> str:
    """The one ``bulkops: ...`` line of a failed command (and no traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("bulkops: ")]
    assert len(lines) == 1, stderr
    return lines[0]


def statuses(state: Path, run_id: str) -> Counter[str]:
    conn = sqlite3.connect(state / f"{run_id}.journal")
    try:
        return Counter(
            dict(conn.execute("SELECT status, COUNT(*) FROM operations GROUP BY status"))
        )
    finally:
        conn.close()


def sent_once(emulator: RunningEmulator, paths: list[str]) -> None:
    """Every path got exactly one applied mutation, and nothing else was applied."""
    applied = Counter(m["path"].removeprefix("/console/v1") for m in emulator.mutation_log())
    assert applied == Counter(paths), applied


def patched_gates(emulator: RunningEmulator) -> None:
    sent_once(emulator, [f"/gates/{name}" for name in GATES])
    for name in GATES:
        assert api(emulator, "GET", f"/gates/{name}")["data"]["description"] == "new"


def resumed(run_id: str, env: dict[str, str], state: Path) -> None:
    """``bulkops resume RUN --yes`` completes the run: every operation DONE."""
    done = bulkops("resume", run_id, "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert set(statuses(state, run_id)) == {"DONE"}


# -- pagination: a nextPage that loops ends the listing, naming the endpoint ----------------


def _back_to_the_first(proxy: HostileProxy) -> None:
    proxy.loop_pages("/gates", lambda page: 1 if page == 2 else page + 1)


def _the_same_page(proxy: HostileProxy) -> None:
    proxy.loop_pages("/gates", lambda page: page)


def _forward_then_back(proxy: HostileProxy) -> None:
    proxy.loop_pages("/gates", lambda page: {1: 3, 3: 2}.get(page, page + 1))


def _same_items_without_total(proxy: HostileProxy) -> None:
    proxy.repeat_first_page("/gates")


def _same_items_with_a_negative_total(proxy: HostileProxy) -> None:
    proxy.repeat_first_page("/gates", total=-5)


LOOPS = {
    "back to page 1": (_back_to_the_first, "page 2 of the list names page 1 as the next one"),
    "the same page": (_the_same_page, "page 1 of the list names page 1 as the next one"),
    "forward, then back": (_forward_then_back, "page 1 of the list names page 3 "),
    "same items, no total": (_same_items_without_total, "page 2 of the list holds the same"),
    "same items, total -5": (_same_items_with_a_negative_total, "holds the same 2 item"),
}


@pytest.mark.parametrize("case", LOOPS)
def test_a_looping_list_stops_the_run_naming_the_endpoint_and_a_new_run_completes(
    emulator: RunningEmulator, proxy: HostileProxy, env: dict[str, str], tmp_path: Path, case: str
) -> None:
    bend, expected = LOOPS[case]
    bend(proxy)
    failed = bulkops("run", *PATCH, "--yes", "--run-id", "loop", env=env, timeout=60)
    assert failed.returncode == 4, failed.stderr
    line = error_line(failed.stderr)
    assert line.startswith("bulkops: the API failed while listing or planning: GET /gates: ")
    assert expected in line and "retry later" in line
    assert proxy.requests["GET /console/v1/gates"] < 20
    assert emulator.mutation_log() == []
    assert not (tmp_path / "state" / "loop.journal").exists()  # nothing planned: no run kept
    proxy.calm()
    again = bulkops("run", *PATCH, "--yes", "--run-id", "loop", env=env)
    assert again.returncode == 0, again.stderr
    patched_gates(emulator)


def test_a_loop_met_while_a_resume_lists_again_keeps_the_journal_for_the_next_resume(
    emulator: RunningEmulator, proxy: HostileProxy, env: dict[str, str], tmp_path: Path
) -> None:
    proxy.answer("GET", "/gates", 429, retry_after="86400", count=1)
    first = bulkops("run", *PATCH, "--yes", "--run-id", "rl", env=env)
    assert first.returncode == 3, first.stderr  # interrupted while listing: kept, to resume
    proxy.loop_pages("/gates", lambda page: 1 if page == 2 else page + 1)
    looped = bulkops("resume", "rl", "--yes", env=env)
    assert looped.returncode == 4, looped.stderr
    said = error_line(looped.stderr)
    assert "GET /gates: page 2 of the list names page 1" in said
    assert said.endswith("(the run is kept: `bulkops resume rl` once that is fixed)"), said
    assert emulator.mutation_log() == []
    proxy.calm()
    resumed("rl", env, tmp_path / "state")
    patched_gates(emulator)


def test_a_next_page_on_another_host_is_read_here_and_the_other_host_gets_nothing(
    emulator: RunningEmulator, proxy: HostileProxy, env: dict[str, str]
) -> None:
    with start_hostile_proxy(emulator) as elsewhere:
        link = elsewhere.base_url + "/gates?page={}&limit=2"
        proxy.loop_pages("/gates", lambda page: link.format(page + 1) if page < 3 else None)
        done = bulkops("run", *PATCH, "--yes", env=env)
        assert done.returncode == 0, done.stderr
        assert elsewhere.requests == Counter()
    patched_gates(emulator)


# -- Retry-After past the cap: exit 3, the reason, and a resume hint ------------------------

A_DAY = "86400"


def in_two_days() -> str:
    return formatdate(time() + 2 * 86400, usegmt=True)


def interrupted(done: Any, run_id: str, *reason: str) -> None:
    """Exit 3, one line giving the reason, and the hint to resume."""
    assert done.returncode == 3, done.stderr
    line = error_line(done.stderr)
    for part in reason:
        assert part in line, line
    assert "longer than the 900 s (15 min) bulkops waits at most" in line
    assert f"resume with `bulkops resume {run_id}`" in done.stderr


@pytest.mark.parametrize(
    ("status", "retry_after", "reason"),
    [
        (429, A_DAY, "rate limited (429): the server asked to wait 86400 s (24 h)"),
        (503, A_DAY, "server unavailable (503): the server asked to wait 86400 s (24 h)"),
        (429, "in two days", "rate limited (429): the server asked to wait 17"),
    ],
)
def test_a_day_long_wait_while_listing_interrupts_the_run_and_resume_completes_it(
    emulator: RunningEmulator,
    proxy: HostileProxy,
    env: dict[str, str],
    tmp_path: Path,
    status: int,
    retry_after: str,
    reason: str,
) -> None:
    value = in_two_days() if retry_after == "in two days" else retry_after
    proxy.answer("GET", "/gates", status, retry_after=value, count=1)
    done = bulkops("run", *PATCH, "--yes", "--run-id", "lw", env=env)
    interrupted(done, "lw", "interrupted while listing or planning: GET /gates: ", reason)
    assert emulator.mutation_log() == []
    status_now = json.loads(bulkops("status", "lw", "--json", env=env).stdout)
    assert status_now["next"] == "bulkops resume lw"
    resumed("lw", env, tmp_path / "state")
    patched_gates(emulator)


def test_a_day_long_wait_on_a_planning_read_interrupts_the_run_and_resume_completes_it(
    emulator: RunningEmulator, proxy: HostileProxy, env: dict[str, str], tmp_path: Path
) -> None:
    seed_holdout(emulator)
    emulator.reset_counters()
    proxy.answer("GET", "/holdouts/bulk_holdout", 429, retry_after=in_two_days(), count=1)
    done = bulkops("run", JOBFILE, "--count", "2", "--yes", "--run-id", "pw", env=env)
    interrupted(done, "pw", "GET /holdouts/bulk_holdout: rate limited (429)")
    assert emulator.mutation_log() == []
    resumed("pw", env, tmp_path / "state")
    gates = ["bulk_gate_0000", "bulk_gate_0001"]
    sent_once(
        emulator,
        ["/gates", "/gates", *(f"/gates/{g}/rules" for g in gates), *(f"/gates/{g}" for g in gates),
         "/holdouts/bulk_holdout"],
    )  # fmt: skip


@pytest.mark.parametrize("status", [429, 503])
def test_a_day_long_wait_on_a_mutation_interrupts_the_run_and_each_operation_is_sent_once(
    emulator: RunningEmulator, proxy: HostileProxy, env: dict[str, str], tmp_path: Path, status: int
) -> None:
    proxy.answer("PATCH", "/gates/hh_gate_2", status, retry_after=A_DAY, count=1)
    done = bulkops("run", *PATCH, "--yes", "--run-id", "sw", "--concurrency", "1", env=env)
    interrupted(done, "sw", "PATCH /gates/hh_gate_2: ", "asked to wait 86400 s (24 h)")
    journal = statuses(tmp_path / "state", "sw")
    assert journal == Counter(DONE=2, PLANNED=3), journal  # hh_gate_2 as it was: PLANNED
    assert len(emulator.mutation_log()) == 2
    resumed("sw", env, tmp_path / "state")
    patched_gates(emulator)


@pytest.mark.parametrize("status", [429, 503])
def test_a_day_long_wait_on_a_read_while_sending_interrupts_the_resume_likewise(
    emulator: RunningEmulator, proxy: HostileProxy, env: dict[str, str], tmp_path: Path, status: int
) -> None:
    proxy.answer("PATCH", "/gates/hh_gate_1", 429, retry_after=A_DAY, count=1)
    first = bulkops("run", *PATCH, "--yes", "--run-id", "rw", "--concurrency", "1", env=env)
    assert first.returncode == 3, first.stderr
    # A resume reads each PLANNED operation's state before sending it: that read is refused.
    proxy.answer("GET", "/gates/hh_gate_3", status, retry_after=in_two_days(), count=1)
    again = bulkops("resume", "rw", "--yes", "--concurrency", "1", env=env)
    interrupted(again, "rw", "GET /gates/hh_gate_3: ", "(48 h)")
    assert statuses(tmp_path / "state", "rw") == Counter(DONE=3, PLANNED=2)
    resumed("rw", env, tmp_path / "state")
    patched_gates(emulator)


@pytest.mark.parametrize("value", ["1e309", "inf", "nan", "-5", "0", "soon"])
def test_a_retry_after_giving_no_usable_wait_is_our_own_short_backoff(
    emulator: RunningEmulator, proxy: HostileProxy, env: dict[str, str], tmp_path: Path, value: str
) -> None:
    proxy.answer("PATCH", "/gates/", 429, retry_after=value, count=1)
    proxy.answer("GET", "/gates", 429, retry_after=value, count=1)
    done = bulkops("run", *PATCH, "--yes", "--run-id", "nw", env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert set(statuses(tmp_path / "state", "nw")) == {"DONE"}
    patched_gates(emulator)
