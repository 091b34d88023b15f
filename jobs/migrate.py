"""``bulkops run migrate --to TARGET``: make the target project hold what the source holds.

Selected entities (``--kinds``, ``--where``) of the source (connection ``"source"``: a project,
or an export file with ``--from-snapshot``) are migrated into the target (connection
``"target"``) with everything they name (pulled in, and reported as such): segments -> gates ->
dynamic configs -> layers -> experiments -> holdouts, every reference remapped to the target's
IDs, overrides and ID lists included; the tags and target apps they name that the target
lacks are created first (``bulkops.migrate.catalog``). An entity the target already holds
equal is not written; one that differs is a conflict unless ``--on-conflict`` says what to do (``skip``: leave it,
references point at it; ``update``: make it equal; ``rename``: migrate a copy under a new name
and point every migrated reference at the copy). With conflicts and no policy the plan stops
(exit 2) listing them, and nothing is sent. A re-run after success plans nothing; after the
source changed, with ``--on-conflict update`` (the nightly sync), exactly the differences.

The plan itself is made by ``bulkops.migrate`` (inventory, planner); its ID mapping and counts
per kind are in ``plan_meta()`` for the run's journal (meta ``id_map``, ``migration``).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from bulkops.errors import ConfigError
from bulkops.migrate.facts import MIGRATED_KINDS, parse_kinds
from bulkops.migrate.inventory import Inventory
from bulkops.migrate.operations import TARGET
from bulkops.migrate.plan import MigrationPlan
from bulkops.migrate.planner import POLICIES, MigrationPlanner
from bulkops.run.job import Item, Job, JobConfigError, Operation, ReadContext, Skip, Source
from bulkops.run.selection import Selection, build_selection, kind_of

__all__ = ["Migrate", "conflicts_message"]

#: Conflicts named one by one before "... and N more".
SHOWN_CONFLICTS = 20


class Migrate(Job):
    """Migrate segments, gates, dynamic configs, layers, experiments and holdouts."""

    name = "migrate"
    help = "migrate a project's entities (and all they name) to --to TARGET"
    projects = (TARGET,)
    project_options: ClassVar[Mapping[str, str]] = {TARGET: "to"}

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        snapshot = self.options.get("from_snapshot")
        if snapshot:  # stored with the run: absolute, so resume and verify find it again
            self.options["from_snapshot"] = str(Path(str(snapshot)).expanduser().resolve())
        self._kind_selections: dict[str, Selection] | None = None
        self._inventory: Inventory | None = None
        self.result: MigrationPlan | None = None

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--to",
            required=True,
            metavar="TARGET",
            help="the target project: its key from STATSIG_<TARGET>_CONSOLE_API_KEY "
            "(or STATSIG_TARGET_CONSOLE_API_KEY / --target-api-key)",
        )
        parser.add_argument(
            "--kinds",
            metavar="KIND,...",
            help=f"what to migrate (default all: {','.join(MIGRATED_KINDS)}); what they name "
            "is pulled in",
        )
        parser.add_argument(
            "--where",
            action="append",
            metavar="FIELD=VALUE",
            help="which entities, repeatable and AND-ed (e.g. tag=checkout)",
        )
        parser.add_argument(
            "--on-conflict",
            choices=POLICIES,
            default=None,
            help="a target entity differs from its source: skip (leave it), update it, or "
            "rename (migrate a copy); default: stop and list the conflicts",
        )
        parser.add_argument(
            "--from-snapshot",
            metavar="FILE",
            help="migrate from an export (bulkops export) instead of the source project",
        )

    @property
    def kinds(self) -> tuple[str, ...]:
        try:
            return parse_kinds(self.options.get("kinds"))
        except ValueError as exc:
            raise JobConfigError(f"--kinds: {exc}") from None

    @property
    def policy(self) -> str | None:
        policy = self.options.get("on_conflict")
        if policy is not None and policy not in POLICIES:
            raise JobConfigError(f"--on-conflict {policy!r}: choose skip, update or rename")
        return policy

    def selections(self) -> dict[str, Selection]:
        """The ``--where`` selection of every migrated kind."""
        if self._kind_selections is None:
            self.policy  # noqa: B018 - validates --on-conflict
            wheres = self.options.get("where") or []
            facts = {kind: kind_of(kind) for kind in self.kinds}
            known = set().union(*(f.known_fields | set(f.list_filters) for f in facts.values()))
            build_selection(wheres, known_fields=known, kind=", ".join(self.kinds))
            self._kind_selections = {
                kind: build_selection(wheres, server_filters=f.list_filters)
                for kind, f in facts.items()
            }
        return self._kind_selections

    def sources(self) -> Sequence[Source]:
        return [Source(kind, dict(sel.server)) for kind, sel in self.selections().items()]

    def own_connections(self) -> Mapping[str, Any]:
        """``--from-snapshot FILE``: the source is the export file, read-only (no source key)."""
        snapshot = self.options.get("from_snapshot")
        if not snapshot:
            return {}
        from bulkops.migrate.snapshot_source import SnapshotConnection

        try:
            return {"source": SnapshotConnection.from_file(str(snapshot))}
        except ConfigError as exc:
            raise JobConfigError(f"--from-snapshot: {exc}") from None

    async def prepare(self, ctx: ReadContext) -> None:
        self.selections()
        self._inventory = Inventory(ctx)
        await self._inventory.read_target()

    async def plan(
        self, items: AsyncIterable[Item], ctx: ReadContext
    ) -> AsyncIterator[Operation | Skip]:
        if self._inventory is None:
            await self.prepare(ctx)
        assert self._inventory is not None
        inventory, selections = self._inventory, self.selections()
        roots = []
        async for item in items:
            selection = selections[item.kind]
            if not selection.matches(item.data):
                yield Skip(item.key, f"not selected by {selection.describe()}")
                continue
            inventory.add_selected(item.kind, dict(item.data))
            roots.append((item.kind, item.id))
        await inventory.pull_in()
        await inventory.read_lists_and_matches(candidates=self.policy == "rename")
        await inventory.read_source_catalog()
        where = str(self.options.get("to") or TARGET)
        try:
            result = MigrationPlanner(inventory, roots, policy=self.policy, where=where).plan()
        except ValueError as exc:
            raise JobConfigError(str(exc)) from None
        if result.conflicts:
            raise JobConfigError(conflicts_message(result))
        self.result = result
        for step in result.steps:
            yield step

    def plan_meta(self) -> dict[str, Any]:
        """What the runner stores in the journal meta once the plan is frozen (JSON).

        ``id_map``: kind -> {source ID: target ID} (``renamed``: the new names of copies);
        ``migration``: counts per kind (create, update, equal, left, rename, pulled_in,
        blocked), ``summary``, the plan's per-kind lines for the plan view, and ``uncopied``:
        kind -> field -> how many migrated entities hold a field bulkops does not know.
        """
        if self.result is None:
            return {}
        counts = {kind: dict(c) for kind, c in self.result.counts.items()}
        summary = self.result.summary_lines()
        uncopied = {kind: dict(c) for kind, c in self.result.uncopied.items()}
        return {
            "id_map": self.result.id_map.to_meta(),
            "migration": {"counts": counts, "summary": summary, "uncopied": uncopied},
            "plan_lines": summary,
        }


def conflicts_message(plan: MigrationPlan) -> str:
    """The conflicts of a plan, for the error that stops it."""
    shown = [f"  {conflict}" for conflict in plan.conflicts[:SHOWN_CONFLICTS]]
    more = len(plan.conflicts) - len(shown)
    if more:
        shown.append(f"  ... and {more} more")
    count = len(plan.conflicts)
    head = f"{count} entit{'y' if count == 1 else 'ies'} of the target differ from the source"
    advice = (
        "choose what to do with them: --on-conflict skip (leave them as they are), update "
        "(make them equal to the source) or rename (migrate a copy under a new name)"
    )
    return "\n".join([f"{head}; nothing was sent:", *shown, advice])
