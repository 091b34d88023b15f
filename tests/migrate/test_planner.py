"""The migrate plan: dependency order, cycles, references, safety, fewest mutations."""

from __future__ import annotations

import copy

import anyio
import pytest
from bulkops.jobs.migrate import Migrate
from planning import by_key, context, ops, plan, plan_steps, skips

from bulkops.api.resources import rule_references
from bulkops.migrate.sample import COLLIDING_NAME, half_populated, migration_sample
from bulkops.run.job import JobConfigError


def _target_from(sample: dict) -> dict:
    """A target that already holds the whole sample (what a finished migration leaves)."""
    target = copy.deepcopy(sample)
    target["project"] = "target"
    return target


def test_the_same_projects_give_the_same_operations_in_the_same_order() -> None:
    first, _ = plan()
    again, _ = plan()
    assert [o.to_dict() for o in ops(first)] == [o.to_dict() for o in ops(again)]
    assert [(s.item, s.reason) for s in skips(first)] == [(s.item, s.reason) for s in skips(again)]


def test_every_create_waits_for_what_it_names_and_nothing_is_created_twice() -> None:
    steps, _ = plan()
    keys = [o.key for o in ops(steps)]
    assert len(keys) == len(set(keys))
    created = {o.key for o in ops(steps) if o.creates}
    position = {key: i for i, key in enumerate(keys)}
    for op in ops(steps):
        assert all(position[d] < position[op.key] for d in op.depends_on), op.key
        if op.creates and isinstance(op.body, dict):
            for kind, ident in rule_references(op.body):
                create = f"target:{kind}:{ident}:create"
                waits = set(op.depends_on) | {
                    d.split(":ids:")[0] + ":create" for d in op.depends_on
                }
                assert create not in created or create in waits, (op.key, create)


def test_a_reference_cycle_is_created_without_rules_then_given_them() -> None:
    steps = by_key(plan()[0])
    for kind, pair in (
        ("gates", ("gate_loop_a", "gate_loop_b")),
        ("segments", ("seg_loop_a", "seg_loop_b")),
    ):
        bodies = [steps[f"target:{kind}:{one}:create"].body for one in pair]
        shells = [one for one, body in zip(pair, bodies, strict=True) if body["rules"] == []]
        assert len(shells) == 1, bodies
        rules = steps[f"target:{kind}:{shells[0]}:rules"]
        assert f"target:{kind}:{shells[0]}:create" in rules.depends_on
        other = next(one for one in pair if one != shells[0])
        assert f"target:{kind}:{other}:create" in rules.depends_on


def test_experiments_arrive_in_setup_and_gates_keep_their_enabled_state() -> None:
    steps = ops(plan()[0])
    experiments = [o.body for o in steps if o.key.startswith("target:experiments:") and o.creates]
    assert experiments and {e["status"] for e in experiments} == {"setup"}
    gates = {o.body["id"]: o.body for o in steps if o.key.startswith("target:gates:") and o.creates}
    sample = {g["id"]: g for g in migration_sample()["entities"]["gates"]}
    assert any(not g["isEnabled"] for g in sample.values())
    assert all(gates[i]["isEnabled"] == g["isEnabled"] for i, g in sample.items())


def test_a_holdout_gets_its_references_after_its_create_and_theirs() -> None:
    steps = by_key(plan()[0])
    fields = steps["target:holdouts:holdout_1:fields"]
    assert fields.method == "PATCH" and fields.body["gateIDs"] and fields.body["targetingGateID"]
    assert "target:holdouts:holdout_1:create" in fields.depends_on
    for gate in fields.body["gateIDs"]:
        assert f"target:gates:{gate}:create" in fields.depends_on


def test_id_lists_are_filled_in_the_fewest_calls_the_api_takes() -> None:
    steps = by_key(plan()[0])
    assert len(steps["target:segments:list_3:ids:1:reset"].body["ids"]) == 151
    store = [k for k in steps if k.startswith("target:segments:store_0:ids:")]
    assert [len(steps[k].body["ids"]) for k in store] == [1_000, 200]


def test_overrides_go_in_one_request_after_what_they_name() -> None:
    sample = migration_sample()
    steps = by_key(plan()[0])
    experiment, doc = next(iter(sample["overrides"]["experiments"].items()))
    overrides = steps[f"target:experiments:{experiment}:overrides"]
    assert overrides.method == "POST" and overrides.body == doc
    gate = doc["overrides"][0]["id"]
    assert f"target:gates:{gate}:create" in overrides.depends_on


def test_a_reference_outside_the_selection_is_pulled_in_and_reported() -> None:
    steps, result = plan(kinds="experiments", where=["name=experiment_1"])
    created = [o for o in ops(steps) if o.creates and not o.key.startswith("target:tags:")]
    assert [o.key for o in created if o.key.startswith("target:experiments:")] == [
        "target:experiments:experiment_1:create"
    ]
    pulled = [o for o in created if "pulled in: named by" in o.description]
    assert len(pulled) == len(created) - 1
    assert result.counts["gates"]["pulled_in"] >= 1


