"""Tags and target apps: the project-wide names that migrated entities carry.

Entities name tags (``tags``) and target apps (``targetApps``) by *name*: the spec calls
``tags`` "the list of tag names", the AI-config DTOs call ``targetApps`` a "list of target app
names", and a target app's ``id`` is not even required in ``TargetAppDto``; only the bulk
assignment (``PATCH /target_app``) takes IDs, and says so. So names go into the target as they
are, and nothing is rewritten; what a faithful copy needs is that the target defines them.

``plan_catalog`` adds to a migration plan, ahead of every entity write, one create (``POST
/tags``, ``POST /target_app``) per name the target lacks (matched by name), named by an entity
the plan creates or updates, or one it found equal in the target; every entity write whose
body names it waits for that create (``depends_on``). A tag is created with the source's
``description`` and ``isCore``; a name the source does not define (an entity may carry a tag
its project's list lacks, or a snapshot has no catalog) is created with an empty description,
which the spec allows (``description`` is required, with no minimum length), and the plan says
so. Target apps: their name and the source's description when it lists one (``TargetAppDto``
has none), else an empty one; entities are assigned by their own ``targetApps``, not by the
create's ``gates``/``experiments`` lists, so the create never names an entity that does not
exist yet. A project whose server does not list tags (or target apps) gets none planned.

The server gives a tag or target app an ID of its own (the spec's examples: ``"string"``,
``"Example ID"``), so a created one is found by *name* in the target's list (``Check.find``):
that read reconciles a create whose outcome was lost (``kill -9``), so a resumed run never
posts a tag twice, and records the ID found; the revert deletes the tag at the ID the create's
response (or that read) gave (``CREATED_ID``), never at one guessed from the name.

``missing_in_target`` serves ``bulkops verify``: the names mapped entities carry that the
target does not define.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from bulkops.api.resources import get_kind
from bulkops.migrate.desired import created_id
from bulkops.migrate.facts import CATALOG_KINDS
from bulkops.migrate.graph import Ref
from bulkops.migrate.operations import TARGET, delete_undo, operation_key
from bulkops.migrate.plan import MigrationPlan
from bulkops.run.job import CREATED_ID, Check, Operation

__all__ = [
    "CATALOG_FIELDS",
    "CATALOG_KINDS",
    "Catalog",
    "by_name",
    "catalog_names",
    "missing_in_target",
    "plan_catalog",
]

#: Entity field -> the catalog list whose names it holds.
CATALOG_FIELDS: Mapping[str, str] = {"tags": "tags", "targetApps": "target_apps"}
#: Fields a create takes from the source's entry (besides ``name``).
_COPIED = {"tags": ("description", "isCore"), "target_apps": ("description",)}

Entity = dict[str, Any]
#: list name -> entry name -> entry; ``None`` for a list the server does not serve.
Catalog = dict[str, dict[str, Entity] | None]


def catalog_names(entity: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(list, name)`` of every tag and target app ``entity`` names (a lone string counts)."""
    found = []
    for name, table in CATALOG_FIELDS.items():
        value = entity.get(name)
        values = [value] if isinstance(value, str) else value
        if isinstance(values, list):
            found += [(table, item) for item in values if isinstance(item, str) and item]
    return found


def by_name(entries: Iterable[Mapping[str, Any]]) -> dict[str, Entity]:
    """A listed catalog by entry name (the first of a name wins)."""
    found: dict[str, Entity] = {}
    for entry in entries:
        name = entry.get("name")
        if isinstance(name, str) and name not in found:
            found[name] = dict(entry)
    return found


def _one(table: str) -> str:
    return "target app" if table == "target_apps" else "tag"


def _create(table: str, name: str, source: Entity | None, *, where: str, note: str) -> Operation:
    target_id = created_id(table, name, name)
    kind = get_kind(table)
    body: Entity = {"name": name, "description": ""}
    for field in _COPIED[table]:
        if source is not None and source.get(field) is not None:
            body[field] = source[field]
    key = operation_key(table, target_id, "create")
    return Operation(
        key=key,
        method="POST",
        path=kind.list_path,
        body=body,
        project=TARGET,
        description=f"create {_one(table)} {name!r} in {where}{note}",
        check=Check(kind.list_path, find={"name": name}),
        creates=True,
        undo=delete_undo(
            key, f"{kind.list_path}/{CREATED_ID}", f"delete {_one(table)} {name!r} from {where}"
        ),
    )


def plan_catalog(
    plan: MigrationPlan,
    carried: Iterable[tuple[Ref, Mapping[str, Any]]],
    *,
    source: Catalog,
    target: Catalog,
    where: str,
) -> None:
    """Put the creates of the names ``carried`` entities need first in ``plan`` (see above).

    ``carried``: ``(ref, desired state)`` of each entity created, updated or found equal.
    """
    named_by: dict[tuple[str, str], Ref] = {}
    for ref, desired in carried:
        for pair in catalog_names(desired):
            named_by.setdefault(pair, ref)
    creates: dict[tuple[str, str], Operation] = {}
    for table in CATALOG_KINDS:
        defined, theirs = source.get(table) or {}, target.get(table)
        if theirs is None:
            continue
        counts = Counter[str]()
        for (list_name, name), (kind, ident) in named_by.items():
            if list_name != table:
                continue
            if name in theirs:
                counts["equal"] += 1
                continue
            counts["create"] += 1
            entry = defined.get(name)
            note = f" (named by {kind.removesuffix('s')} {ident})"
            if entry is None:
                counts["undefined"] += 1
                note += ": not defined in the source, created with an empty description"
            creates[(table, name)] = _create(table, name, entry, where=where, note=note)
        if counts:
            plan.counts[table] = counts
    if not creates:
        return
    plan.steps[:0] = list(creates.values())
    for index, step in enumerate(plan.steps):
        if isinstance(step, Operation) and step.project == TARGET:
            needs = [creates[pair].key for pair in _body_names(step) if pair in creates]
            if needs:
                depends = tuple(dict.fromkeys([*step.depends_on, *needs]))
                plan.steps[index] = dataclasses.replace(step, depends_on=depends)


def _body_names(step: Operation) -> list[tuple[str, str]]:
    if step.key.startswith(tuple(f"{TARGET}:{t}:" for t in CATALOG_KINDS)):
        return []
    return catalog_names(step.body) if isinstance(step.body, Mapping) else []


def missing_in_target(
    carried: Iterable[tuple[Ref, Mapping[str, Any]]], target: Catalog
) -> list[tuple[str, str, Ref]]:
    """``(list, name, first entity naming it)`` of each name the target does not define."""
    found: dict[tuple[str, str], Ref] = {}
    for ref, desired in carried:
        for table, name in catalog_names(desired):
            theirs = target.get(table)
            if theirs is not None and name not in theirs:
                found.setdefault((table, name), ref)
    return [(table, name, ref) for (table, name), ref in found.items()]
