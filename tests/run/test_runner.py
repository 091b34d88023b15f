"""The runner pipeline against an in-memory console: freeze, plan, mutate, resume."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fake_console import FakeConsole
from jobfile import BulkGates

from bulkops.api.errors import (
    OutcomeUnknownError,
    ServerError,
    ServerWaitTooLongError,
    ValidationError,
)
from bulkops.run.job import Check, Item, Job, ListEdit, Operation, ReadContext, Skip, Source
from bulkops.run.journal import Journal
from bulkops.run.runner import Runner


class GateJob(Job):
    """Creates gates g0..gN-1, adds a rule to each, attaches them all to holdout h1."""

    name = "gate-job"

    def sources(self) -> list[Source]:
        return [Source("gates")]

    async def plan(self, items: AsyncIterable[Item], ctx: ReadContext) -> AsyncIterator[Any]:
        existing = {item.id async for item in items}
        ids = [f"g{i}" for i in range(self.options["count"])]
        for gid in ids:
            if gid in existing:
                yield Skip(f"source:gates:{gid}", "exists already")
                continue
            yield Operation(
                f"{gid}:create",
                "POST",
                "/gates",
                body={"id": gid},
                creates=True,
                check=Check(f"/gates/{gid}"),
                undo=Operation(f"{gid}:delete", "DELETE", f"/gates/{gid}"),
            )
            yield Operation(
                f"{gid}:rule",
                "POST",
                f"/gates/{gid}/rules",
                body={"name": "r1"},
                creates=True,
                check=Check(f"/gates/{gid}", contains={"rules": [{"name": "r1"}]}),
                depends_on=(f"{gid}:create",),
            )
        yield Operation(
            "h1:attach",
            "PATCH",
            "/holdouts/h1",
            check=Check("/holdouts/h1"),
            edits=(ListEdit("gateIDs", add=tuple(ids)),),
            depends_on=tuple(f"{g}:create" for g in ids if g not in existing),
        )


def new_runner(tmp_path: Path, console: FakeConsole, count: int = 5, **kw: Any) -> Runner:
    journal = Journal.create(tmp_path / "r1.journal", {"run_id": "r1", "job": "gate-job"})
    return Runner(journal, {"source": console}, job=GateJob({"count": count}), **kw)


def make_console() -> FakeConsole:
    console = FakeConsole()
    console.holdouts["h1"] = {"id": "h1", "gateIDs": ["other"]}
    return console


@pytest.mark.anyio
async def test_run_creates_every_gate_rule_and_attachment(tmp_path: Path) -> None:
    console = make_console()
    runner = new_runner(tmp_path, console)
    summary = await runner.freeze_and_plan()
    assert (summary.operations, summary.to_send) == (11, 11)
    result = await runner.mutate()
    assert result.exit_code == 0
    assert result.counts["DONE"] == 11
    assert sorted(console.gates) == [f"g{i}" for i in range(5)]
    assert all(g["rules"] == [{"name": "r1"}] for g in console.gates.values())
    assert console.holdouts["h1"]["gateIDs"] == ["other", "g0", "g1", "g2", "g3", "g4"]


@pytest.mark.anyio
async def test_existing_items_are_skipped_and_unchanged_edit_is_skipped(tmp_path: Path) -> None:
    console = make_console()
    console.gates["g0"] = {"id": "g0", "rules": []}
    console.holdouts["h1"]["gateIDs"] = ["g0", "g1"]
    runner = new_runner(tmp_path, console, count=2)
    summary = await runner.freeze_and_plan()
    assert summary.skipped == 1
    result = await runner.mutate()
    assert result.counts["DONE"] == 2 and result.counts["SKIPPED"] == 1
    assert ("PATCH", "/holdouts/h1") not in [(m, p) for m, p, _ in console.mutations]


@pytest.mark.anyio
async def test_lost_response_of_a_create_is_reconciled_not_resent(tmp_path: Path) -> None:
    console = make_console()
    console.lose_next = {("POST", "/gates"), ("POST", "/gates/g1/rules")}
    runner = new_runner(tmp_path, console, count=2)
    await runner.freeze_and_plan()
    result = await runner.mutate()
    assert result.exit_code == 0
    posts = [p for m, p, _ in console.mutations if m == "POST"]
    assert posts.count("/gates/g1/rules") == 1
    assert console.gates["g1"]["rules"] == [{"name": "r1"}]


@pytest.mark.anyio
async def test_permanent_failure_fails_dependents_and_run_exits_1(tmp_path: Path) -> None:
    console = make_console()
    console.fail_next[("POST", "/gates")] = ValidationError("bad name", status=400)
    runner = new_runner(tmp_path, console, count=1)
    await runner.freeze_and_plan()
    result = await runner.mutate()
    assert result.exit_code == 1
    rows = {r.op.key: r for b in runner.journal.iter_operations() for r in b}
    assert rows["g0:create"].status == "FAILED_PERM"
    assert rows["g0:rule"].status == "FAILED_PERM"
    assert "dependency g0:create failed" in rows["g0:rule"].message
    assert rows["h1:attach"].status == "FAILED_PERM"


@pytest.mark.anyio
async def test_temporary_failures_are_retried_on_resume(tmp_path: Path) -> None:
    console = make_console()
    runner = new_runner(tmp_path, console, count=1, attempts=1)
    console.fail_next[("PATCH", "/holdouts/h1")] = ServerError("503", status=503)
    await runner.freeze_and_plan()
    assert (await runner.mutate()).counts["FAILED_TEMP"] == 1
    journal = Journal.open(tmp_path / "r1.journal")
    again = await Runner(journal, {"source": console}).mutate()
    assert again.exit_code == 0 and again.counts["DONE"] == 3
    assert [m for m, _, _ in console.mutations] == ["POST", "POST", "PATCH"]
    assert "g0" in console.holdouts["h1"]["gateIDs"]


@pytest.mark.anyio
async def test_auth_error_is_fatal(tmp_path: Path) -> None:
    console = make_console()
    runner = new_runner(tmp_path, console, count=3)
    await runner.freeze_and_plan()
    console.reject_key = True
    result = await runner.mutate()
    assert result.exit_code == 4 and "401" in (result.fatal or "")


@pytest.mark.anyio
async def test_outcome_unknown_without_check_is_left_for_a_human(tmp_path: Path) -> None:
    class NoCheck(Job):
        async def plan(self, items: Any, ctx: Any) -> AsyncIterator[Any]:
            yield Operation("x", "POST", "/gates", body={"id": "x"}, creates=True)

    console = make_console()
    console.fail_next[("POST", "/gates")] = OutcomeUnknownError("reset", status=None)
    journal = Journal.create(tmp_path / "r.journal", {"run_id": "r"})
    runner = Runner(journal, {"source": console}, job=NoCheck({}))
    await runner.freeze_and_plan()
    result = await runner.mutate()
    assert result.counts["FAILED_PERM"] == 1 and console.mutations == []


@pytest.mark.anyio
async def test_dependency_cycle_and_unknown_dependency_fail_without_sending(
    tmp_path: Path,
) -> None:
    class Cyclic(Job):
        async def plan(self, items: Any, ctx: Any) -> AsyncIterator[Any]:
            yield Operation("a", "PATCH", "/gates/g", body={}, depends_on=("b",))
            yield Operation("b", "PATCH", "/gates/g", body={}, depends_on=("a",))
            yield Operation("c", "PATCH", "/gates/g", body={}, depends_on=("nope",))

    console = make_console()
    journal = Journal.create(tmp_path / "r.journal", {"run_id": "r"})
    runner = Runner(journal, {"source": console}, job=Cyclic({}))
    await runner.freeze_and_plan()
    result = await runner.mutate()
    assert result.counts["FAILED_PERM"] == 3 and console.mutations == []
    messages = {r.op.key: r.message for b in journal.iter_operations() for r in b}
    assert "cycle" in messages["a"] and "not in the plan" in messages["c"]


@pytest.mark.anyio
async def test_statistics_count_by_status_and_eta_comes_from_the_budget(tmp_path: Path) -> None:
    console = make_console()
    runner = new_runner(tmp_path, console, count=4)
    summary = await runner.freeze_and_plan()
    assert summary.eta_seconds == pytest.approx(0.9)  # FakeBudget: n / 10 for 9 operations
    assert runner.statistics().remaining == 0  # nothing counted before mutate()
    await runner.mutate()
    stats = runner.statistics()
    assert stats.counts["DONE"] == 9 and stats.remaining == 0 and stats.in_flight == 0
    assert stats.eta_seconds == 0.0


@pytest.mark.anyio
async def test_rate_limits_are_journaled_as_events(tmp_path: Path) -> None:
    from bulkops.api import ConsoleClient
    from bulkops.testing import EmulatorConfig, start_emulator

    config = EmulatorConfig(mutation_limits=((5, 1.0),), time_scale=0.05)
    with start_emulator(config) as emulator:
        async with ConsoleClient(
            api_key=emulator.api_key(), base_url=emulator.base_url, mutation_limits="1000/1s"
        ) as client:
            await client.request("POST", "/holdouts", json={"name": "bulk_holdout"})
            journal = Journal.create(tmp_path / "r.journal", {"run_id": "r"})
            job = BulkGates({"count": 4, "prefix": "g", "holdout": "bulk_holdout"})
            runner = Runner(journal, {"source": client}, job=job, concurrency=8)
            await runner.freeze_and_plan()
            result = await runner.mutate()
    assert result.exit_code == 0, result
    assert runner.statistics().rate_limited > 0
    assert journal.event_counts()["rate_limited"] == runner.statistics().rate_limited


@pytest.mark.anyio
async def test_stop_lets_in_flight_operations_finish_and_resume_completes(tmp_path: Path) -> None:
    console = make_console()
    runner = new_runner(tmp_path, console, count=20, concurrency=4)
    await runner.freeze_and_plan()
    original = console.request

    async def stop_on_fifth_mutation(method: str, path: str, json: Any = None, **kw: Any) -> Any:
        if method != "GET" and len(console.mutations) == 4:
            runner.stop()
        return await original(method, path, json, **kw)

    console.request = stop_on_fifth_mutation  # type: ignore[method-assign]
    result = await runner.mutate()
    assert result.interrupted and result.exit_code == 3
    assert result.counts["IN_FLIGHT"] == 0 and result.counts["PLANNED"] > 0
    assert runner.journal.meta()["phase"] == "interrupted"
    console.request = original  # type: ignore[method-assign]
    again = await Runner(Journal.open(tmp_path / "r1.journal"), {"source": console}).mutate()
    assert again.exit_code == 0 and again.counts["DONE"] == 41
    assert len(console.gates) == 20 and len(console.holdouts["h1"]["gateIDs"]) == 21


class DownAfterCreate(FakeConsole):
    """Once gate g0 exists, reading it draws a 503 asking to wait a day (``down`` times)."""

    down = 1

    async def request(self, method: str, path: str, json: Any = None, *, params: Any = None) -> Any:
        if method == "GET" and path == "/gates/g0" and "g0" in self.gates and self.down:
            self.down -= 1
            raise ServerWaitTooLongError(
                "asked to wait 86400 s", retry_after=86400, max_wait=900, status=503
            )
        return await super().request(method, path, json, params=params)


@pytest.mark.anyio
async def test_a_too_long_wait_while_reconciling_a_lost_create_leaves_it_in_flight(
    tmp_path: Path,
) -> None:
    console = DownAfterCreate()
    console.holdouts["h1"] = {"id": "h1", "gateIDs": []}
    console.lose_next = {("POST", "/gates")}  # applied, its answer lost, then g0 is unreadable
    runner = new_runner(tmp_path, console, count=1)
    await runner.freeze_and_plan()
    assert (await runner.mutate()).exit_code == 3
    rows = {r.op.key: r for b in runner.journal.iter_operations() for r in b}
    assert rows["g0:create"].status == "IN_FLIGHT"  # maybe applied: its state is read on resume
    journal = Journal.open(tmp_path / "r1.journal")
    again = await Runner(journal, {"source": console}, verify_planned=False).mutate()
    assert again.exit_code == 0
    rows = {r.op.key: r for b in journal.iter_operations() for r in b}
    assert rows["g0:create"].status == "DONE"
    assert [p for m, p, _ in console.mutations if m == "POST"] == ["/gates", "/gates/g0/rules"]
