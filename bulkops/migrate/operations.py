"""The operations that write a migrated entity into the target, one builder per kind of write.

Keys are ``target:<kind>:<target id>:<step>`` (``create``, ``fields``, ``update``, ``rules``,
``overrides``; ID-list calls are ``...:ids:<n>:<verb>``, see ``bulkops.migrate.idlists``), so a
plan never repeats one and a reader tells from a key what it writes. Every builder gives the
``Check`` that tells from the target's state whether the write is already there, and what a
revert needs: a create carries its DELETE as ``undo``; a write to an entity that existed before
the run carries its before-image (PATCH back) or its exact inverse (overrides and segment rules
are replaced back). Writes to an entity the run created need no undo: its delete takes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bulkops.api.resources import get_kind
from bulkops.migrate.facts import entity_path, overrides_path
from bulkops.run.job import Check, Operation

__all__ = [
    "TARGET",
    "create_operation",
    "delete_undo",
    "fields_operation",
    "operation_key",
    "overrides_operation",
    "rules_operation",
    "update_operation",
]

TARGET = "target"


def operation_key(kind: str, target_id: str, step: str) -> str:
    """``target:gates:g1:create``."""
    return f"{TARGET}:{kind}:{target_id}:{step}"


def _one(kind: str) -> str:
    return kind.removesuffix("s")


def _check(path: str, wanted: Mapping[str, Any], other: Mapping[str, Any] | None) -> Check:
    """Done when ``path`` holds ``wanted`` and none of the list elements only ``other`` has.

    ``contains`` alone cannot tell a list put back from one that still holds more (every
    element of an empty list is "present"), so the elements to be gone are ``excludes``.
    """
    gone: dict[str, Any] = {}
    for name, value in (other or {}).items():
        if isinstance(value, list):
            kept = wanted.get(name)
            extra = [v for v in value if not (isinstance(kept, list) and v in kept)]
            if extra:
                gone[name] = extra
    return Check(path, contains=dict(wanted), excludes=gone or None)


def create_operation(
    kind: str,
    target_id: str,
    body: Mapping[str, Any],
    *,
    where: str,
    depends_on: Sequence[str] = (),
    items: Sequence[str] = (),
    note: str = "",
) -> Operation:
    """POST the entity; done once it exists; undone by deleting it."""
    path = entity_path(kind, target_id)
    key = operation_key(kind, target_id, "create")
    return Operation(
        key=key,
        method="POST",
        path=get_kind(kind).list_path,
        body=dict(body),
        project=TARGET,
        description=f"create {_one(kind)} {target_id} in {where}{note}",
        check=Check(path),
        creates=True,
        depends_on=tuple(dict.fromkeys(depends_on)),
        items=tuple(items),
        undo=delete_undo(key, path, f"delete {kind} {target_id} from {where}"),
    )


def delete_undo(key: str, path: str, description: str) -> Operation:
    """The undo of the create ``key`` of what lives at ``path``: DELETE it (done once absent)."""
    return Operation(
        key=f"{key}:undo",
        method="DELETE",
        path=path,
        project=TARGET,
        description=description,
        check=Check(path, absent=True),
    )


def fields_operation(
    kind: str,
    target_id: str,
    fields: Mapping[str, Any],
    *,
    where: str,
    created_by: str,
    depends_on: Sequence[str] = (),
    items: Sequence[str] = (),
) -> Operation:
    """PATCH what the create could not take (a layer's parameters, a holdout's lists)."""
    path = entity_path(kind, target_id)
    return Operation(
        key=operation_key(kind, target_id, "fields"),
        method="PATCH",
        path=path,
        body=dict(fields),
        project=TARGET,
        description=f"set {', '.join(fields)} of {_one(kind)} {target_id} in {where} "
        "(not taken by its create)",
        check=Check(path, contains=dict(fields)),
        depends_on=tuple(dict.fromkeys([created_by, *depends_on])),
        items=tuple(items),
    )


def update_operation(
    kind: str,
    target_id: str,
    changed: Mapping[str, Any],
    before: Mapping[str, Any],
    *,
    where: str,
    depends_on: Sequence[str] = (),
    items: Sequence[str] = (),
) -> Operation:
    """PATCH the differing fields of an entity the target had; its undo PATCHes ``before``."""
    path = entity_path(kind, target_id)
    key = operation_key(kind, target_id, "update")
    method = get_kind(kind).update_method or "PATCH"
    return Operation(
        key=key,
        method=method,
        path=path,
        body=dict(changed),
        project=TARGET,
        check=_check(path, changed, before),
        depends_on=tuple(dict.fromkeys(depends_on)),
        before=dict(before),
        items=tuple(items),
        description=f"update {kind} {target_id} in {where}: " + ", ".join(sorted(changed)),
        undo=Operation(
            key=f"{key}:undo",
            method=method,
            path=path,
            body=dict(before),
            project=TARGET,
            description=f"put back {', '.join(sorted(before))} of {_one(kind)} {target_id}",
            check=_check(path, before, changed),
        ),
    )


def rules_operation(
    kind: str,
    target_id: str,
    rules: list[Any],
    *,
    where: str,
    depends_on: Sequence[str] = (),
    items: Sequence[str] = (),
    before: list[Any] | None = None,
    why: str = "they name entities created after it",
) -> Operation:
    """Set an entity's rules (segments: ``POST .../conditional``, others: PATCH).

    ``before``: the rules of an entity the target had, written back by a revert (None for an
    entity this run created).
    """
    path = entity_path(kind, target_id)
    patch = get_kind(kind).update_method is not None
    method, to = ("PATCH", path) if patch else ("POST", f"{path}/conditional")
    key = operation_key(kind, target_id, "rules")
    undo = None
    if before is not None:
        undo = Operation(
            key=f"{key}:undo",
            method=method,
            path=to,
            body={"rules": before} if patch else before,
            project=TARGET,
            description=f"put back the rules of {_one(kind)} {target_id} in {where}",
            check=_check(path, {"rules": before}, {"rules": rules}),
        )
    return Operation(
        key=key,
        method=method,
        path=to,
        body={"rules": rules} if patch else rules,
        project=TARGET,
        description=f"set the rules of {_one(kind)} {target_id} in {where} ({why})",
        check=_check(path, {"rules": rules}, {"rules": before} if before is not None else None),
        depends_on=tuple(dict.fromkeys(depends_on)),
        items=tuple(items),
        undo=undo,
    )


def overrides_operation(
    kind: str,
    target_id: str,
    doc: Mapping[str, Any],
    *,
    where: str,
    depends_on: Sequence[str] = (),
    items: Sequence[str] = (),
    before: Mapping[str, Any] | None = None,
) -> Operation:
    """Replace the entity's override document in one request (``POST .../overrides``).

    ``before``: the document of an entity the target had, put back by a revert the same way.
    """
    path = overrides_path(kind, target_id)
    key = operation_key(kind, target_id, "overrides")
    undo = None
    if before is not None:
        undo = Operation(
            key=f"{key}:undo",
            method="POST",
            path=path,
            body=dict(before),
            project=TARGET,
            description=f"put back the overrides of {_one(kind)} {target_id} in {where}",
            check=_check(path, before, doc),
        )
    return Operation(
        key=key,
        method="POST",
        path=path,
        body=dict(doc),
        project=TARGET,
        description=f"set the overrides of {_one(kind)} {target_id} in {where}",
        check=_check(path, doc, before),
        depends_on=tuple(dict.fromkeys(depends_on)),
        items=tuple(items),
        undo=undo,
    )
