from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from bulkops.jobs.copy_experiments import CopyExperiments
from job_fakes import FakeReadContext, gate, operations, plan_job, segment, skips

from bulkops.api import ConsoleClient
from bulkops.migrate.idlists import plan_id_copy
from bulkops.run.context import ClientReadContext
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
        segment("beta"),
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


# -- ID-list segments ------------------------------------------------------------------------


@dataclass
class IdListContext(FakeReadContext):
    """The fake context, with ID lists paged as ``GET /segments/{id}/id_list`` pages them."""

    id_lists: dict[str, list[str]] = field(default_factory=dict)
    page_size: int = 100

    async def paged(
        self, path: str, field: str, *, project: str = "source", **params: Any
    ) -> AsyncIterator[Any]:
        segment_id = path.split("/")[2]
        ids = self.id_lists[f"{project}:{segment_id}"]
        for start in range(0, len(ids), self.page_size):
            self.reads.append(f"{project}:{path}?page={start // self.page_size + 1}")
            for unit_id in ids[start : start + self.page_size]:
                yield unit_id

    def segment(self, segment_id: str, ids: list[str], *, project: str = "source", **fields):
        data = {"id": segment_id, "name": segment_id, "type": "id_list", "idType": "userID"}
        self.add("segments", {**data, "description": "", **fields}, project=project)
        self.id_lists[f"{project}:{segment_id}"] = list(ids)


IDS = [f"u{i:05}" for i in range(2_500)]


@pytest.fixture
def lists() -> IdListContext:
    ctx = IdListContext()
    ctx.segment("beta", IDS)
    ctx.add("gates", gate("beta_gate", rules=[SEGMENT_RULE]))
    ctx.add("experiments", experiment("e1", targetingGateID="beta_gate"))
    return ctx


def keys(steps) -> list[str]:
    return [o.key for o in operations(steps)]


@pytest.mark.anyio
async def test_a_new_id_list_segment_is_filled_by_one_reset_before_the_gate(lists) -> None:
    ops = {o.key: o for o in operations(await plan_job(job(), lists))}
    reset = ops["target:segments:beta:ids:1:reset"]
    assert (reset.method, reset.path) == ("POST", "/segments/beta/id_list/reset")
    assert reset.body == {"ids": IDS} and reset.project == "target"
    assert reset.depends_on == ("target:segments:beta:create",)
    assert reset.check is not None and reset.check.contains == {"count": 2_500}
    assert reset.undo is None  # the revert deletes the segment it created
    assert ops["target:gates:beta_gate:create"].depends_on == (reset.key,)
    assert "source:/segments/beta/id_list?page=25" in lists.reads


@pytest.mark.anyio
async def test_equal_ids_in_another_order_plan_nothing_for_the_segment(lists) -> None:
    lists.segment("beta", IDS[::-1], project="target")
    assert not [k for k in keys(await plan_job(job(), lists)) if k.startswith("target:segments")]
    assert "target:/segments/beta/id_list?page=25" in lists.reads


@pytest.mark.anyio
async def test_differing_ids_are_left_as_is_by_default_and_reported(lists) -> None:
    lists.segment("beta", IDS[:10], project="target")
    steps = await plan_job(job(), lists)
    assert not [k for k in keys(steps) if k.startswith("target:segments")]
    assert any("segments beta exists in the target and differs" in s.reason for s in skips(steps))
    assert "target:gates:beta_gate:create" in keys(steps)


@pytest.mark.anyio
async def test_update_adds_only_the_missing_ids_with_their_removal_as_undo(lists) -> None:
    lists.segment("beta", IDS[:2_000], project="target")
    ops = {o.key: o for o in operations(await plan_job(job(on_conflict="update"), lists))}
    [add] = [o for k, o in ops.items() if k.startswith("target:segments:beta:ids")]
    assert (add.method, add.path, add.body) == (
        "PATCH",
        "/segments/beta/id_list",
        {"ids": IDS[2_000:]},
    )
    assert add.depends_on == () and add.check.contains == {"count": 2_500}
    assert add.undo is not None and (add.undo.method, add.undo.body) == ("DELETE", add.body)
    assert add.undo.check.contains == {"count": 2_000}
    assert ops["target:gates:beta_gate:create"].depends_on == (add.key,)


