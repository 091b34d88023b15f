import time

import pytest
from bulkops.jobs.archive_stale_gates import ArchiveStaleGates, parse_age
from job_fakes import FakeReadContext, gate, operations, plan_job, skips

from bulkops.run.job import JobConfigError

DAY_MS = 86_400_000


def stale(gate_id: str, days_old: float = 200, **fields):
    modified = time.time() * 1000 - days_old * DAY_MS
    return gate(
        gate_id,
        type="STALE",
        typeReason="STALE_PROBABLY_LAUNCHED",
        lastModifiedTime=modified,
        **fields,
    )


@pytest.mark.anyio
async def test_stale_gates_are_archived_one_put_each(ctx: FakeReadContext) -> None:
    ctx.add("gates", stale("s1"), stale("s2"), gate("fresh"))
    job = ArchiveStaleGates({})
    assert [s.filters for s in job.sources()] == [{"type": "STALE"}]
    ops = operations(await plan_job(job, ctx))
    assert [(o.method, o.path) for o in ops] == [
        ("PUT", "/gates/s1/archive"),
        ("PUT", "/gates/s2/archive"),
    ]
    assert ops[0].check is not None and ops[0].check.contains == {"status": "Archived"}
    assert ops[0].undo is not None and ops[0].undo.path == "/gates/s1/unarchive"


@pytest.mark.anyio
async def test_gate_referenced_by_an_experiment_is_blocked_not_archived(
    ctx: FakeReadContext,
) -> None:
    ctx.add("gates", stale("s1"), stale("s2"))
    ctx.add("experiments", {"id": "e1", "status": "active", "targetingGateID": "s1"})
    steps = await plan_job(ArchiveStaleGates({}), ctx)
    assert [o.path for o in operations(steps)] == ["/gates/s2/archive"]
    [skip] = skips(steps)
    assert skip.blocked and skip.item == "source:gates:s1"
    assert "experiment e1 (targeting gate)" in skip.reason


@pytest.mark.anyio
async def test_gate_conditions_and_holdouts_block_too(ctx: FakeReadContext) -> None:
    rule = {
        "name": "r",
        "passPercentage": 100,
        "conditions": [{"type": "fails_gate", "targetValue": ["s1"]}],
    }
    ctx.add("gates", stale("s1"), stale("s2"), gate("live", rules=[rule]))
    ctx.add("holdouts", {"id": "h1", "gateIDs": ["s2"], "targetingGateID": None})
    steps = await plan_job(ArchiveStaleGates({}), ctx)
    assert operations(steps) == []
    reasons = {s.item: s.reason for s in skips(steps)}
    assert "gate live (rule condition)" in reasons["source:gates:s1"]
    assert "holdout h1 (gateIDs)" in reasons["source:gates:s2"]


@pytest.mark.anyio
async def test_older_than_exclude_tag_and_already_archived(ctx: FakeReadContext) -> None:
    ctx.add(
        "gates",
        stale("young", days_old=10),
        stale("kept", tags=["keep"]),
        stale("gone", status="Archived"),
        stale("old"),
    )
    job = ArchiveStaleGates({"older_than": "90d", "exclude_tag": ["keep"]})
    steps = await plan_job(job, ctx)
    assert [o.key for o in operations(steps)] == ["gate:old:archive"]
    assert {s.item: s.reason for s in skips(steps)} == {
        "source:gates:young": "modified less than 90d ago",
        "source:gates:kept": "excluded by tag keep",
    }


@pytest.mark.anyio
async def test_recently_archived_gates_are_already_fine_not_recent(ctx: FakeReadContext) -> None:
    # archiving bumps lastModifiedTime: the second run sees young, archived gates
    ctx.add("gates", stale("done", days_old=0, status="Archived"), stale("young", days_old=1))
    steps = await plan_job(ArchiveStaleGates({"older_than": "90d"}), ctx)
    assert operations(steps) == []
    assert {s.item: s.reason for s in skips(steps)} == {
        "source:gates:young": "modified less than 90d ago"
    }


@pytest.mark.anyio
async def test_disabled_gates_are_already_fine_for_disable(ctx: FakeReadContext) -> None:
    ctx.add("gates", stale("off", days_old=0, isEnabled=False, tags=["keep"]))
    job = ArchiveStaleGates({"action": "disable", "older_than": "90d", "exclude_tag": ["keep"]})
    steps = await plan_job(job, ctx)
    assert operations(steps) == [] and skips(steps) == []


@pytest.mark.anyio
async def test_disable_action_puts_disable(ctx: FakeReadContext) -> None:
    ctx.add("gates", stale("s1"), stale("off", isEnabled=False))
    [op] = operations(await plan_job(ArchiveStaleGates({"action": "disable"}), ctx))
    assert op.path == "/gates/s1/disable" and op.undo is not None
    assert op.undo.path == "/gates/s1/enable"


def test_type_reason_goes_to_the_server() -> None:
    job = ArchiveStaleGates({"where": ["typeReason=STALE_NO_RULES"]})
    assert job.sources()[0].filters == {"type": "STALE", "typeReason": "STALE_NO_RULES"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"older_than": "ninety"}, "--older-than"),
        ({"where": ["type=PERMANENT"]}, "type=STALE"),
        ({"action": "delete"}, "--action"),
    ],
)
def test_bad_parameters_are_rejected(options, message) -> None:
    with pytest.raises(JobConfigError, match=message):
        ArchiveStaleGates(options).sources()


def test_parse_age() -> None:
    assert parse_age("90d") == 90 * 86400 and parse_age("2w") == 14 * 86400


@pytest.mark.anyio
async def test_undo_of_archive_is_unarchive_with_the_body_the_spec_requires(
    ctx: FakeReadContext,
) -> None:
    ctx.add("gates", stale("s1"))
    [op] = operations(await plan_job(ArchiveStaleGates({}), ctx))
    assert op.undo is not None and op.undo.path == "/gates/s1/unarchive"
    assert op.undo.method == "PUT" and op.undo.body == {}
