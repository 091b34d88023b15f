import pytest
from bulkops.jobs.attach_holdout import AttachHoldout
from job_fakes import FakeReadContext, gate, operations, plan_job, skips

from bulkops.run.job import JobConfigError, Operation


def holdout(**fields):
    data = {"id": "h1", "name": "h1", "gateIDs": [], "experimentIDs": [], "layerIDs": []}
    data.update(fields)
    return data


@pytest.mark.anyio
async def test_one_patch_attaches_every_selected_gate(ctx: FakeReadContext) -> None:
    ctx.add("holdouts", holdout())
    ctx.add("gates", *(gate(f"g{i}") for i in range(500)))
    steps = await plan_job(AttachHoldout({"holdout": "h1"}), ctx)
    [op] = operations(steps)
    assert (op.method, op.path, op.key) == ("PATCH", "/holdouts/h1", "holdout:h1:attach")
    assert op.edits[0].field == "gateIDs" and len(op.edits[0].add) == 500
    assert op.check is not None and len(op.check.contains["gateIDs"]) == 500
    assert len(op.items) == 500 and op.before == {"gateIDs": []}
    assert op.undo is not None and op.undo.edits[0].remove == op.edits[0].add
    assert Operation.from_dict(op.to_dict()) == op


@pytest.mark.anyio
async def test_gates_already_attached_are_already_fine_not_resent(ctx: FakeReadContext) -> None:
    ctx.add("holdouts", holdout(gateIDs=["g1"]))
    ctx.add("gates", gate("g1"), gate("g2"))
    steps = await plan_job(AttachHoldout({"holdout": "h1"}), ctx)
    [op] = operations(steps)
    assert op.edits[0].add == ("g2",)
    # no Skip: an item served by nothing is what the plan summary counts "already fine"
    assert skips(steps) == [] and op.items == ("source:gates:g2",)


@pytest.mark.anyio
async def test_nothing_to_do_plans_no_operation(ctx: FakeReadContext) -> None:
    ctx.add("holdouts", holdout(gateIDs=["g1"]))
    ctx.add("gates", gate("g1"))
    assert operations(await plan_job(AttachHoldout({"holdout": "h1"}), ctx)) == []


@pytest.mark.anyio
async def test_where_selects_server_side_and_locally(ctx: FakeReadContext) -> None:
    ctx.add("holdouts", holdout())
    ctx.add("gates", gate("checkout_a"), gate("checkout_b", isEnabled=False), gate("other"))
    job = AttachHoldout(
        {"holdout": "h1", "where": ["type=TEMPORARY", "name~checkout_*", "isEnabled=true"]}
    )
    assert [s.filters for s in job.sources()] == [{"type": "TEMPORARY"}]
    [op] = operations(await plan_job(job, ctx))
    assert op.edits[0].add == ("checkout_a",)


@pytest.mark.anyio
async def test_experiments_and_layers_go_in_the_same_patch(ctx: FakeReadContext) -> None:
    ctx.add("holdouts", holdout(layerIDs=["l1"]))
    ctx.add("gates", gate("g1"))
    ctx.add("experiments", {"id": "e1", "name": "e1", "status": "active"})
    ctx.add("layers", {"id": "l1", "name": "l1"})
    job = AttachHoldout({"holdout": "h1", "kind": ["gates", "experiments", "layers"]})
    [op] = operations(await plan_job(job, ctx))
    assert {e.field: e.add for e in op.edits} == {"gateIDs": ("g1",), "experimentIDs": ("e1",)}


@pytest.mark.anyio
async def test_detach_removes_only_attached_gates(ctx: FakeReadContext) -> None:
    ctx.add("holdouts", holdout(gateIDs=["g1", "g3"]))
    ctx.add("gates", gate("g1"), gate("g2"))
    steps = await plan_job(AttachHoldout({"holdout": "h1", "detach": True}), ctx)
    [op] = operations(steps)
    assert op.key == "holdout:h1:detach" and op.edits[0].remove == ("g1",)
    assert op.check is not None and op.check.excludes == {"gateIDs": ["g1"]}
    assert skips(steps) == []  # g2 is already fine (not attached)


@pytest.mark.anyio
async def test_unknown_holdout_fails_before_anything_is_sent(ctx: FakeReadContext) -> None:
    with pytest.raises(JobConfigError, match="--holdout 'nope': no such holdout"):
        await plan_job(AttachHoldout({"holdout": "nope"}), ctx)
