"""How users call the Python API and the job API; type-checked by mypy (tests/typing), never run.

A change that breaks this file breaks users' scripts and jobs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import bulkops
from bulkops import ExitCode, JobResult
from bulkops.api import MutationBudget
from bulkops.errors import BulkopsError, ConfigError, JobConfigError, NotConfirmedError
from bulkops.run import (
    Check,
    Item,
    Job,
    Lifecycle,
    ListEdit,
    LoggingHooks,
    Operation,
    PlanSummary,
    ReadContext,
    RunHooks,
    RunOutcome,
    RunSettings,
    Skip,
    Source,
)
from bulkops.run.job import PlanStep
from bulkops.testing import FakeReadContext, plan_job


class AddTag(Job):
    name = "add-tag"
    help = "tag selected gates"

    def sources(self) -> list[Source]:
        return [Source("gates", dict(self.selection("gates").server))]

    async def plan_item(self, item: Item, ctx: ReadContext) -> PlanStep:
        skip: Skip | None = self.unselected(item)
        if skip is not None:
            return skip
        overrides: dict[str, object] = await ctx.get(f"/gates/{item.id}/overrides", default={})
        del overrides
        path = f"/gates/{item.id}"
        return Operation(
            key=f"gate:{item.id}:tag",
            method="PATCH",
            path=path,
            check=Check(path, contains={"tags": ["x"]}),
            edits=(ListEdit("tags", add=("x",)),),
            undo=Operation(key=f"gate:{item.id}:untag", method="PATCH", path=path,
                           edits=(ListEdit("tags", remove=("x",)),)),
            items=(item.key,),
        )  # fmt: skip

    async def plan_end(self, ctx: ReadContext) -> Iterable[Operation | Skip]:
        sizes: list[int] = await ctx.gather(self._size, ["a", "b"])
        del sizes
        return ()

    async def _size(self, name: str) -> int:
        return len(name)


def confirm_small(plan: PlanSummary) -> bool:
    return plan.to_send < 100


def sync_usage(budget: MutationBudget) -> None:
    result: JobResult = bulkops.run_job(
        "overrides",
        kind="gates",
        add_passing="qa-1",
        api_key="console-x",
        base_url="http://127.0.0.1:8800/console/v1",
        keys={"target": "console-y"},
        state_dir=Path("state"),
        mutation_limits=["100/10s", (900, 900.0)],
        concurrency=16,
        read_concurrency=32,
        confirm=confirm_small,
        budgets={"source": budget},
    )
    code: ExitCode = result.exit_code
    ok: bool = result.ok and code == ExitCode.OK
    run_id: str | None = result.run_id
    rows: list[dict[str, object]] = result.report(failed_only=True) + result.changes()
    del ok, rows
    fleet = bulkops.run_job(
        "patch",
        projects=["prod-us", "prod-eu"],
        budget_url="redis://127.0.0.1:6379/0",
        projects_file="bulkops.toml",
        kind="gates",
        set=["description=fleet"],
        confirm=True,
    )
    del fleet
    if run_id is not None:
        bulkops.resume_run(run_id, confirm=True, state_dir=Path("state"), budget_url=None)
        bulkops.revert_run(run_id, force=True, dry_run=True)
    bulkops.run_job(AddTag, where=["tag=qa"], confirm=True)
    bulkops.run_job(AddTag({"where": ["tag=qa"]}), dry_run=True)
    spec, job = bulkops.build_job("patch", {"kind": "gates", "set": ["isEnabled=false"]})
    del spec, job
    migration = bulkops.run_job("migrate", to="prod", keys={"target": "console-..."})
    if migration.run_id is not None:
        check: bulkops.VerifyResult = bulkops.verify_run(migration.run_id, read_concurrency=8)
        verified_ok: bool = check.ok
        fields: str = ", ".join(d.field for d in check.differences)
        unknown: dict[str, int] = dict(check.not_compared.get("gates", {}))
        del verified_ok, fields, unknown
    written = bulkops.export_project("backup.json", kinds=["gates"], project="staging")
    count: int = written.entities.get("gates", 0) + written.ids
    line: str = written.describe()
    del count, line


async def async_usage() -> None:
    result: JobResult = await bulkops.arun_job("archive-stale-gates", older_than="90d")
    await bulkops.aresume_run(result.run_id, confirm=True)
    await bulkops.arevert_run("run-1", new_run_id="undo-1", hooks=LoggingHooks())
    verified: bulkops.VerifyResult = await bulkops.averify_run("run-1", state_dir="state")
    await bulkops.aexport_project(Path("backup.json"), kinds="gates,segments", read_concurrency=4)
    del verified
    outcome: RunOutcome = await Lifecycle(RunSettings(yes=True), RunHooks()).start(
        "add-tag", AddTag({})
    )
    del outcome
    plan: list[Operation | Skip] = await plan_job(AddTag({}), FakeReadContext())
    del plan


def errors() -> None:
    try:
        bulkops.run_job("overrides")
    except JobConfigError as exc:
        config: ConfigError = exc
        root: BulkopsError = config
        del root
    except NotConfirmedError as exc:
        print(exc.run_id)
