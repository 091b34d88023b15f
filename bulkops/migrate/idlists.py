"""The IDs of ID-list segments: reading a whole list, and the fewest calls that copy it.

A segment of type ``id_list`` or ``user_store_id_list`` holds a list of unit IDs besides its
fields; ``POST /segments`` creates it empty. The Console API offers, per type:

- ``id_list``: ``POST .../id_list/reset`` (replace), ``PATCH .../id_list`` (add),
  ``DELETE .../id_list`` (remove), at most 100,000 IDs per call;
- ``user_store_id_list``: ``PATCH .../add_ids`` and ``PATCH .../remove_ids``, at most 1,000.

``plan_id_copy`` compares the lists as sets and chooses the cheaper of two chains of calls:
the difference (add the missing IDs, then remove the extra ones) or, for ``id_list``, a reset
with the first 100,000 wanted IDs and adds for the rest. Every call is one ``Operation`` that
depends on the one before it, so the segment's ``count`` after each call is known in advance;
its ``Check`` reads that count (``GET .../id_list``), which tells after a crash whether the call
landed. A chain is never planned where two consecutive counts would be equal (the check could
not tell them apart): a reset to as many IDs as the list already holds is replaced by the
difference. Calls on a segment that existed before the run carry their exact inverse as
``undo`` (remove what was added, add back what was removed, reset to the old list), so a
revert gives the pre-existing segment its IDs back; a segment the run created is deleted by
the revert, which takes its IDs with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bulkops.migrate.facts import id_list_path
from bulkops.run.job import Check, Operation, ReadContext

__all__ = ["ID_LIST_TYPES", "IdListApi", "has_id_list", "plan_id_copy", "read_ids"]


@dataclass(frozen=True)
class IdListApi:
    """The endpoints (relative to ``/segments/{id}``) editing one type of ID list."""

    add: tuple[str, str]
    remove: tuple[str, str]
    per_call: int
    reset: str | None = None


#: Segment type -> how its ID list is edited.
ID_LIST_TYPES = {
    "id_list": IdListApi(
        add=("PATCH", "/id_list"),
        remove=("DELETE", "/id_list"),
        per_call=100_000,
        reset="/id_list/reset",
    ),
    "user_store_id_list": IdListApi(
        add=("PATCH", "/add_ids"), remove=("PATCH", "/remove_ids"), per_call=1_000
    ),
}


def has_id_list(entity: Mapping[str, Any]) -> bool:
    """True for a segment whose members are an ID list (of a type in ``ID_LIST_TYPES``)."""
    return entity.get("type") in ID_LIST_TYPES


async def read_ids(ctx: ReadContext, segment_id: str, project: str) -> list[str]:
    """Every ID of segment ``segment_id``'s list (all pages), in the server's order."""
    return [
        str(unit_id)
        async for unit_id in ctx.paged(id_list_path(segment_id), "ids", project=project)
    ]


@dataclass(frozen=True)
class _Call:
    verb: str  # "reset", "add" or "remove"
    ids: tuple[str, ...]


def _chunks(verb: str, ids: Sequence[str], size: int) -> list[_Call]:
    return [_Call(verb, tuple(ids[i : i + size])) for i in range(0, len(ids), size)]


def _calls(api: IdListApi, wanted: list[str], current: list[str], fresh: bool) -> list[_Call]:
    """The chain of calls turning ``current`` into ``wanted`` (both without duplicates)."""
    wanted_set, current_set = set(wanted), set(current)
    if wanted_set == current_set:
        return []
    missing = [unit_id for unit_id in wanted if unit_id not in current_set]
    extra = [unit_id for unit_id in current if unit_id not in wanted_set]
    difference = _chunks("add", missing, api.per_call) + _chunks("remove", extra, api.per_call)
    if api.reset is None or not wanted:
        return difference
    refill = _chunks("add", wanted, api.per_call)
    refill[0] = _Call("reset", refill[0].ids)
    tells_apart = len(refill[0].ids) != len(current)
    undoable = fresh or len(current) <= api.per_call
    cheaper = fresh or len(refill) < len(difference)
    return refill if tells_apart and undoable and cheaper else difference


def plan_id_copy(
    target_id: str,
    segment_type: str,
    wanted: Sequence[str],
    current: Sequence[str] = (),
    *,
    created_by: str | None = None,
    item: str,
    where: str,
    project: str = "target",
) -> list[Operation]:
    """The operations making segment ``target_id``'s IDs equal ``wanted`` (as a set).

    ``current`` is the segment's list as read; ``created_by`` is the key of the operation that
    creates the segment in this plan (the first call waits for it; nothing to undo then).
    ``item`` is the item the calls serve, ``where`` names the target project in descriptions.
    No calls when the sets are equal.
    """
    api = ID_LIST_TYPES[segment_type]
    current_ids = list(dict.fromkeys(current))
    calls = _calls(api, list(dict.fromkeys(wanted)), current_ids, created_by is not None)
    operations: list[Operation] = []
    after, count = created_by, len(current_ids)
    for number, call in enumerate(calls, start=1):
        before, count = count, _count_after(count, call)
        key = f"{project}:segments:{target_id}:ids:{number}:{call.verb}"
        undo = None
        if created_by is None:
            inverse = _inverse(call, current_ids)
            undo = _request(api, inverse, target_id, before, key=f"{key}:undo", project=project)
        operation = _request(api, call, target_id, count, key=key, project=project, where=where)
        operations.append(
            dataclasses.replace(
                operation,
                undo=undo,
                depends_on=(after,) if after else (),
                items=(item,),
            )
        )
        after = key
    return operations


def _request(
    api: IdListApi,
    call: _Call,
    segment_id: str,
    count: int,
    *,
    key: str,
    project: str,
    where: str = "",
) -> Operation:
    """The call as an operation, done when the list holds ``count`` IDs."""
    if call.verb == "reset" and api.reset is not None:
        method, path = "POST", api.reset
    else:
        method, path = api.add if call.verb == "add" else api.remove
    # Consecutive calls of a chain never leave the same count (see the module docstring).
    return Operation(
        key=key,
        method=method,
        path=f"/segments/{segment_id}{path}",
        body={"ids": list(call.ids)},
        description=f"{_phrase(call)} segment {segment_id}{where and ' in ' + where} "
        f"({count:,} IDs after)",
        project=project,
        check=Check(f"/segments/{segment_id}/id_list", contains={"count": count}),
    )


def _phrase(call: _Call) -> str:
    size = f"{len(call.ids):,} IDs"
    if call.verb == "reset":
        return f"replace with {size} the IDs of"
    return f"add {size} to" if call.verb == "add" else f"remove {size} from"


def _count_after(count: int, call: _Call) -> int:
    if call.verb == "reset":
        return len(call.ids)
    return count + len(call.ids) if call.verb == "add" else count - len(call.ids)


def _inverse(call: _Call, current: list[str]) -> _Call:
    """The call that undoes ``call`` on a segment that held ``current`` before the run."""
    if call.verb == "reset":
        return _Call("reset", tuple(current))
    return _Call("remove" if call.verb == "add" else "add", call.ids)
