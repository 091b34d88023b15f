"""The dependency graph of a migration: which entities an entity names, and an order to create
them in.

An entity names others through its rule conditions (``passes_gate``/``fails_gate``,
``passes_segment``/``fails_segment``: the catalog's ``rule_references``), through reference
fields (an experiment's ``targetingGateID`` and ``layerID``; a holdout's ``gateIDs``,
``experimentIDs``, ``layerIDs`` and ``targetingGateID``) and through its override document (an
experiment forces gates and segments into groups; a layer names gates, segments and
experiments). Only rule conditions and an experiment's two fields must exist when the entity is
*created*; the rest is written after the create (a holdout's lists by PATCH, overrides by their
own endpoint), so it orders operations but never blocks a create.

``dependency_order`` walks the create-time references depth first and returns an order in which
every entity comes after what it names, except where references close a cycle (two gates naming
each other): the entity whose reference closes it is returned in ``cyclic``; it is created
without those references and given them in a second pass.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from bulkops.api.resources import get_kind, rule_references
from bulkops.migrate.facts import MIGRATED_KINDS

__all__ = [
    "Ref",
    "create_references",
    "dependency_order",
    "field_references",
    "override_references",
    "reference_fields",
    "references",
]

Ref = tuple[str, str]
"""``(kind, id)`` of an entity."""

#: Reference fields an experiment's create must be able to resolve.
_CREATE_FIELDS = {"experiments": ("targetingGateID", "layerID")}
_RANK = {kind: rank for rank, kind in enumerate(MIGRATED_KINDS)}

N = TypeVar("N", bound=Hashable)


def reference_fields(kind: str) -> dict[str, str]:
    """Writable fields of ``kind`` naming migrated entities (field -> kind), from the catalog."""
    catalog = get_kind(kind)
    return {
        name: target
        for name, target in catalog.references.items()
        if target in MIGRATED_KINDS and name not in catalog.read_only_fields
    }


def _values(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [str(v) for v in value if v] if isinstance(value, list) else [str(value)]


def field_references(kind: str, entity: Mapping[str, Any]) -> list[Ref]:
    """What ``entity``'s reference fields name, field by field."""
    return [
        (target, value)
        for name, target in reference_fields(kind).items()
        for value in _values(entity.get(name))
    ]


def override_references(kind: str, doc: Mapping[str, Any] | None) -> list[Ref]:
    """What an override document names (experiments: gates and segments; layers: also
    experiments)."""
    found: list[Ref] = []
    if not doc:
        return found
    if kind == "experiments":
        for entry in doc.get("overrides") or ():
            target = {"gate": "gates", "segment": "segments"}.get(str(entry.get("type")))
            ident = entry.get("id") or entry.get("name")
            if target and ident:
                found.append((target, str(ident)))
    if kind == "layers":
        for entry in doc.get("conditionalOverrides") or ():
            target = {"gate": "gates", "segment": "segments"}.get(str(entry.get("type")))
            if target and entry.get("name"):
                found.append((target, str(entry["name"])))
        for entry in [*(doc.get("conditionalOverrides") or ()), *(doc.get("idOverrides") or ())]:
            if entry.get("experimentName"):
                found.append(("experiments", str(entry["experimentName"])))
    return found


def create_references(kind: str, entity: Mapping[str, Any]) -> list[Ref]:
    """What must exist before ``entity`` can be created, in creation order, without repeats."""
    refs = list(rule_references(entity))
    for name in _CREATE_FIELDS.get(kind, ()):
        refs.extend((reference_fields(kind)[name], v) for v in _values(entity.get(name)))
    return sorted(dict.fromkeys(refs), key=lambda ref: _RANK.get(ref[0], len(_RANK)))


def references(
    kind: str, entity: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> list[Ref]:
    """Everything ``entity`` (and its override document) names, without repeats."""
    refs = [*rule_references(entity), *field_references(kind, entity)]
    refs += override_references(kind, overrides)
    return list(dict.fromkeys(refs))


def dependency_order(
    nodes: Iterable[N], edges: Callable[[N], Sequence[N]]
) -> tuple[list[N], set[N]]:
    """Nodes after what they name (depth first, in the given order), and the ``cyclic`` ones.

    ``edges(node)`` are the nodes it names; edges to nodes outside ``nodes`` are ignored. A node
    with an edge to a node still being walked (a cycle) is in ``cyclic``; the walk does not
    follow that edge. Iterative, so a long chain of references cannot exhaust the stack.
    """
    wanted = list(dict.fromkeys(nodes))
    known = set(wanted)
    order: list[N] = []
    cyclic: set[N] = set()
    state: dict[N, int] = {}  # 1 walking, 2 done
    for root in wanted:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(edges(root)))]
        while stack:
            node, pending = stack[-1]
            step = next((n for n in pending if n in known and state.get(n) != 2), None)
            if step is None:
                stack.pop()
                state[node] = 2
                order.append(node)
            elif state.get(step) == 1:
                cyclic.add(node)
            else:
                state[step] = 1
                stack.append((step, iter(edges(step))))
    return order, cyclic