def test_a_reference_missing_from_the_source_blocks_its_chain_only() -> None:
    sample = migration_sample()
    sample["entities"]["experiments"][1]["targetingGateID"] = "ghost_gate"
    steps, _ = plan(sample)
    blocked = {s.item: s.reason for s in skips(steps) if s.blocked}
    assert (
        "gate ghost_gate, which is not in the source" in blocked["source:experiments:experiment_1"]
    )
    holdouts = [i for i, r in blocked.items() if i.startswith("source:holdouts:")]
    assert all("experiment experiment_1, which is blocked" in blocked[i] for i in holdouts)
    assert "target:experiments:experiment_2:create" in by_key(steps)


def test_a_target_equal_to_the_source_plans_nothing() -> None:
    steps, result = plan(target=_target_from(migration_sample()))
    assert ops(steps) == [] and result.mutations == 0


def test_differences_without_a_policy_stop_the_plan_listing_them() -> None:
    target = half_populated(migration_sample())
    with pytest.raises(JobConfigError) as stopped:
        plan(target=target)
    message = str(stopped.value)
    assert f"gates {COLLIDING_NAME} differs: description" in message
    assert "nothing was sent" in message and "--on-conflict" in message


def test_skip_leaves_a_differing_entity_and_points_references_at_it() -> None:
    target = half_populated(migration_sample())
    steps, result = plan(target=target, on_conflict="skip")
    assert f"target:gates:{COLLIDING_NAME}:update" not in by_key(steps)
    assert any(
        s.item == f"source:gates:{COLLIDING_NAME}" and "left as is" in s.reason
        for s in skips(steps)
    )
    assert result.id_map.get("gates", COLLIDING_NAME) == COLLIDING_NAME


def test_update_patches_only_the_differing_field_with_an_undo() -> None:
    target = half_populated(migration_sample())
    steps = by_key(plan(target=target, on_conflict="update")[0])
    update = steps[f"target:gates:{COLLIDING_NAME}:update"]
    assert list(update.body) == ["description"]
    assert update.undo is not None and update.undo.body == {
        "description": "changed in the target by hand"
    }
    assert not [k for k in steps if k.endswith(":update") and k != update.key]


def test_rename_migrates_a_copy_and_rewrites_every_reference_to_it() -> None:
    target = half_populated(migration_sample())
    steps, result = plan(target=target, on_conflict="rename")
    copy_id = f"{COLLIDING_NAME}_copy"
    assert result.id_map.get("gates", COLLIDING_NAME) == copy_id
    operations = by_key(steps)
    assert operations[f"target:gates:{copy_id}:create"].body["name"] == copy_id
    named = [
        o
        for o in ops(steps)
        if o.key != f"target:gates:{copy_id}:create"
        and f'"{copy_id}"' in str(o.body).replace("'", '"')
    ]
    assert named, "an entity naming the renamed gate names the copy"
    assert not any(
        (kind, ident) == ("gates", COLLIDING_NAME)
        for o in ops(steps)
        if isinstance(o.body, dict)
        for kind, ident in rule_references(o.body)
    )


def test_plan_meta_holds_the_mapping_and_the_counts_per_kind() -> None:
    job = Migrate({"to": "prod"})
    anyio.run(plan_steps, job, context(migration_sample()))
    meta = job.plan_meta()
    assert meta["id_map"]["gates"][COLLIDING_NAME] == COLLIDING_NAME
    assert meta["migration"]["counts"]["gates"]["create"] == 122
    # 297 entity writes, and the 4 tags they carry (the sample's catalog)
    assert meta["migration"]["summary"][0].startswith("migration: 301 mutation(s)")
    assert meta["migration"]["counts"]["tags"] == {"create": 4}


def test_an_unknown_where_field_or_kind_is_refused_before_reading() -> None:
    with pytest.raises(JobConfigError, match="flags"):
        Migrate({"to": "prod", "kinds": "gates,flags"}).sources()
    with pytest.raises(JobConfigError, match="colour"):
        Migrate({"to": "prod", "where": ["colour=red"]}).sources()


class _SlowSnapshot:
    """A snapshot connection whose reads take a moment, counting how many overlap."""

    def __init__(self, conn) -> None:
        self.conn, self.base_url, self.budget = conn, conn.base_url, conn.budget
        self.in_flight = self.peak = 0

    async def request(self, method, path, json=None, *, params=None):
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await anyio.sleep(0.001)
            return await self.conn.request(method, path, json, params=params)
        finally:
            self.in_flight -= 1

    def paginate(self, kind, **filters):
        return self.conn.paginate(kind, **filters)


def test_per_entity_reads_overlap_within_the_bound() -> None:
    from bulkops.migrate.snapshot_source import SnapshotConnection
    from bulkops.run.context import ClientReadContext

    source = _SlowSnapshot(SnapshotConnection(migration_sample()))
    target = _SlowSnapshot(SnapshotConnection(_target_from(migration_sample())))
    ctx = ClientReadContext({"source": source, "target": target})
    steps = anyio.run(plan_steps, Migrate({"to": "prod"}), ctx)
    assert ops(steps) == []
    assert 1 < source.peak <= 16 and 1 < target.peak <= 16
