"""Planning the copy of one experiment into the target project, with what it needs there.

``ExperimentCopy.ensure`` walks an experiment's dependencies (targeting gate, the gates and
segments its rules name, recursively, and its layer) and plans, for each, what makes it exist in
the target: nothing when an entity of that ID or name already matches, else a create, or what
``--on-conflict`` says (skip, update, rename). References are rewritten to the target's IDs.
ID-list segments are compared and filled with their IDs (``bulkops.jobs.segment_ids``).
``CopyState`` is what the plan knows across experiments: the target's entities and the copies
planned so far; one experiment's copy is kept in it only if all of it plans.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from bulkops.jobs.copy_state import (
    COMPUTED_GATE_TYPES,
    CREATABLE_GATE_TYPES,
    DEPENDENCY_KINDS,
    PROJECT_BOUND,
    RULE_SERVER_FIELDS,
    TARGET,
    CopyState,
    Mapped,
    MissingSource,
    matches,
)
from bulkops.jobs.kinds import KindFacts, kind_facts
from bulkops.jobs.references import condition_references, remap_conditions
from bulkops.jobs.segment_ids import ID_LIST_TYPES, plan_id_copy, read_ids, same_ids

from bulkops.run.job import SOURCE, Check, Operation, ReadContext, Skip

__all__ = ["ExperimentCopy"]


class ExperimentCopy:
    """The operations copying one experiment; the mapping is kept only if all of it plans."""

    def __init__(self, state: CopyState, ctx: ReadContext, item_key: str) -> None:
        self.state, self.ctx, self.item_key = state, ctx, item_key
        self.mapped: dict[tuple[str, str], Mapped] = {}
        #: Entities this copy plans to create, by kind and target ID (kept if all of it plans).
        self.created: dict[str, dict[str, dict[str, Any]]] = {}
        self.steps: list[Operation | Skip] = []
        #: Entities whose dependencies are being planned (a reference back to one is a cycle).
        self._visiting: set[tuple[str, str]] = set()
        #: Entities in a reference cycle: (kind, source ID) -> entity.
        self._cyclic: dict[tuple[str, str], dict[str, Any]] = {}
        #: The entity ``_place`` is placing; its create leaves rules out when it is cyclic.
        self._placing: tuple[str, str] = ("", "")
        #: Created without rules: (kind facts, target ID, create key, source entity).
        self._deferred: list[tuple[KindFacts, str, str, dict[str, Any]]] = []

    def _known(self, kind: str, source_id: str) -> tuple[str, str | None] | None:
        return self.mapped.get((kind, source_id)) or self.state.mapped.get((kind, source_id))

    async def ensure(
        self, kind: str, source_id: str, entity: dict[str, Any] | None = None
    ) -> tuple[str, str | None]:
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
        for dep_kind, dep_id in _dependencies(kind, entity):
            if (dep_kind, dep_id) in self._visiting:
                self._cyclic[(kind, source_id)] = entity
                continue
            _, key = await self.ensure(dep_kind, dep_id)
            if key is not None:
                depends.append(key)
        self._visiting.discard((kind, source_id))
        facts = kind_facts(kind)
        desired = self._desired(facts, entity)
        needs = tuple(dict.fromkeys(depends))
        ids = None
        if kind == "segments" and entity.get("type") in ID_LIST_TYPES:
            ids = await read_ids(self.ctx, source_id, SOURCE)
        self._placing = (kind, source_id)
        result = await self._place(facts, source_id, entity, desired, needs, ids)
        self.mapped[(kind, source_id)] = result
        return result

    def finish(self) -> None:
        """Second pass: set the rules of the entities created without them (cycles)."""
        for facts, target_id, created_by, entity in self._deferred:
            rules = self._desired(facts, entity)["rules"]
            needs = [created_by]
            for dep_kind, dep_id in _dependencies(facts.name, entity):
                placed = self._known(dep_kind, dep_id)
                if placed is not None and placed[1] is not None:
                    needs.append(placed[1])
            path = facts.entity_path(target_id)
            method, to = ("PATCH", path) if facts.update_method else ("POST", path + "/conditional")
            key = f"{TARGET}:{facts.name}:{target_id}:rules"
            self.steps.append(
                Operation(
                    key=key,
                    method=method,
                    path=to,
                    body={"rules": rules} if method == "PATCH" else rules,
                    project=TARGET,
                    description=f"set the rules of {facts.name.removesuffix('s')} {target_id} "
                    f"in {self.state.to} (they name entities created after it)",
                    check=Check(path, contains={"rules": rules}),
                    depends_on=tuple(dict.fromkeys(needs)),
                    items=(self.item_key,),
                )
            )

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
        for name, ref_kind in (("targetingGateID", "gates"), ("layerID", "layers")):
            if body.get(name):
                body[name] = self._target_id(ref_kind, str(body[name]))
        if facts.name == "gates" and body.get("type") not in CREATABLE_GATE_TYPES:
            body["type"] = COMPUTED_GATE_TYPES.get(str(body.get("type")))
        return {k: v for k, v in body.items() if v is not None}

    async def _place(
        self,
        facts: KindFacts,
        source_id: str,
        entity: dict[str, Any],
        desired: dict[str, Any],
        depends: tuple[str, ...],
        ids: list[str] | None,
    ) -> tuple[str, str | None]:
        """Reuse, update or create; ``ids``: the source's ID list (ID-list segments only)."""
        existing = self._existing(facts.name, source_id, entity.get("name"))
        if existing is None:
            return source_id, self._create(facts, source_id, desired, depends, ids)
        target_id = str(existing["id"])
        current = await self._current_ids(facts, existing, desired, ids)
        same_fields = matches(existing, desired)
        if same_fields and (ids is None or same_ids(current, ids)):
            return target_id, None
        mode = self.state.on_conflict
        if mode == "rename":
            return await self._rename(facts, source_id, desired, depends, ids)
        if mode == "update" and ids is not None and current is not None:
            if not same_fields:
                self._left_as_is(facts, target_id, "differs; its fields cannot be updated")
            return target_id, self._fill(target_id, desired, ids, current)
        if mode == "update" and facts.update_method:
            return target_id, self._update(facts, existing, desired, depends)
        why = "cannot be updated" if mode == "update" else "left as is (--on-conflict skip)"
        self._left_as_is(facts, target_id, f"differs; {why}")
        return target_id, None

    async def _current_ids(
        self,
        facts: KindFacts,
        existing: dict[str, Any],
        desired: dict[str, Any],
        ids: list[str] | None,
    ) -> list[str] | None:
        """The IDs of an existing segment of the copy's type (None: nothing to compare)."""
        if ids is None or existing.get("type") != desired.get("type"):
            return None
        target_id = str(existing["id"])
        if self._planned(facts.name, target_id):
            raise MissingSource(f"segment {target_id} is the copy of another segment already")
        return await read_ids(self.ctx, target_id, TARGET)

    def _left_as_is(self, facts: KindFacts, target_id: str, why: str) -> None:
        self.steps.append(
            Skip(
                self.item_key,
                f"{facts.name} {target_id} exists in the target and {why}; references point at it",
                blocked=False,
            )
        )

    def _find(self, kind: str, target_id: str) -> dict[str, Any] | None:
        """The target's entity, or one planned so far; None when the ID is free."""
        planned = self.created.get(kind, {}).get(target_id)
        return planned if planned is not None else self.state.target.get(kind, {}).get(target_id)

    def _planned(self, kind: str, target_id: str) -> bool:
        """True when the entity is not in the target yet but created by this plan."""
        ours = self.created.get(kind, {})
        return target_id in ours or target_id in self.state.created.get(kind, set())

    def _existing(self, kind: str, source_id: str, name: Any) -> dict[str, Any] | None:
        found = self._find(kind, source_id)
        if found is not None or not name:
            return found
        tables = (self.state.target.get(kind, {}), self.created.get(kind, {}))
        return next((e for t in tables for e in t.values() if e.get("name") == name), None)

    async def _rename(
        self,
        facts: KindFacts,
        source_id: str,
        desired: dict[str, Any],
        depends: tuple[str, ...],
        ids: list[str] | None,
    ) -> tuple[str, str | None]:
        for candidate in _copy_names(source_id):
            renamed = {**desired, "name": candidate}
            found = self._find(facts.name, candidate)
            if found is None:
                return candidate, self._create(facts, candidate, renamed, depends, ids)
            if not matches(found, renamed):
                continue
            if ids is None:
                return candidate, None
            if not self._planned(facts.name, candidate):
                # A copy an earlier run made: give it the source's IDs.
                current = await read_ids(self.ctx, candidate, TARGET)
                return candidate, self._fill(candidate, renamed, ids, current)
        raise MissingSource(f"no free name for a copy of {facts.name} {source_id}")

    def _fill(
        self, target_id: str, desired: dict[str, Any], ids: list[str], current: Sequence[str]
    ) -> str | None:
        """Plan the calls making an existing segment's IDs ``ids``; the last key, or None."""
        calls = plan_id_copy(
            target_id, str(desired["type"]), ids, current, item=self.item_key, where=self.state.to
        )
        self.steps.extend(calls)
        return calls[-1].key if calls else None

    def _create(
        self,
        facts: KindFacts,
        target_id: str,
        desired: dict[str, Any],
        depends: tuple[str, ...],
        ids: list[str] | None = None,
    ) -> str:
        """Plan the create (then the ID list's fill); returns the key dependents wait for."""
        body = dict(desired)
        if "id" in facts.create_fields:
            body["id"] = target_id
        rules_later = self._placing in self._cyclic and bool(body.get("rules"))
        if rules_later:
            body["rules"] = []
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
                description=f"create {facts.name.removesuffix('s')} {target_id} in {self.state.to}",
                check=Check(path),
                creates=True,
                depends_on=depends,
                items=(self.item_key,),
                undo=Operation(
                    key=f"{key}:undo",
                    method="DELETE",
                    path=path,
                    project=TARGET,
                    description=f"delete {facts.name} {target_id} from {self.state.to}",
                    check=Check(path, absent=True),
                ),
            )
        )
        self.created.setdefault(facts.name, {})[target_id] = {"id": target_id, **body}
        if rules_later:
            self._deferred.append((facts, target_id, key, self._cyclic[self._placing]))
        if ids is None:
            return key
        fill = plan_id_copy(
            target_id, body["type"], ids, created_by=key, item=self.item_key, where=self.state.to
        )
        self.steps.extend(fill)
        return fill[-1].key if fill else key

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
            if k in facts.update_fields and not matches(existing.get(k), v)
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
                description=f"update {facts.name} {target_id} in {self.state.to}: "
                + ", ".join(sorted(changed)),
            )
        )
        return key


def _copy_names(source_id: str) -> Iterator[str]:
    """``<id>_copy``, ``<id>_copy2``, ... ``<id>_copy99``."""
    yield f"{source_id}_copy"
    for n in range(2, 100):
        yield f"{source_id}_copy{n}"


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
