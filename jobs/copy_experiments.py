"""``bulkops run copy-experiments --to TARGET``: copy experiments into another project.

Each selected experiment arrives in the target (connection ``"target"``) with what it needs
there: its targeting gate, the gates and segments that gate's rule conditions name (recursively)
and its layer. Creates run in dependency order (segments -> gates -> layer -> experiment, via
``depends_on``), every reference is rewritten to the target's IDs, and experiments are created in
``setup`` state (never started). An entity of the same ID or name already in the target is reused
when it already matches the copy; when it differs, ``--on-conflict`` decides: ``skip`` (reuse it
as is, reported), ``update`` (PATCH the differing fields) or ``rename`` (create ``<id>_copy``).
A re-run after success therefore plans nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Any

from bulkops.jobs.kinds import KindFacts, is_not_found, kind_facts
from bulkops.jobs.references import condition_references, remap_conditions
from bulkops.jobs.selection import Selection, selection_for

from bulkops.run.job import Check, Item, Job, JobConfigError, Operation, ReadContext, Skip, Source

__all__ = ["CopyExperiments"]

TARGET = "target"
CONFLICT_MODES = ("skip", "update", "rename")
#: Kinds an experiment may need in the target, in the order they are created.
DEPENDENCY_KINDS = ("segments", "gates", "layers", "experiments")
#: Fields that belong to the source project (people, teams, pipelines, apps) or to its history.
PROJECT_BOUND = frozenset(
    {
        "creatorID",
        "creatorEmail",
        "team",
        "teamID",
        "releasePipelineID",
        "targetApps",
        "status",
        "launchedGroupID",
        "decisionReason",
        "holdoutIDs",
        "reviewSettings",
    }
)
RULE_SERVER_FIELDS = frozenset(
    {"id", "baseID", "completedAutomatedRollouts", "pendingAutomatedRollouts"}
)


class _MissingSource(Exception):
    """A dependency named by a copied entity does not exist in the source project."""


def _contains(actual: Any, expected: Any) -> bool:
    """Dicts: every expected key matches; lists: every expected element is present."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _contains(actual[k], v) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(
            any(_contains(a, e) for a in actual) for e in expected
        )
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(actual) == float(expected)
    return bool(actual == expected)


class CopyExperiments(Job):
    """Copy selected experiments, with their gates, segments and layer, into another project."""

    name = "copy-experiments"
    help = "copy selected experiments (and the gates/segments/layer they need) to --to TARGET"
    projects = (TARGET,)

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self._selection: Selection | None = None
        self._target: dict[str, dict[str, dict[str, Any]]] = {}
        self._source_cache: dict[tuple[str, str], dict[str, Any]] = {}
        self._mapped: dict[tuple[str, str], tuple[str, str | None]] = {}

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--to",
            required=True,
            metavar="TARGET",
            help="name of the target project (its key: --target-api-key or "
            "STATSIG_TARGET_CONSOLE_API_KEY)",
        )
        parser.add_argument(
            "--where",
            action="append",
            metavar="FIELD=VALUE",
            help="which experiments, repeatable and AND-ed",
        )
        parser.add_argument(
            "--on-conflict",
            choices=CONFLICT_MODES,
            default="skip",
            help="an entity of that name exists in the target and differs: "
            "skip (reuse it), update it, or rename the copy",
        )

    @property
    def on_conflict(self) -> str:
        mode = self.options.get("on_conflict") or "skip"
        if mode not in CONFLICT_MODES:
            raise JobConfigError(f"--on-conflict {mode!r}: choose skip, update or rename")
        return str(mode)

    def selection(self) -> Selection:
        if self._selection is None:
            self.on_conflict  # noqa: B018 - validates --on-conflict
            self._selection = selection_for(kind_facts("experiments"), self.options.get("where"))
        return self._selection

    def sources(self) -> Sequence[Source]:
        return [Source("experiments", dict(self.selection().server))]

    async def prepare(self, ctx: ReadContext) -> None:
        self.selection()
        for kind in DEPENDENCY_KINDS:
            self._target[kind] = {str(e["id"]): e async for e in ctx.list(kind, project=TARGET)}

    async def plan(
        self, items: AsyncIterable[Item], ctx: ReadContext
    ) -> AsyncIterator[Operation | Skip]:
        if not self._target:
            await self.prepare(ctx)
        selection = self.selection()
        async for item in items:
            if not selection.matches(item.data):
                yield Skip(item.key, f"not selected by {selection.describe()}")
                continue
            copier = _Copy(self, ctx, item.key)
            try:
                await copier.ensure("experiments", item.id, dict(item.data))
            except _MissingSource as exc:
                yield Skip(item.key, f"cannot copy: {exc}", blocked=True)
                continue
            self._mapped.update(copier.mapped)
            for step in copier.steps:
                yield step

    async def source_entity(self, ctx: ReadContext, kind: str, entity_id: str) -> dict[str, Any]:
        key = (kind, entity_id)
        if key not in self._source_cache:
            try:
                path = kind_facts(kind).entity_path(entity_id)
                self._source_cache[key] = dict(await ctx.get(path))
            except Exception as exc:
                if is_not_found(exc):
                    raise _MissingSource(
                        f"{kind} {entity_id} does not exist in the source"
                    ) from None
                raise
        return self._source_cache[key]


