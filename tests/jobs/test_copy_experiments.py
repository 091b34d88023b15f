import pytest
from bulkops.jobs.copy_experiments import CopyExperiments
from job_fakes import FakeReadContext, gate, operations, plan_job, skips

from bulkops.run.job import JobConfigError

SEGMENT_RULE = {
    "name": "beta users",
    "passPercentage": 100,
    "id": "rule1",
    "conditions": [{"type": "passes_segment", "targetValue": ["beta"]}],
}


def experiment(exp_id: str, **fields):
    data = {
        "id": exp_id,
        "name": exp_id,
        "description": "",
        "idType": "userID",
        "hypothesis": "h",
        "status": "active",
        "groups": [{"name": "control", "size": 50}, {"name": "test", "size": 50}],
        "allocation": 100,
        "targetingGateID": None,
        "layerID": None,
        "tags": [],
    }
    data.update(fields)
    return data


@pytest.fixture
def source(ctx: FakeReadContext) -> FakeReadContext:
    ctx.add(
        "segments",
        {
            "id": "beta",
            "name": "beta",
            "type": "rule_based",
            "idType": "userID",
            "rules": [],
            "description": "",
        },
    )
    ctx.add("gates", gate("beta_gate", rules=[SEGMENT_RULE]))
    ctx.add(
        "layers", {"id": "main_layer", "name": "main_layer", "idType": "userID", "description": ""}
    )
    ctx.add("experiments", experiment("e1", targetingGateID="beta_gate", layerID="main_layer"))
    return ctx


def job(**options):
    return CopyExperiments({"to": "prod", **options})


@pytest.mark.anyio
async def test_dependencies_are_created_first_with_target_references(source) -> None:
    ops = operations(await plan_job(job(), source))
    assert [(o.key, o.depends_on) for o in ops] == [
        ("target:segments:beta:create", ()),
        ("target:gates:beta_gate:create", ("target:segments:beta:create",)),
        ("target:layers:main_layer:create", ()),
        (
            "target:experiments:e1:create",
            ("target:gates:beta_gate:create", "target:layers:main_layer:create"),
        ),
    ]
    assert all(o.project == "target" and o.creates and o.method == "POST" for o in ops)
    exp = ops[-1].body
    assert exp["status"] == "setup" and exp["targetingGateID"] == "beta_gate"
    assert exp["layerID"] == "main_layer" and exp["id"] == "e1"
    assert "id" not in ops[1].body["rules"][0]
    assert ops[-1].undo is not None and ops[-1].undo.method == "DELETE"


@pytest.mark.anyio
async def test_identical_entities_in_the_target_are_reused(source) -> None:
    first = operations(await plan_job(job(), source))
    for op in first:
        _, kind, target_id, _ = op.key.split(":")
        rules = [{**r, "id": "server-rule"} for r in op.body.get("rules", [])]
        source.add(kind, {**op.body, "id": target_id, "rules": rules}, project="target")
    assert operations(await plan_job(job(), source)) == []


@pytest.mark.anyio
async def test_conflicting_gate_is_skipped_and_mapped(source) -> None:
    source.add("gates", gate("beta_gate", description="theirs"), project="target")
    steps = await plan_job(job(), source)
    assert "target:gates:beta_gate:create" not in [o.key for o in operations(steps)]
    assert any("gates beta_gate exists in the target" in s.reason for s in skips(steps))


@pytest.mark.anyio
async def test_rename_creates_a_copy_and_points_at_it(source) -> None:
    source.add("gates", gate("beta_gate", description="theirs"), project="target")
    ops = operations(await plan_job(job(on_conflict="rename"), source))
    assert "target:gates:beta_gate_copy:create" in [o.key for o in ops]
    assert ops[-1].body["targetingGateID"] == "beta_gate_copy"


@pytest.mark.anyio
async def test_update_patches_only_differing_fields(source) -> None:
    source.add(
        "gates", gate("beta_gate", description="theirs", rules=[SEGMENT_RULE]), project="target"
    )
    ops = operations(await plan_job(job(on_conflict="update"), source))
    [update] = [o for o in ops if o.key == "target:gates:beta_gate:update"]
    assert update.method == "PATCH" and update.body == {"description": ""}


@pytest.mark.anyio
async def test_missing_dependency_blocks_only_that_experiment(source) -> None:
    source.add("experiments", experiment("e2", targetingGateID="ghost"))
    steps = await plan_job(job(), source)
    assert [s.item for s in skips(steps) if s.blocked] == ["source:experiments:e2"]
    assert "target:experiments:e1:create" in [o.key for o in operations(steps)]


def test_bad_on_conflict_is_rejected() -> None:
    with pytest.raises(JobConfigError, match="--on-conflict"):
        job(on_conflict="merge").sources()
