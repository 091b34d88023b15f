"""Planning the copy of one experiment into the target project, with what it needs there.

``ExperimentCopy.ensure`` walks an experiment's dependencies (targeting gate, the gates and
segments its rules name, recursively, and its layer) and plans, for each, what makes it exist in
the target: nothing when an entity of that ID or name already matches, else a create, or what
``--on-conflict`` says (skip, update, rename). What an entity should be in the target, what it
names and the operations that write it are the migration's shared pieces (``bulkops.migrate``:
``desired``, ``graph``, ``operations``, ``idlists``); this module only walks one experiment.
``CopyState`` is what the plan knows across experiments: the target's entities and the copies
planned so far; one experiment's copy is kept in it only if all of it plans.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bulkops.jobs.copy_state import TARGET, CopyState, Mapped, MissingSource

from bulkops.api.resources import get_kind
from bulkops.migrate.desired import desired_state, takes_id, unknown_fields
from bulkops.migrate.graph import create_references
from bulkops.migrate.idlists import has_id_list, plan_id_copy, read_ids
from bulkops.migrate.mapping import copy_names
from bulkops.migrate.operations import create_operation, rules_operation, update_operation
from bulkops.run.edits import contains
from bulkops.run.job import SOURCE, Operation, ReadContext, Skip

__all__ = ["ExperimentCopy"]

Entity = dict[str, Any]


class ExperimentCopy:
    """The operations copying one experiment; the mapping is kept only if all of it plans."""

    def __init__(self, state: CopyState, ctx: ReadContext, item_key: str) -> None:
        self.state, self.ctx, self.item_key = state, ctx, item_key
        self.mapped: dict[tuple[str, str], Mapped] = {}
        #: (kind, source ID) -> its fields that bulkops does not know (and cannot copy).
        self.unknown: dict[tuple[str, str], list[str]] = {}
        #: Entities this copy plans to create, by kind and target ID (kept if all of it plans).
        self.created: dict[str, dict[str, Entity]] = {}
        self.steps: list[Operation | Skip] = []
        #: Entities whose dependencies are being planned (a reference back to one is a cycle).
        self._visiting: set[tuple[str, str]] = set()
        #: Entities in a reference cycle: (kind, source ID) -> entity.
        self._cyclic: dict[tuple[str, str], Entity] = {}
        #: Created without rules: (kind, target ID, create key, source entity).
        self._deferred: list[tuple[str, str, str, Entity]] = []

    def _known(self, kind: str, source_id: str) -> Mapped | None:
        return self.mapped.get((kind, source_id)) or self.state.mapped.get((kind, source_id))

    async def ensure(self, kind: str, source_id: str, entity: Entity | None = None) -> Mapped:
        """Plan what makes ``source_id`` exist in the target; returns (target id, op key).

        References that close a cycle (A's rule names B, B's names A, or A names itself) cannot
        all exist at create time: such an entity is created without rules (a gate or segment
        without rules passes nobody: safe) and its rules are set in a second pass, once every
        entity they name exists (``finish``).
        """
        known = self._known(kind, source_id)
        if known is not None:
            return known
        if entity is None:
            entity = await self.state.source_entity(self.ctx, kind, source_id)
        depends: list[str] = []
        self._visiting.add((kind, source_id))
        for dep_kind, dep_id in create_references(kind, entity):
            if (dep_kind, dep_id) in self._visiting:
                self._cyclic[(kind, source_id)] = entity
                continue
            _, key = await self.ensure(dep_kind, dep_id)
            if key is not None:
                depends.append(key)
        self._visiting.discard((kind, source_id))
        ids = await read_ids(self.ctx, source_id, SOURCE) if has_id_list(entity) else None
        cyclic = self._cyclic.get((kind, source_id))
        placed = await self._place(kind, source_id, entity, tuple(depends), ids, cyclic)
        self.mapped[(kind, source_id)] = placed
        self.unknown[(kind, source_id)] = unknown_fields(kind, entity)
        return placed

    def finish(self) -> None:
        """Second pass: set the rules of the entities created without them (cycles)."""
        for kind, target_id, created_by, entity in self._deferred:
            needs = [created_by]
            for ref in create_references(kind, entity):
                placed = self._known(*ref)
                if placed is not None and placed[1] is not None:
                    needs.append(placed[1])
            rules = self._desired(kind, entity)["rules"]
            self.steps.append(
                rules_operation(
                    kind, target_id, rules, where=self.state.to, depends_on=needs, items=self._items
                )
            )

    @property
    def _items(self) -> tuple[str]:
        return (self.item_key,)

    def _target_id(self, kind: str, source_id: str) -> str:
        known = self._known(kind, source_id)
        return known[0] if known else source_id

    def _desired(self, kind: str, entity: Entity) -> Entity:
        return desired_state(kind, entity, self._target_id)

    async def _place(
        self,
        kind: str,
        source_id: str,
        entity: Entity,
        depends: tuple[str, ...],
        ids: list[str] | None,
        cyclic: Entity | None,
    ) -> Mapped:
        """Reuse, update or create; ``ids``: the source's ID list (ID-list segments only);
        ``cyclic``: the source entity when it is in a reference cycle (rules set later)."""
        desired = self._desired(kind, entity)
        existing = self._existing(kind, source_id, entity.get("name"))
        if existing is None:
            return source_id, self._create(kind, source_id, desired, depends, ids, cyclic)
        target_id = str(existing["id"])
        current = await self._current_ids(kind, existing, desired, ids)
        same_fields = contains(existing, desired)
        if same_fields and (ids is None or (current is not None and set(current) == set(ids))):
            return target_id, None
        mode = self.state.on_conflict
        if mode == "rename":
            return await self._rename(kind, source_id, desired, depends, ids, cyclic)
        if mode == "update" and ids is not None and current is not None:
            if not same_fields:
                self._left_as_is(kind, target_id, "differs; its fields cannot be updated")
            return target_id, self._fill(target_id, desired, ids, current)
        if mode == "update" and get_kind(kind).update_method:
            return target_id, self._update(kind, existing, desired, depends)
        why = "cannot be updated" if mode == "update" else "left as is (--on-conflict skip)"
        self._left_as_is(kind, target_id, f"differs; {why}")
        return target_id, None

    async def _current_ids(
        self, kind: str, existing: Entity, desired: Entity, ids: list[str] | None
    ) -> list[str] | None:
        """The IDs of an existing segment of the copy's type (None: nothing to compare)."""
        if ids is None or existing.get("type") != desired.get("type"):
            return None
        target_id = str(existing["id"])
        if self._planned(kind, target_id):
            raise MissingSource(f"segment {target_id} is the copy of another segment already")
        return await read_ids(self.ctx, target_id, TARGET)

    def _left_as_is(self, kind: str, target_id: str, why: str) -> None:
        self.steps.append(
            Skip(
                self.item_key,
                f"{kind} {target_id} exists in the target and {why}; references point at it",
                blocked=False,
            )
        )

    def _find(self, kind: str, target_id: str) -> Entity | None:
        """The target's entity, or one planned so far; None when the ID is free."""
        planned = self.created.get(kind, {}).get(target_id)
        return planned if planned is not None else self.state.target.get(kind, {}).get(target_id)

    def _planned(self, kind: str, target_id: str) -> bool:
        """True when the entity is not in the target yet but created by this plan."""
        ours = self.created.get(kind, {})
        return target_id in ours or target_id in self.state.created.get(kind, set())

    def _existing(self, kind: str, source_id: str, name: Any) -> Entity | None:
        found = self._find(kind, source_id)
        if found is not None or not name:
            return found
        tables = (self.state.target.get(kind, {}), self.created.get(kind, {}))
        return next((e for t in tables for e in t.values() if e.get("name") == name), None)

    async def _rename(
        self,
        kind: str,
        source_id: str,
        desired: Entity,
        depends: tuple[str, ...],
        ids: list[str] | None,
        cyclic: Entity | None,
    ) -> Mapped:
        for candidate in copy_names(source_id):
            renamed = {**desired, "name": candidate}
            found = self._find(kind, candidate)
            if found is None:
                return candidate, self._create(kind, candidate, renamed, depends, ids, cyclic)
            if not contains(found, renamed):
                continue
            if ids is None:
                return candidate, None
            if not self._planned(kind, candidate):
                # A copy an earlier run made: give it the source's IDs.
                current = await read_ids(self.ctx, candidate, TARGET)
                return candidate, self._fill(candidate, renamed, ids, current)
        raise MissingSource(f"no free name for a copy of {kind} {source_id}")

    def _fill(
        self, target_id: str, desired: Entity, ids: list[str], current: Sequence[str]
    ) -> str | None:
        """Plan the calls making an existing segment's IDs ``ids``; the last key, or None."""
        calls = plan_id_copy(
            target_id, str(desired["type"]), ids, current, item=self.item_key, where=self.state.to
        )
        self.steps.extend(calls)
        return calls[-1].key if calls else None

    def _create(
        self,
        kind: str,
        target_id: str,
        desired: Entity,
        depends: tuple[str, ...],
        ids: list[str] | None,
        cyclic: Entity | None,
    ) -> str:
        """Plan the create (then the ID list's fill); returns the key dependents wait for.

        ``cyclic`` (the source entity, when in a reference cycle): created without its rules,
        which ``finish`` sets once what they name exists.
        """
        body = dict(desired)
        if takes_id(kind):
            body["id"] = target_id
        rules_later = cyclic is not None and bool(body.get("rules"))
        if rules_later:
            body["rules"] = []
        if kind == "experiments":
            body["status"] = "setup"
        create = create_operation(
            kind, target_id, body, where=self.state.to, depends_on=depends, items=self._items
        )
        self.steps.append(create)
        self.created.setdefault(kind, {})[target_id] = {"id": target_id, **body}
        if rules_later and cyclic is not None:
            self._deferred.append((kind, target_id, create.key, cyclic))
        if ids is None:
            return create.key
        fill = plan_id_copy(
            target_id,
            body["type"],
            ids,
            created_by=create.key,
            item=self.item_key,
            where=self.state.to,
        )
        self.steps.extend(fill)
        return fill[-1].key if fill else create.key

    def _update(
        self, kind: str, existing: Entity, desired: Entity, depends: tuple[str, ...]
    ) -> str:
        target_id = str(existing["id"])
        update_fields = get_kind(kind).update_fields
        changed = {
            k: v
            for k, v in desired.items()
            if k in update_fields and not contains(existing.get(k), v)
        }
        operation = update_operation(
            kind,
            target_id,
            changed,
            {k: existing.get(k) for k in changed},
            where=self.state.to,
            depends_on=depends,
            items=self._items,
        )
        self.steps.append(operation)
        return operation.key
