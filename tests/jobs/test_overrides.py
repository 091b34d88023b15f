from pathlib import Path

import pytest
from bulkops.jobs.overrides import Overrides
from job_fakes import FakeReadContext, gate, operations, plan_job, skips

from bulkops.run.job import JobConfigError


def overrides(passing=(), failing=(), env=()):
    return {
        "passingUserIDs": list(passing),
        "failingUserIDs": list(failing),
        "environmentOverrides": list(env),
    }


@pytest.fixture
def two_gates(ctx: FakeReadContext) -> FakeReadContext:
    ctx.add("gates", gate("g1"), gate("g2"))
    ctx.put("/gates/g1/overrides", overrides(passing=["u1"]))
    ctx.put("/gates/g2/overrides", overrides())
    return ctx


@pytest.mark.anyio
async def test_add_is_one_union_patch_with_only_missing_ids(two_gates) -> None:
    ops = operations(
        await plan_job(Overrides({"kind": "gates", "add_passing": "u1,u2"}), two_gates)
    )
    assert [(o.method, o.path, o.body) for o in ops] == [
        ("PATCH", "/gates/g1/overrides", {"passingUserIDs": ["u2"], "failingUserIDs": []}),
        ("PATCH", "/gates/g2/overrides", {"passingUserIDs": ["u1", "u2"], "failingUserIDs": []}),
    ]
    assert ops[0].check is not None and ops[0].check.contains == {"passingUserIDs": ["u2"]}
    assert ops[0].undo is not None and ops[0].undo.edits[0].remove == ("u2",)


@pytest.mark.anyio
async def test_no_op_items_send_nothing(two_gates) -> None:
    job = Overrides({"kind": "gates", "add_passing": "u1", "where": ["name=g1"]})
    assert operations(await plan_job(job, two_gates)) == []


@pytest.mark.anyio
async def test_remove_reads_then_updates_without_them(two_gates) -> None:
    [op] = operations(
        await plan_job(Overrides({"kind": "gates", "remove_passing": "u1,zz"}), two_gates)
    )
    assert (op.method, op.path, op.body) == ("POST", "/gates/g1/overrides", None)
    assert [(e.field, e.add, e.remove) for e in op.edits] == [("passingUserIDs", (), ("u1",))]
    assert "environmentOverrides" in op.send_fields and "failingUserIDs" in op.send_fields
    assert op.check is not None and op.check.excludes == {"passingUserIDs": ["u1"]}


@pytest.mark.anyio
async def test_replace_sets_the_list_exactly(two_gates) -> None:
    ops = operations(
        await plan_job(
            Overrides({"kind": "gates", "add_passing": "u9", "replace": True}), two_gates
        )
    )
    assert [(o.method, [(e.add, e.remove) for e in o.edits]) for o in ops] == [
        ("POST", [(("u9",), ("u1",))]),
        ("PATCH", []),
    ]
    assert ops[1].body == {"passingUserIDs": ["u9"], "failingUserIDs": []}


@pytest.mark.anyio
async def test_environment_overrides_carry_unit_id(ctx: FakeReadContext) -> None:
    ctx.add("gates", gate("g1", idType="stableID"))
    ctx.put("/gates/g1/overrides", overrides())
    ctx.put("/environments", {"environments": [{"name": "staging"}, {"name": "production"}]})
    [op] = operations(
        await plan_job(
            Overrides({"kind": "gates", "add_failing": "d1", "environment": "staging"}), ctx
        )
    )
    assert op.body == {
        "environmentOverrides": [
            {"environment": "staging", "unitID": "stableID", "passingIDs": [], "failingIDs": ["d1"]}
        ]
    }
    assert op.check is not None and op.check.contains == {
        "environmentOverrides": [{"environment": "staging", "failingIDs": ["d1"]}]
    }