@pytest.mark.anyio
async def test_rename_creates_and_fills_a_copy(lists) -> None:
    lists.segment("beta", ["someone"], project="target")
    ops = operations(await plan_job(job(on_conflict="rename"), lists))
    assert keys(ops)[:2] == [
        "target:segments:beta_copy:create",
        "target:segments:beta_copy:ids:1:reset",
    ]
    assert ops[1].body == {"ids": IDS}
    assert ops[2].body["rules"][0]["conditions"][0]["targetValue"] == ["beta_copy"]


@pytest.mark.anyio
async def test_a_segment_shared_by_two_experiments_is_read_and_filled_once(lists) -> None:
    lists.add("experiments", experiment("e2", targetingGateID="beta_gate"))
    steps = await plan_job(job(), lists)
    assert keys(steps).count("target:segments:beta:ids:1:reset") == 1
    assert lists.reads.count("source:/segments/beta/id_list?page=1") == 1


def _plan(segment_type: str, wanted, current=(), *, fresh: bool = False):
    created_by = "target:segments:s1:create" if fresh else None
    return plan_id_copy(
        "s1", segment_type, wanted, current, created_by=created_by, item="i", where="prod"
    )


def _summary(ops) -> list[tuple[str, str, int, int]]:
    return [
        (
            o.method,
            o.path.removeprefix("/segments/s1"),
            len(o.body["ids"]),
            o.check.contains["count"],
        )
        for o in ops
    ]


def test_a_large_new_id_list_is_one_reset_then_adds_in_a_chain() -> None:
    ops = _plan("id_list", [str(i) for i in range(250_000)], fresh=True)
    assert _summary(ops) == [
        ("POST", "/id_list/reset", 100_000, 100_000),
        ("PATCH", "/id_list", 100_000, 200_000),
        ("PATCH", "/id_list", 50_000, 250_000),
    ]
    assert [o.depends_on for o in ops] == [
        ("target:segments:s1:create",),
        (ops[0].key,),
        (ops[1].key,),
    ]


def test_a_user_store_list_is_added_1000_ids_a_call() -> None:
    ops = _plan("user_store_id_list", [str(i) for i in range(2_500)], fresh=True)
    assert _summary(ops) == [
        ("PATCH", "/add_ids", 1_000, 1_000),
        ("PATCH", "/add_ids", 1_000, 2_000),
        ("PATCH", "/add_ids", 500, 2_500),
    ]
    assert all(o.undo is None for o in ops)


def test_update_of_a_user_store_list_adds_then_removes_with_inverse_undos() -> None:
    ops = _plan("user_store_id_list", ["a", "b", "c"], ["c", "x", "y"])
    assert _summary(ops) == [("PATCH", "/add_ids", 2, 5), ("PATCH", "/remove_ids", 2, 3)]
    assert [(o.undo.path, o.undo.body["ids"], o.undo.check.contains) for o in ops] == [
        ("/segments/s1/remove_ids", ["a", "b"], {"count": 3}),
        ("/segments/s1/add_ids", ["x", "y"], {"count": 5}),
    ]


def test_a_reset_replaces_an_add_and_a_remove_and_its_undo_restores_the_old_list() -> None:
    ops = _plan("id_list", ["a", "b", "c"], ["a", "x"])
    assert _summary(ops) == [("POST", "/id_list/reset", 3, 3)]
    assert ops[0].undo.body == {"ids": ["a", "x"]} and ops[0].undo.check.contains == {"count": 2}


def test_no_reset_where_the_count_could_not_tell_before_from_after() -> None:
    # 2 IDs before and after a reset: a crash during it could not be reconciled by counting.
    ops = _plan("id_list", ["a", "b"], ["a", "x"])
    assert _summary(ops) == [("PATCH", "/id_list", 1, 3), ("DELETE", "/id_list", 1, 2)]


def test_equal_sets_and_duplicates_plan_nothing() -> None:
    assert _plan("id_list", ["a", "b", "a"], ["b", "a"]) == []
    assert _plan("user_store_id_list", [], []) == []


@pytest.mark.anyio
async def test_the_read_context_pages_an_id_list_whole(emulator) -> None:
    ids = [f"u{i}" for i in range(250)]
    emulator.load(
        {
            "format": "bulkops-snapshot/1",
            "projects": {
                "default": {
                    "entities": {"segments": [{"id": "big", "name": "big", "type": "id_list"}]},
                    "id_lists": {"big": ids},
                }
            },
        }
    )
    async with ConsoleClient(emulator.api_key(), emulator.base_url) as client:
        ctx = ClientReadContext({"source": client})
        assert [i async for i in ctx.paged("/segments/big/id_list", "ids")] == ids
