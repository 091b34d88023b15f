"""``Emitter``: the operations that put one source entity in the target, as the plan decided.

- **create** (the target lacks it, or a renamed copy is new): the create with what it takes
  (an experiment in ``setup``; a gate or segment in a reference cycle without its rules), then
  the ID list (reset/add in the largest chunks the API takes), a PATCH of what the create does
  not take (a layer's parameters, a holdout's lists and settings), and the override document in
  one request; the rules of cyclic entities in a second pass.
- **equal**: nothing (a ``Skip`` records where it landed when that is not obvious from its ID).
- **differs**: a conflict (no policy), left as is (``skip``), or (``update``) one PATCH of the
  differing fields, the ID-list calls, one overrides request; what the API cannot update (a
  segment's fields, an experiment's layer) is reported.

Each write waits (``depends_on``) only for the writes that make what it names exist: created
entities, and ID lists being filled. Everything else runs side by side.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bulkops.api.resources import get_kind, rule_references
from bulkops.migrate.desired import split_create, takes_id
from bulkops.migrate.facts import OVERRIDE_KINDS, empty_overrides, overrides_are_empty
from bulkops.migrate.graph import Ref, create_references, field_references, override_references
from bulkops.migrate.idlists import plan_id_copy
from bulkops.migrate.inventory import Inventory, Node
from bulkops.migrate.operations import (
    create_operation,
    fields_operation,
    overrides_operation,
    rules_operation,
    update_operation,
)
from bulkops.migrate.plan import Conflict, MigrationPlan
from bulkops.migrate.verdicts import Placement, Verdict, desired_of, desired_overrides
from bulkops.run.job import Operation, Skip

__all__ = ["Emitter"]

Entity = dict[str, Any]


class Emitter:
    """Appends each entity's operations and skips to ``plan`` (see the module docstring)."""

    def __init__(
        self,
        inventory: Inventory,
        placement: Placement,
        plan: MigrationPlan,
        *,
        policy: str | None,
        where: str,
    ) -> None:
        self.inv, self.placement, self.plan = inventory, placement, plan
        self.policy, self.where = policy, where
        #: (kind, source ID) -> key of the write that dependents wait for (None: nothing).
        self.ready: dict[Ref, str | None] = {}
        #: (ref, desired state) of each entity created, updated or equal: what the target's
        #: copies carry, so the tags and target apps they name must exist there.
        self.carried: list[tuple[Ref, Entity]] = []
        self._deferred: list[tuple[Node, str]] = []

    def place(self, ref: Ref, *, cyclic: bool, named_by: Ref | None) -> None:
        """Plan ``ref``: created, equal or differing (see the module docstring)."""
        node = self.inv.nodes[ref]
        counts = self.plan.counts.setdefault(node.kind, Counter())
        if not node.selected:
            counts["pulled_in"] += 1
        if self.placement.id_map.name_of(*ref):
            counts["rename"] += 1
        target = self.placement.counterparts.get(ref)
        verdict = self.placement.verdicts.get(ref)
        if target is None or verdict is None or verdict.equal or self.policy == "update":
            self.carried.append((ref, desired_of(node, self.placement)))
        if target is None:
            counts["create"] += 1
            self._create(node, cyclic, "" if node.selected else _pulled(named_by))
            return
        assert verdict is not None
        target_id = str(target["id"])
        if verdict.equal:
            counts["equal"] += 1
            self.ready[ref] = None
            if not node.selected or target_id != node.id:
                why = "equal in the target" if node.selected else "pulled in, equal in the target"
                self._skip(node, why, target_id)
        elif self.policy is None:
            counts["conflict"] += 1
            self.plan.conflicts.append(Conflict(node.kind, node.id, target_id, verdict.describe()))
        elif self.policy == "update":
            counts["update"] += 1
            self._update(node, target, verdict)
        else:
            counts["left"] += 1
            self.ready[ref] = None
            why = f"differs ({verdict.describe()}); left as is (--on-conflict {self.policy})"
            self._skip(node, why, target_id)

    def second_pass(self) -> None:
        """The rules of the entities created without them (they closed a reference cycle)."""
        for node, created_by in self._deferred:
            target_id = self.placement.id_map.target_id(*node.ref)
            rules = desired_of(node, self.placement)["rules"]
            needs = [created_by, *self._ready(rule_references(node.entity))]
            self._add(
                rules_operation(
                    node.kind,
                    target_id,
                    rules,
                    where=self.where,
                    depends_on=needs,
                    items=[node.item],
                )
            )

    # -- writes ------------------------------------------------------------------------------

    def _create(self, node: Node, cyclic: bool, note: str) -> None:
        target_id = self.placement.id_map.target_id(*node.ref)
        body, after = split_create(node.kind, desired_of(node, self.placement))
        if takes_id(node.kind):
            body["id"] = target_id
        rules_later = cyclic and bool(body.get("rules"))
        if rules_later:
            body["rules"] = []
        if node.kind == "experiments":
            body["status"] = "setup"  # never started in the target
        shell = {**node.entity, "rules": []} if rules_later else node.entity
        needs = self._ready(create_references(node.kind, shell))
        create = self._add(
            create_operation(
                node.kind,
                target_id,
                body,
                where=self.where,
                depends_on=needs,
                items=[node.item],
                note=note,
            )
        )
        ready = create.key
        if rules_later:
            self._deferred.append((node, create.key))
        if node.ids is not None:
            fill = plan_id_copy(
                target_id,
                body["type"],
                node.ids,
                created_by=create.key,
                item=node.item,
                where=self.where,
            )
            self.plan.steps.extend(fill)
            ready = fill[-1].key if fill else ready
        if after:
            needs = self._ready(field_references(node.kind, node.entity))
            patch = fields_operation(
                node.kind,
                target_id,
                after,
                where=self.where,
                created_by=create.key,
                depends_on=needs,
                items=[node.item],
            )
            self._add(patch)
            if node.kind == "layers":  # experiments in a layer use its parameters
                ready = patch.key
        if node.kind in OVERRIDE_KINDS and not overrides_are_empty(node.overrides):
            self._overrides(node, target_id, [create.key], before=None)
        self.ready[node.ref] = ready

    def _update(self, node: Node, target: Entity, verdict: Verdict) -> None:
        target_id = str(target["id"])
        desired = desired_of(node, self.placement)
        updatable = get_kind(node.kind).update_fields
        changed = {k: desired[k] for k in verdict.fields if k in updatable}
        cannot = [k for k in verdict.fields if k not in updatable]
        ready: str | None = None
        if "rules" in cannot and target.get("type") == "rule_based" == node.entity.get("type"):
            cannot.remove("rules")
            rules = self._add(
                rules_operation(
                    node.kind,
                    target_id,
                    desired["rules"],
                    where=self.where,
                    depends_on=self._ready(rule_references(node.entity)),
                    items=[node.item],
                    before=list(target.get("rules") or []),
                    why="--on-conflict update",
                )
            )
            ready = rules.key
        if changed:
            patch = self._add(
                update_operation(
                    node.kind,
                    target_id,
                    changed,
                    {k: target.get(k) for k in changed},
                    where=self.where,
                    depends_on=self._ready(
                        [*rule_references(node.entity), *field_references(node.kind, node.entity)]
                    ),
                    items=[node.item],
                )
            )
            ready = patch.key if node.kind == "layers" else ready
        if verdict.ids and node.ids is not None and target.get("type") == node.entity.get("type"):
            fill = plan_id_copy(
                target_id,
                str(target["type"]),
                node.ids,
                self.inv.target_ids.get(target_id, []),
                item=node.item,
                where=self.where,
            )
            self.plan.steps.extend(fill)
            ready = fill[-1].key if fill else ready
        elif verdict.ids:
            cannot.append("ID list (the segment types differ)")
        if verdict.overrides:
            before = self.inv.target_overrides.get((node.kind, target_id))
            self._overrides(node, target_id, [], before=before or {})
        if cannot:
            self._skip(
                node, f"{', '.join(cannot)} cannot be updated by the API; left as is", target_id
            )
        self.ready[node.ref] = ready

    def _overrides(
        self, node: Node, target_id: str, needs: list[str], *, before: Entity | None
    ) -> None:
        doc = desired_overrides(node, self.placement)
        if overrides_are_empty(doc):
            doc = empty_overrides(node.kind)
        refs = override_references(node.kind, node.overrides)
        self._add(
            overrides_operation(
                node.kind,
                target_id,
                doc,
                where=self.where,
                depends_on=[*needs, *self._ready(refs)],
                items=[node.item],
                before=before,
            )
        )

    # -- helpers -----------------------------------------------------------------------------

    def _ready(self, refs: list[Ref]) -> list[str]:
        """Keys of the writes that make ``refs`` exist (or fill them) in this plan."""
        keys = [self.ready.get(ref) for ref in refs]
        return [key for key in dict.fromkeys(keys) if key]

    def _add(self, operation: Operation) -> Operation:
        self.plan.steps.append(operation)
        return operation

    def _skip(self, node: Node, why: str, target_id: str) -> None:
        where = "" if target_id == node.id else f" (target {node.kind} {target_id})"
        self.plan.steps.append(Skip(node.item, f"{why}{where}"))


def _pulled(named_by: Ref | None) -> str:
    if named_by is None:
        return " (pulled in)"
    return f" (pulled in: named by {named_by[0].removesuffix('s')} {named_by[1]})"