@pytest.mark.anyio
async def test_environment_remove_uses_a_selector_edit(ctx: FakeReadContext) -> None:
    ctx.add("gates", gate("g1"))
    env = {"environment": "staging", "unitID": "userID", "passingIDs": ["a", "b"], "failingIDs": []}
    ctx.put("/gates/g1/overrides", overrides(env=[env]))
    [op] = operations(
        await plan_job(
            Overrides({"kind": "gates", "remove_passing": "a,b", "environment": "staging"}), ctx
        )
    )
    assert op.edits[0].field == "environmentOverrides[environment=staging].passingIDs"
    assert op.check is not None and op.check.excludes == {
        "environmentOverrides": [
            {"environment": "staging", "passingIDs": ["a"]},
            {"environment": "staging", "passingIDs": ["b"]},
        ]
    }


@pytest.mark.anyio
async def test_experiment_group_overrides(ctx: FakeReadContext) -> None:
    ctx.add("experiments", {"id": "e1", "name": "e1", "status": "active"})
    ctx.put("/experiments/e1/overrides", {"overrides": [], "userIDOverrides": []})
    [op] = operations(
        await plan_job(
            Overrides({"kind": "experiments", "group": "test", "add_passing": "u1"}), ctx
        )
    )
    # the API requires both lists; PATCH is a union, so the empty one adds nothing
    assert op.body == {"overrides": [], "userIDOverrides": [{"groupID": "test", "ids": ["u1"]}]}


@pytest.mark.anyio
async def test_ids_from_a_file_are_split_at_the_apis_2000_per_request(
    tmp_path: Path, two_gates
) -> None:
    ids = [f"user{i}" for i in range(3000)]
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    ops = operations(
        await plan_job(
            Overrides({"kind": "gates", "add_passing": f"@{tmp_path / 'ids.txt'}"}), two_gates
        )
    )
    per_gate = [op for op in ops if op.path == ops[-1].path]
    assert [len(op.body["passingUserIDs"]) for op in per_gate] == [2000, 1000]
    assert len({op.key for op in ops}) == len(ops)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"add_passing": "a,,b"}, "empty"),
        ({"add_passing": "a,b,a"}, "given twice"),
        ({"add_passing": "@/nonexistent/ids.txt"}, "does not exist"),
        ({"add_passing": "a", "environment": "my env"}, "no spaces"),
        ({}, "nothing to do"),
        ({"add_passing": "a", "add_failing": "a"}, "in both"),
        ({"add_passing": "a", "kind": "dynamic_configs"}, "no overrides endpoint"),
        ({"add_passing": "a", "kind": "layers"}, "not supported by this job yet"),
        ({"add_passing": "a", "kind": "experiments"}, "--group"),
    ],
)
def test_bad_parameters_fail_before_anything_is_sent(options, message) -> None:
    with pytest.raises(JobConfigError, match=message):
        Overrides({"kind": "gates", **options}).sources()


@pytest.mark.anyio
async def test_unknown_environment_is_rejected(ctx: FakeReadContext) -> None:
    ctx.put("/environments", {"environments": [{"name": "production"}]})
    with pytest.raises(JobConfigError, match="not an environment"):
        await plan_job(
            Overrides({"kind": "gates", "add_passing": "a", "environment": "staging"}), ctx
        )


@pytest.mark.anyio
async def test_an_update_over_the_apis_list_limit_is_blocked_not_sent(two_gates) -> None:
    big = [f"u{i}" for i in range(2001)]
    two_gates.put("/gates/g1/overrides", {"passingUserIDs": big, "failingUserIDs": []})
    steps = await plan_job(
        Overrides({"kind": "gates", "remove_passing": "u1,u2", "add_passing": "n1,n2"}), two_gates
    )
    [blocked] = [s for s in skips(steps) if s.blocked]
    assert blocked.item.endswith(":g1") and "2001 IDs" in blocked.reason
    assert all(op.path != "/gates/g1/overrides" for op in operations(steps))