class _Copy:
    """The operations copying one experiment; the mapping is kept only if all of it plans."""

    def __init__(self, job: CopyExperiments, ctx: ReadContext, item_key: str) -> None:
        self.job, self.ctx, self.item_key = job, ctx, item_key
        self.mapped: dict[tuple[str, str], tuple[str, str | None]] = {}
        self.steps: list[Operation | Skip] = []

    def _known(self, kind: str, source_id: str) -> tuple[str, str | None] | None:
        return self.mapped.get((kind, source_id)) or self.job._mapped.get((kind, source_id))

    async def ensure(
        self, kind: str, source_id: str, entity: dict[str, Any] | None = None
    ) -> tuple[str, str | None]:
        """Plan what makes ``source_id`` exist in the target; returns (target id, op key)."""
        known = self._known(kind, source_id)
        if known is not None:
            return known
        if entity is None:
            entity = await self.job.source_entity(self.ctx, kind, source_id)
        depends: list[str] = []
        for dep_kind, dep_id in _dependencies(kind, entity):
            if (dep_kind, dep_id) == (kind, source_id):
                continue
            _, key = await self.ensure(dep_kind, dep_id)
            if key is not None:
                depends.append(key)
        facts = kind_facts(kind)
        desired = self._desired(facts, entity)
        result = self._place(facts, source_id, entity, desired, tuple(dict.fromkeys(depends)))
        self.mapped[(kind, source_id)] = result
        return result

    def _target_id(self, kind: str, source_id: str) -> str:
        known = self._known(kind, source_id)
        return known[0] if known else source_id

    def _desired(self, facts: KindFacts, entity: dict[str, Any]) -> dict[str, Any]:
        body = {
            k: v
            for k, v in entity.items()
            if k in facts.create_fields and k not in PROJECT_BOUND and k != "id"
        }
        if "rules" in body:
            rules = remap_conditions(body["rules"], self._target_id)
            body["rules"] = [
                {k: v for k, v in r.items() if k not in RULE_SERVER_FIELDS} for r in rules
            ]
        for field, ref_kind in (("targetingGateID", "gates"), ("layerID", "layers")):
            if body.get(field):
                body[field] = self._target_id(ref_kind, str(body[field]))
        return {k: v for k, v in body.items() if v is not None}

    def _place(
        self,
        facts: KindFacts,
        source_id: str,
        entity: dict[str, Any],
        desired: dict[str, Any],
        depends: tuple[str, ...],
    ) -> tuple[str, str | None]:
        existing = self._existing(facts.name, source_id, entity.get("name"))
        if existing is None:
            return source_id, self._create(facts, source_id, desired, depends)
        if _contains(existing, desired):
            return str(existing["id"]), None
        mode = self.job.on_conflict
        if mode == "update" and facts.update_method:
            return str(existing["id"]), self._update(facts, existing, desired, depends)
        if mode == "rename":
            return self._rename(facts, source_id, desired, depends)
        why = "cannot be updated" if mode == "update" else "left as is (--on-conflict skip)"
        self.steps.append(
            Skip(
                self.item_key,
                f"{facts.name} {existing['id']} exists in the target and differs; "
                f"{why}; references point at it",
                blocked=False,
            )
        )
        return str(existing["id"]), None

    def _existing(self, kind: str, source_id: str, name: Any) -> dict[str, Any] | None:
        target = self.job._target.get(kind, {})
        if source_id in target:
            return target[source_id]
        return next((e for e in target.values() if name and e.get("name") == name), None)

    def _rename(
        self, facts: KindFacts, source_id: str, desired: dict[str, Any], depends: tuple[str, ...]
    ) -> tuple[str, str | None]:
        target = self.job._target.get(facts.name, {})
        for n in range(1, 100):
            candidate = f"{source_id}_copy" if n == 1 else f"{source_id}_copy{n}"
            renamed = {**desired, "name": candidate}
            if candidate not in target:
                return candidate, self._create(facts, candidate, renamed, depends)
            if _contains(target[candidate], renamed):
                return candidate, None
        raise _MissingSource(f"no free name for a copy of {facts.name} {source_id}")

    def _create(
        self, facts: KindFacts, target_id: str, desired: dict[str, Any], depends: tuple[str, ...]
    ) -> str:
        body = dict(desired)
        if "id" in facts.create_fields:
            body["id"] = target_id
        if facts.name == "experiments":
            body["status"] = "setup"
        path = facts.entity_path(target_id)
        key = f"{TARGET}:{facts.name}:{target_id}:create"
        self.steps.append(
            Operation(
                key=key,
                method="POST",
                path=facts.path,
                body=body,
                project=TARGET,
                description=f"create {facts.name.removesuffix('s')} {target_id} in {self._to()}",
                check=Check(path),
                creates=True,
                depends_on=depends,
                items=(self.item_key,),
                undo=Operation(
                    key=f"{key}:undo",
                    method="DELETE",
                    path=path,
                    project=TARGET,
                    description=f"delete {facts.name} {target_id} from {self._to()}",
                    check=Check(path, absent=True),
                ),
            )
        )
        self.job._target.setdefault(facts.name, {})[target_id] = {"id": target_id, **body}
        return key

    def _update(
        self,
        facts: KindFacts,
        existing: dict[str, Any],
        desired: dict[str, Any],
        depends: tuple[str, ...],
    ) -> str:
        target_id = str(existing["id"])
        changed = {
            k: v
            for k, v in desired.items()
            if k in facts.update_fields and not _contains(existing.get(k), v)
        }
        path = facts.entity_path(target_id)
        key = f"{TARGET}:{facts.name}:{target_id}:update"
        self.steps.append(
            Operation(
                key=key,
                method=facts.update_method or "PATCH",
                path=path,
                body=changed,
                project=TARGET,
                check=Check(path, contains=changed),
                depends_on=depends,
                before={k: existing.get(k) for k in changed},
                items=(self.item_key,),
                description=f"update {facts.name} {target_id} in {self._to()}: "
                + ", ".join(sorted(changed)),
            )
        )
        return key

    def _to(self) -> str:
        return str(self.job.options.get("to") or TARGET)


def _dependencies(kind: str, entity: dict[str, Any]) -> list[tuple[str, str]]:
    """What ``entity`` needs in the target first, in creation order."""
    deps = list(condition_references(entity))
    if kind == "experiments":
        if entity.get("targetingGateID"):
            deps.append(("gates", str(entity["targetingGateID"])))
        if entity.get("layerID"):
            deps.append(("layers", str(entity["layerID"])))
    order = {k: i for i, k in enumerate(DEPENDENCY_KINDS)}
    return sorted(dict.fromkeys(deps), key=lambda d: order[d[0]])
