"""Applying ``ListEdit``s to an entity read right before sending, and matching ``Check``s.

Field paths are dotted; a segment ``name[key=value]`` selects the element of the list ``name``
whose ``key`` equals ``value`` (created when missing), e.g.
``environmentOverrides[environment=staging].passingIDs``. Several keys select on all of them:
``userIDOverrides[groupID=test,environment=staging].ids``. An empty value (``environment=``)
matches an element where the key is missing, null or empty, and is left out of a created one.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from bulkops.run.job import JobConfigError, ListEdit

__all__ = ["apply_edits", "contains", "edited_fields", "excludes"]

_SELECTOR = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<pairs>[^\[\]]+)\]$")
_PAIR = re.compile(r"^(?P<key>[^=,]+)=(?P<value>[^=,]*)$")

Selector = tuple[tuple[str, str], ...]


def edited_fields(edits: Sequence[ListEdit]) -> tuple[str, ...]:
    """The top-level fields the edits touch, in order."""
    fields: list[str] = []
    for edit in edits:
        top = _parse(edit.field)[0][0]
        if top not in fields:
            fields.append(top)
    return tuple(fields)


def apply_edits(entity: dict[str, Any], edits: Sequence[ListEdit]) -> tuple[dict[str, Any], bool]:
    """Return ``(edited copy, changed)``; others' values in the lists are kept."""
    result = copy.deepcopy(entity)
    changed = False
    for edit in edits:
        target = _resolve(result, _parse(edit.field), edit.field)
        for value in edit.add:
            if value not in target:
                target.append(value)
                changed = True
        kept = [v for v in target if v not in edit.remove]
        if len(kept) != len(target):
            target[:] = kept
            changed = True
    return result, changed


def _parse(path: str) -> list[tuple[str, Selector | None]]:
    segments: list[tuple[str, Selector | None]] = []
    for part in path.split("."):
        match = _SELECTOR.match(part)
        if match:
            segments.append((match["name"], _pairs(match["pairs"], path, part)))
        elif part and "[" not in part and "]" not in part:
            segments.append((part, None))
        else:
            raise JobConfigError(f"bad ListEdit field {path!r}: segment {part!r}")
    return segments


def _pairs(text: str, path: str, part: str) -> Selector:
    pairs = []
    for pair in text.split(","):
        match = _PAIR.match(pair)
        if not match:
            raise JobConfigError(f"bad ListEdit field {path!r}: segment {part!r}")
        pairs.append((match["key"], match["value"]))
    if len({key for key, _ in pairs}) != len(pairs):
        raise JobConfigError(f"bad ListEdit field {path!r}: a key repeats in {part!r}")
    return tuple(pairs)


def _selected(element: Any, selector: Selector) -> bool:
    if not isinstance(element, dict):
        return False
    return all(
        element.get(key) in (None, "") if value == "" else str(element.get(key)) == value
        for key, value in selector
    )


def _resolve(entity: dict[str, Any], segments: list[Any], path: str) -> list[Any]:
    node: Any = entity
    for index, (name, selector) in enumerate(segments):
        last = index == len(segments) - 1
        if not isinstance(node, dict):
            raise JobConfigError(f"ListEdit {path!r}: {name!r} is not inside an object")
        if selector is None:
            if node.get(name) is None:
                node[name] = [] if last else {}
            node = node[name]
            continue
        elements = node.get(name)
        if elements is None:
            elements = node[name] = []
        if not isinstance(elements, list):
            raise JobConfigError(f"ListEdit {path!r}: {name!r} is not a list")
        found = next((e for e in elements if _selected(e, selector)), None)
        if found is None:
            found = {key: value for key, value in selector if value != ""}
            elements.append(found)
        node = found
        if last:
            raise JobConfigError(f"ListEdit {path!r} must end with a list field, not a selector")
    if not isinstance(node, list):
        raise JobConfigError(
            f"ListEdit {path!r} does not name a list (found {type(node).__name__})"
        )
    return node


def contains(actual: Any, expected: Any) -> bool:
    """Dicts: every expected key matches recursively; lists: every expected element is present."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and contains(actual[k], v) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(
            any(contains(a, e) for a in actual) for e in expected
        )
    return bool(actual == expected)


def excludes(actual: Any, unwanted: Any) -> bool:
    """True when none of ``unwanted`` is present (lists: no element; dicts: recursively)."""
    if isinstance(unwanted, dict):
        if not isinstance(actual, dict):
            return True
        return all(k not in actual or excludes(actual[k], v) for k, v in unwanted.items())
    if isinstance(unwanted, list):
        if not isinstance(actual, list):
            return True
        return not any(contains(a, u) for u in unwanted for a in actual)
    return bool(actual != unwanted)
