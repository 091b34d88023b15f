"""``MigrationPlanner``: from an inventory to the operations of a migration, in one pass.

1. **Blocked**: an entity naming one the source lacks is blocked, and so is every entity naming a
   blocked one (it could not be created with its references).
2. **Needed**: the selected entities that are not blocked, and what they name (pulled in).
3. **Order**: create-time references first (``graph.dependency_order``); an entity closing a
   reference cycle is created without its rules, given them in a second pass.
4. **Mapping** (``verdicts.assign``): where each entity lands and how it compares.
5. **Operations** (``emit``): create what the target lacks (then what the create cannot take,
   the ID list, the overrides); for a counterpart that differs, the conflict policy decides:
   none given -> a conflict (the job stops, nothing is sent), ``skip`` -> left as is,
   ``update`` -> the fewest writes that make it equal, ``rename`` -> a copy (in the mapping).
6. **Catalog** (``catalog.plan_catalog``): the tags and target apps those entities name that
   the target lacks, created first; the writes naming them wait for their creates.
7. **Not copied**: fields of those entities that the catalog does not know (an API newer than
   bulkops), counted per kind for the plan's lines: the API would refuse them in a write.

The planner reads nothing: the same inventory always gives the same plan, in the same order.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Sequence

from bulkops.migrate.catalog import plan_catalog
from bulkops.migrate.desired import unknown_fields
from bulkops.migrate.emit import Emitter
from bulkops.migrate.graph import Ref, create_references, dependency_order, references
from bulkops.migrate.inventory import Inventory
from bulkops.migrate.plan import MigrationPlan
from bulkops.migrate.verdicts import assign
from bulkops.run.job import Skip

__all__ = ["POLICIES", "MigrationPlanner"]

#: ``--on-conflict`` values; none given means: stop on the first plan with conflicts.
POLICIES = ("skip", "update", "rename")


class MigrationPlanner:
    """Plans the migration of ``roots`` (the selected entities, in listing order)."""

    def __init__(
        self, inventory: Inventory, roots: Sequence[Ref], *, policy: str | None, where: str
    ) -> None:
        if policy is not None and policy not in POLICIES:
            raise ValueError(f"--on-conflict {policy!r}: choose skip, update or rename")
        self.inv = inventory
        self.roots = list(dict.fromkeys(roots))
        self.policy = policy
        self.where = where
        self._refs = {
            ref: references(n.kind, n.entity, n.overrides) for ref, n in inventory.nodes.items()
        }

    def plan(self) -> MigrationPlan:
        """The whole plan (see the module docstring)."""
        blocked = self._blocked()
        needed = self._needed(blocked)
        order, cyclic = dependency_order(needed, self._create_edges(set(needed)))
        placement = assign(self.inv, order, rename=self.policy == "rename")
        plan = MigrationPlan(id_map=placement.id_map)
        emitter = Emitter(self.inv, placement, plan, policy=self.policy, where=self.where)
        referrers = self._referrers(needed)
        for ref in order:
            emitter.place(ref, cyclic=ref in cyclic, named_by=referrers.get(ref))
        emitter.second_pass()
        for ref in needed:
            node = self.inv.nodes[ref]
            for name in unknown_fields(node.kind, node.entity):
                plan.uncopied.setdefault(node.kind, Counter())[name] += 1
        plan_catalog(
            plan,
            emitter.carried,
            source=self.inv.source_catalog,
            target=self.inv.target_catalog,
            where=self.where,
        )
        for ref, reason in blocked.items():
            node = self.inv.nodes[ref]
            plan.counts.setdefault(node.kind, Counter())["blocked"] += 1
            plan.steps.append(Skip(node.item, f"cannot be migrated: {reason}", blocked=True))
        for ref in self.inv.nodes:
            if ref not in blocked and placement.id_map.get(*ref) is None:
                node = self.inv.nodes[ref]
                plan.steps.append(Skip(node.item, "named only by blocked entities: not migrated"))
        return plan

    def _blocked(self) -> dict[Ref, str]:
        """Entities naming a missing (or blocked) one, with the reason, in a fixed order."""
        blocked: dict[Ref, str] = {}
        named_by: dict[Ref, list[Ref]] = {}
        queue: deque[Ref] = deque()
        for ref, refs in self._refs.items():
            for named in refs:
                named_by.setdefault(named, []).append(ref)
            missing = [r for r in refs if r in self.inv.missing]
            if missing:
                kind, ident = missing[0]
                blocked[ref] = f"names {kind.removesuffix('s')} {ident}, which is not in the source"
                queue.append(ref)
        while queue:
            ref = queue.popleft()
            for referrer in named_by.get(ref, ()):
                if referrer not in blocked:
                    kind, ident = ref
                    blocked[referrer] = f"names {kind.removesuffix('s')} {ident}, which is blocked"
                    queue.append(referrer)
        return blocked

    def _needed(self, blocked: dict[Ref, str]) -> list[Ref]:
        """The unblocked roots and what they name, roots first, then in discovery order."""
        needed = [ref for ref in self.roots if ref not in blocked and ref in self.inv.nodes]
        seen = set(needed)
        for ref in needed:  # grows while walked
            for named in self._refs[ref]:
                if named not in seen and named in self.inv.nodes:
                    seen.add(named)
                    needed.append(named)
        return needed

    def _create_edges(self, needed: set[Ref]) -> Callable[[Ref], list[Ref]]:
        def edges(ref: Ref) -> list[Ref]:
            node = self.inv.nodes[ref]
            return [r for r in create_references(node.kind, node.entity) if r in needed]

        return edges

    def _referrers(self, needed: list[Ref]) -> dict[Ref, Ref]:
        """For a pulled-in entity, the first needed entity that names it."""
        found: dict[Ref, Ref] = {}
        for ref in needed:
            for named in self._refs[ref]:
                found.setdefault(named, ref)
        return found
