"""Where override IDs live in an entity's overrides document, and how an edit of them is checked.

An overrides document (``GET /gates/{id}/overrides``) holds global lists (``passingUserIDs``...),
per-environment entries (``environmentOverrides[environment=staging].passingIDs``) and, for
experiments, per-group entries (``userIDOverrides[groupID=test].ids``). ``IdChange`` is what one
list needs; ``list_at`` reads a list by its ``ListEdit`` field; ``done_check`` is the ``Check``
that tells the changes are in (or, ``forward=False``, undone).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bulkops.run.job import Check

__all__ = ["IdChange", "done_check", "entry_where", "group_entry", "list_at"]


@dataclass(frozen=True)
class IdChange:
    """What one entity's override list needs: IDs to add and to remove."""

    field: str
    add: tuple[str, ...]
    remove: tuple[str, ...]


def entry_where(entries: Any, key: str, value: Any) -> dict[str, Any]:
    for entry in entries or ():
        if isinstance(entry, dict) and str(entry.get(key)) == str(value):
            return entry
    return {}


def list_at(document: dict[str, Any], field: str) -> list[Any]:
    """The list a ``ListEdit`` field names in ``document`` (``[]`` when absent)."""
    if "[" not in field:
        return list(document.get(field) or ())
    head, _, leaf = field.partition("].")
    name, _, selector = head.partition("[")
    pairs = [pair.partition("=") for pair in selector.split(",")]
    for entry in document.get(name) or ():
        if isinstance(entry, dict) and all(
            (entry.get(key) in (None, "")) if not value else str(entry.get(key)) == value
            for key, _, value in pairs
        ):
            return list(entry.get(leaf) or ())
    return []


def group_entry(entries: Any, group: str, environment: Any) -> dict[str, Any]:
    """An experiment's ``userIDOverrides`` entry of ``group`` in ``environment`` (None: global)."""
    for entry in entries or ():
        if (
            isinstance(entry, dict)
            and str(entry.get("groupID")) == group
            and (entry.get("environment") or None) == (environment or None)
        ):
            return entry
    return {}


def _nested(field: str, values: list[str]) -> dict[str, Any]:
    """``environmentOverrides[environment=staging].passingIDs`` -> the Check document.

    Keys selected by an empty value (``environment=``: none) are left out of the document.
    """
    if "[" not in field:
        return {field: values}
    head, _, leaf = field.partition("].")
    name, _, selector = head.partition("[")
    pairs = (pair.partition("=") for pair in selector.split(","))
    return {name: [{**{key: value for key, _, value in pairs if value}, leaf: values}]}


def done_check(path: str, changes: list[IdChange], *, forward: bool) -> Check:
    contains: dict[str, Any] = {}
    excludes: dict[str, Any] = {}
    for change in changes:
        added, removed = (change.add, change.remove) if forward else (change.remove, change.add)
        for doc, values in ((contains, added), (excludes, removed)):
            if not values:
                continue
            if "[" in change.field:  # one entry per ID: excludes must fail on any one present
                entries = (
                    [_nested(change.field, [v]) for v in values]
                    if doc is excludes
                    else [_nested(change.field, list(values))]
                )
                for entry in entries:
                    for name, element in entry.items():
                        doc.setdefault(name, []).extend(element)
            else:
                doc.setdefault(change.field, []).extend(values)
    return Check(path, contains=contains or None, excludes=excludes or None)
