"""Comparing what the target should hold with what it holds: field by field, exactly.

``same`` is exact where it matters and lenient only where the server adds or computes:
an object is the same when every field the desired one gives matches (fields the server adds,
a rule's ``id``, are not compared), lists match element by element in order, a missing field
equals null, numbers compare by value (``10 == 10.0``) but never a boolean with a number.
Override documents and ID lists are sets to the API: they are compared without their order
(``normalize_overrides``, ``same_ids``). A gate whose type the target computed since (``STALE``)
is the same as the ``TEMPORARY`` gate created for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from bulkops.migrate.desired import COMPUTED_GATE_TYPES

__all__ = ["differing_fields", "normalize_overrides", "same", "same_ids"]


def same(desired: Any, actual: Any) -> bool:
    """Whether ``actual`` holds ``desired`` (see the module docstring)."""
    if isinstance(desired, Mapping):
        return isinstance(actual, Mapping) and all(
            same(value, actual.get(key)) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(actual, list)
            and len(desired) == len(actual)
            and all(same(d, a) for d, a in zip(desired, actual, strict=True))
        )
    if isinstance(desired, bool) or isinstance(actual, bool):
        return desired is actual
    return bool(desired == actual)


def differing_fields(kind: str, desired: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """The fields of ``desired`` that ``actual`` does not hold, in ``desired``'s order."""
    return [
        name
        for name, value in desired.items()
        if not same(value, actual.get(name)) and not _computed(kind, name, value, actual)
    ]


def _computed(kind: str, name: str, value: Any, actual: Mapping[str, Any]) -> bool:
    """A gate type the target computed since the copy was made (TEMPORARY -> STALE)."""
    return (
        kind == "gates"
        and name == "type"
        and COMPUTED_GATE_TYPES.get(str(actual.get(name))) == value
    )


def _canonical(value: Any) -> Any:
    """Lists become sorted lists (elements canonical first), so order never matters."""
    if isinstance(value, Mapping):
        return {k: _canonical(v) for k, v in value.items() if v not in (None, [])}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: orjson.dumps(v, option=orjson.OPT_SORT_KEYS))
    return value


def normalize_overrides(doc: Any) -> dict[str, Any]:
    """An override document in a canonical form: no order, no empty entry, no empty list."""
    if not isinstance(doc, Mapping):
        return {}
    kept = {
        key: [e for e in value if not isinstance(e, Mapping) or _holds_ids(e)]
        if isinstance(value, list)
        else value
        for key, value in doc.items()
    }
    return dict(_canonical(kept))


def _holds_ids(entry: Mapping[str, Any]) -> bool:
    """An entry that forces something (an ID list with IDs, or a gate/segment override)."""
    lists = [v for v in entry.values() if isinstance(v, list)]
    return any(lists) or not lists


def same_ids(current: Sequence[str] | None, wanted: Sequence[str]) -> bool:
    """True when ``current`` (None: a list that cannot be compared) holds exactly ``wanted``."""
    return current is not None and set(current) == set(wanted)
