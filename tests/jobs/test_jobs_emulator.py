"""The built-in jobs end to end: real runner, real journal, real HTTP to the emulator."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from bulkops.jobs.archive_stale_gates import ArchiveStaleGates
from bulkops.jobs.attach_holdout import AttachHoldout
from bulkops.jobs.copy_experiments import CopyExperiments
from bulkops.jobs.overrides import Overrides
from bulkops.jobs.patch import Patch
from job_fakes import gate
from jobcli import converges, entities, seed, seed_source, sent

from bulkops.api import ConsoleClient
from bulkops.run.job import Job
from bulkops.run.journal import Journal
from bulkops.run.runner import PlanSummary, Runner, RunResult
from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

FAST = ((100_000, 1.0),)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(
        projects={"default": "console-src", "target": "console-dst"},
        page_cap=100,
        mutation_limits=FAST,
    )


async def run(job: Job, emulator: RunningEmulator, tmp_path: Path) -> tuple[PlanSummary, RunResult]:
    clients = {"source": ConsoleClient(emulator.api_key("default"), emulator.base_url, FAST)}
    if job.projects:
        clients["target"] = ConsoleClient(emulator.api_key("target"), emulator.base_url, FAST)
    run_id = f"r{time.monotonic_ns()}"
    journal = Journal.create(tmp_path / f"{run_id}.journal", {"run_id": run_id, "job": job.name})
    try:
        for client in clients.values():
            await client.__aenter__()
        runner = Runner(journal, clients, job=job)
        summary = await runner.freeze_and_plan()
        result = await runner.mutate()
        failures = [
            f"{r.op.key}: {r.message}"
            for r in journal.operations_page()
            if r.status.startswith("FAILED")
        ]
        assert not failures, failures
        return summary, result
    finally:
        for client in clients.values():
            await client.aclose()
        journal.close()


async def test_attach_holdout_to_500_gates_in_one_patch(emulator, tmp_path) -> None:
    seed(
        emulator,
        gates=[gate(f"g{i:03}") for i in range(500)],
        holdouts=[{"id": "h1", "name": "h1", "gateIDs": ["g000"]}],
    )
    emulator.reset_counters()
    summary, result = await run(AttachHoldout({"holdout": "h1"}), emulator, tmp_path)
    assert summary.to_send == 1 and result.exit_code == 0
    assert sent(emulator) == Counter({"PATCH /holdouts/h1": 1})
    assert sorted(entities(emulator, "holdouts")["h1"]["gateIDs"]) == [
        f"g{i:03}" for i in range(500)
    ]
    emulator.reset_counters()
    again, _ = await run(AttachHoldout({"holdout": "h1"}), emulator, tmp_path)
    assert again.to_send == 0 and sent(emulator) == Counter()


async def test_archive_stale_gates_blocks_referenced_gates(emulator, tmp_path) -> None:
    old = time.time() * 1000 - 200 * 86_400_000
    stale = [
        gate(f"s{i:03}", type="STALE", typeReason="STALE_NO_RULES", lastModifiedTime=old)
        for i in range(250)
    ]
    seed(
        emulator,
        gates=[*stale, gate("live")],
        experiments=[
            {"id": "exp_one", "name": "exp_one", "status": "active", "targetingGateID": "s007"}
        ],
    )
    emulator.reset_counters()
    summary, result = await run(ArchiveStaleGates({"older_than": "90d"}), emulator, tmp_path)
    assert summary.blocked == 1 and summary.to_send == 249 and result.exit_code == 0
    gates = entities(emulator, "gates")
    assert gates["s007"]["status"] != "Archived" and gates["live"]["status"] != "Archived"
    assert all(g["status"] == "Archived" for k, g in gates.items() if k not in ("s007", "live"))
    assert sum(sent(emulator).values()) == 249
    emulator.reset_counters()
    again, _ = await run(ArchiveStaleGates({"older_than": "90d"}), emulator, tmp_path)
    assert again.to_send == 0 and sent(emulator) == Counter()


async def test_overrides_add_then_remove(emulator, tmp_path) -> None:
    seed(emulator, gates=[gate("g1"), gate("g2")])
    emulator.reset_counters()
    job = Overrides({"kind": "gates", "add_passing": "u1,u2"})
    await run(job, emulator, tmp_path)
    assert sent(emulator) == Counter(
        {"PATCH /gates/g1/overrides": 1, "PATCH /gates/g2/overrides": 1}
    )
    emulator.reset_counters()
    again, _ = await run(Overrides({"kind": "gates", "add_passing": "u1,u2"}), emulator, tmp_path)
    assert again.to_send == 0
    await run(
        Overrides({"kind": "gates", "remove_passing": "u1", "where": ["name=g1"]}),
        emulator,
        tmp_path,
    )
    overrides = emulator.dump()["projects"]["default"]["overrides"]["gates"]
    assert overrides["g1"]["passingUserIDs"] == ["u2"]
    assert overrides["g2"]["passingUserIDs"] == ["u1", "u2"]


async def test_patch_sends_only_differing_entities(emulator, tmp_path) -> None:
    seed(emulator, gates=[gate("a1"), gate("a2", description="done"), gate("b1")])
    emulator.reset_counters()
    job = Patch({"kind": "gates", "where": ["name~a*"], "set": ["description=done"]})
    summary, _ = await run(job, emulator, tmp_path)
    assert summary.to_send == 1 and sent(emulator) == Counter({"PATCH /gates/a1": 1})
    assert entities(emulator, "gates")["a1"]["description"] == "done"


async def test_copy_experiment_with_segment_gate_and_layer(emulator, tmp_path) -> None:
    seed_source(emulator)  # checkout_a: targeting gate with a passes_segment rule, and a layer
    emulator.reset_counters()
    _, result = await run(
        CopyExperiments({"to": "target", "where": ["name=checkout_a"]}), emulator, tmp_path
    )
    assert result.exit_code == 0, result
    order = [m["path"].split("/console/v1")[-1] for m in emulator.mutation_log()]
    assert sorted(order) == ["/experiments", "/gates", "/layers", "/segments"]
    assert order.index("/segments") < order.index("/gates") < order.index("/experiments")
    assert order.index("/layers") < order.index("/experiments")
    experiment = entities(emulator, "experiments", "target")["checkout_a"]
    assert experiment["status"] == "setup"
    assert experiment["targetingGateID"] in entities(emulator, "gates", "target")
    assert experiment["layerID"] in entities(emulator, "layers", "target")
    target_gate = entities(emulator, "gates", "target")[experiment["targetingGateID"]]
    segment_ref = target_gate["rules"][0]["conditions"][0]["targetValue"]
    assert segment_ref == ["beta_users"] and "beta_users" in entities(
        emulator, "segments", "target"
    )
    emulator.reset_counters()
    again, _ = await run(
        CopyExperiments({"to": "target", "where": ["name=checkout_a"]}), emulator, tmp_path
    )
    assert again.to_send == 0 and sent(emulator) == Counter()


async def test_environment_overrides_add_then_remove(emulator, tmp_path) -> None:
    seed(emulator, gates=[gate("g1", idType="stableID")])
    add = {"kind": "gates", "add_passing": "d1,d2", "environment": "staging"}
    await run(Overrides(add), emulator, tmp_path)
    await run(Overrides({**add, "add_passing": None, "remove_passing": "d1"}), emulator, tmp_path)
    overrides = emulator.dump()["projects"]["default"]["overrides"]["gates"]["g1"]
    [env] = overrides["environmentOverrides"]
    assert (env["environment"], env["unitID"], env["passingIDs"]) == ("staging", "stableID", ["d2"])
    emulator.reset_counters()
    again, _ = await run(Overrides(add | {"add_passing": "d2"}), emulator, tmp_path)
    assert again.to_send == 0


def test_cli_attach_holdout_then_second_run_sends_nothing(emulator, tmp_path) -> None:
    seed(
        emulator,
        gates=[gate(f"g{i:03}") for i in range(120)],
        holdouts=[{"id": "h1", "name": "h1", "gateIDs": []}],
    )
    converges(emulator, tmp_path / "state", "attach-holdout", "--holdout", "h1")
    assert len(entities(emulator, "holdouts")["h1"]["gateIDs"]) == 120
