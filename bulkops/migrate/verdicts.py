"""Where each source entity lands, and how it compares with what is there.

``assign`` decides the ID mapping of a migration plan: a source entity maps to the target's
entity of the same ID (or the ID its name gives, or the same name); one the target lacks maps
to the ID its create gets. With ``--on-conflict rename``, an entity whose target counterpart
differs maps to a copy (``<id>_copy``, or the first such copy that already equals it); renaming
changes what the entities naming it should hold, so the comparison runs again until no new
rename appears (renames only grow, so it ends).

``Verdict`` is the comparison of one entity with its counterpart: the differing fields, and
whether the override document or the ID list differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bulkops.migrate.compare import differing_fields, normalize_overrides, same_ids
from bulkops.migrate.desired import created_id, desired_state, remap_overrides
from bulkops.migrate.facts import OVERRIDE_KINDS
from bulkops.migrate.graph import Ref
from bulkops.migrate.inventory import Inventory, Node
from bulkops.migrate.mapping import IdMap, copy_names

__all__ = ["Placement", "Verdict", "assign", "desired_of", "desired_overrides"]

Entity = dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    """How the target's counterpart differs (nothing: it equals the source)."""

    fields: tuple[str, ...] = ()
    overrides: bool = False
    ids: bool = False

    @property
    def equal(self) -> bool:
        return not (self.fields or self.overrides or self.ids)

    def describe(self) -> str:
        parts = list(self.fields)
        parts += ["overrides"] if self.overrides else []
        parts += ["ID list"] if self.ids else []
        return ", ".join(parts)


@dataclass
class Placement:
    """The mapping of a plan: target IDs, the counterparts found, and their verdicts."""

    id_map: IdMap = field(default_factory=IdMap)
    #: (kind, source ID) -> the target's entity it maps to (absent: it is created).
    counterparts: dict[Ref, Entity] = field(default_factory=dict)
    verdicts: dict[Ref, Verdict] = field(default_factory=dict)

    def name_of(self, node: Node) -> Any:
        return self.id_map.name_of(node.kind, node.id) or node.name


def desired_of(node: Node, placement: Placement) -> Entity:
    """What the target's copy of ``node`` should hold (a renamed copy: its new name)."""
    desired = desired_state(
        node.kind, node.entity, placement.id_map.target_id, updates=True, target_apps=True
    )
    renamed = placement.id_map.name_of(node.kind, node.id)
    if renamed:
        desired["name"] = renamed
    return desired


def desired_overrides(node: Node, placement: Placement) -> Entity:
    """The override document the target's copy should hold (remapped)."""
    return remap_overrides(node.kind, node.overrides or {}, placement.id_map.target_id)


def _verdict(node: Node, target: Entity, placement: Placement, inv: Inventory) -> Verdict:
    fields = differing_fields(node.kind, desired_of(node, placement), target)
    target_ref = (node.kind, str(target["id"]))
    overrides = node.kind in OVERRIDE_KINDS and normalize_overrides(
        desired_overrides(node, placement)
    ) != normalize_overrides(inv.target_overrides.get(target_ref))
    ids = node.ids is not None and not same_ids(inv.target_ids.get(target_ref[1]), node.ids)
    return Verdict(tuple(fields), overrides, ids)


def assign(inv: Inventory, order: Sequence[Ref], *, rename: bool) -> Placement:
    """The mapping and verdicts of the entities ``order`` names (see the module docstring)."""
    placement = Placement()
    for ref in order:
        node = inv.nodes[ref]
        found = inv.match(node)
        if found is not None:
            placement.counterparts[ref] = found
            placement.id_map.set(*ref, str(found["id"]))
        else:
            placement.id_map.set(*ref, created_id(node.kind, node.id, node.name))
    while True:
        renamed_now = False
        for ref in order:
            node = inv.nodes[ref]
            original = inv.match(node)
            if original is None:
                continue
            if placement.id_map.name_of(*ref) is None:
                placement.counterparts[ref] = original
                placement.verdicts[ref] = verdict = _verdict(node, original, placement, inv)
                if verdict.equal or not rename:
                    continue
            renamed_now |= _rename(node, placement, inv)
        if not renamed_now:
            return placement


def _rename(node: Node, placement: Placement, inv: Inventory) -> bool:
    """Map ``node`` to its first copy that is free or equal; True when the mapping changed."""
    before = placement.id_map.get(node.kind, node.id)
    table = inv.target.get(node.kind, {})
    for name in copy_names(node.id):
        copy_id = created_id(node.kind, name, name)
        placement.id_map.set(node.kind, node.id, copy_id, name=name)
        found = table.get(copy_id)
        if found is None:
            placement.counterparts.pop(node.ref, None)
            placement.verdicts.pop(node.ref, None)
            return copy_id != before
        verdict = _verdict(node, found, placement, inv)
        if verdict.equal:
            placement.counterparts[node.ref] = found
            placement.verdicts[node.ref] = verdict
            return copy_id != before
    raise ValueError(f"no free name for a copy of {node.kind} {node.id} (tried 99)")
