"""A user job file for the CLI tests (`bulkops run tests/run/jobfile.py ...`).

It creates ``--count`` gates (POST, not idempotent), adds a rule to each (POST …/rules, not
idempotent), patches their description, and attaches them all to a holdout with a ``ListEdit``.
Gates that already exist are left to the per-gate operations' checks.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterable, AsyncIterator

from bulkops.api.errors import NotFoundError
from bulkops.run import (
    Check,
    Item,
    Job,
    JobConfigError,
    ListEdit,
    Operation,
    ReadContext,
    Skip,
    Source,
)

RULE = {"name": "bulk_rule", "passPercentage": 100, "conditions": [{"type": "public"}]}


class BulkGates(Job):
    name = "bulk-gates"
    help = "create gates with a rule, edit them, attach them to a holdout"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--count", type=int, default=10)
        parser.add_argument("--prefix", default="bulk_gate")
        parser.add_argument("--holdout", default="bulk_holdout")

    def sources(self) -> list[Source]:
        return [Source("gates")]

    async def prepare(self, ctx: ReadContext) -> None:
        try:
            await ctx.get(f"/holdouts/{self.options['holdout']}")
        except NotFoundError as exc:
            raise JobConfigError(f"holdout {self.options['holdout']!r} not found") from exc

    async def plan(
        self, items: AsyncIterable[Item], ctx: ReadContext
    ) -> AsyncIterator[Operation | Skip]:
        existing = {item.id: item.data async for item in items}
        ids = [f"{self.options['prefix']}_{i:04d}" for i in range(self.options["count"])]
        creates = []
        for gid in ids:
            path = f"/gates/{gid}"
            if gid in existing:
                yield Skip(f"source:gates:{gid}", "exists already")
                continue
            creates.append(f"{gid}:create")
            yield Operation(
                f"{gid}:create",
                "POST",
                "/gates",
                body={"name": gid, "description": "created"},
                description=f"create gate {gid}",
                creates=True,
                check=Check(path),
                undo=Operation(f"{gid}:delete", "DELETE", path),
            )
            yield Operation(
                f"{gid}:rule",
                "POST",
                f"{path}/rules",
                body={"rules": [RULE]},
                description=f"add a rule to {gid}",
                creates=True,
                check=Check(path, contains={"rules": [{"name": RULE["name"]}]}),
                depends_on=(f"{gid}:create",),
            )
            yield Operation(
                f"{gid}:describe",
                "PATCH",
                path,
                body={"description": "bulk edited"},
                description=f"describe {gid}",
                before={"description": "created"},
                check=Check(path, contains={"description": "bulk edited"}),
                depends_on=(f"{gid}:rule",),
            )
        holdout = self.options["holdout"]
        yield Operation(
            f"holdout:{holdout}:attach",
            "PATCH",
            f"/holdouts/{holdout}",
            description=f"attach {len(ids)} gates to {holdout}",
            check=Check(f"/holdouts/{holdout}"),
            edits=(ListEdit("gateIDs", add=tuple(ids)),),
            depends_on=tuple(creates),
            items=tuple(f"source:gates:{gid}" for gid in ids),
        )
