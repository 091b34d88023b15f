"""References between entities through rule conditions (``passes_gate``, ``fails_segment``...).

A rule condition of type ``passes_gate``/``fails_gate`` names gates in ``targetValue`` (one ID or
a list); ``passes_segment``/``fails_segment`` names segments. These helpers find such references
and rewrite them through an ID mapping, for the dependency check of stale-gate cleanup and the
remapping of copied entities.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from bulkops.api.resources import RULE_CONDITION_REFERENCES

__all__ = ["CONDITION_KINDS", "condition_references", "remap_conditions"]

#: Condition type -> the kind its ``targetValue`` names (from the resource catalog).
CONDITION_KINDS: Mapping[str, str] = RULE_CONDITION_REFERENCES


def _conditions(entity: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for rule in entity.get("rules") or ():
        for condition in (rule or {}).get("conditions") or ():
            if isinstance(condition, dict):
                yield condition


def _values(target: Any) -> list[str]:
    if target is None:
        return []
    if isinstance(target, list):
        return [str(v) for v in target]
    return [str(target)]


def condition_references(entity: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every ``(kind, id)`` that ``entity``'s rule conditions reference."""
    for condition in _conditions(entity):
        kind = CONDITION_KINDS.get(str(condition.get("type")))
        if kind is not None:
            for value in _values(condition.get("targetValue")):
                yield kind, value


def remap_conditions(rules: Any, mapping: Callable[[str, str], str]) -> list[dict[str, Any]]:
    """A copy of ``rules`` whose condition references go through ``mapping(kind, id)``."""
    result = copy.deepcopy(list(rules or ()))
    for condition in _conditions({"rules": result}):
        kind = CONDITION_KINDS.get(str(condition.get("type")))
        if kind is None:
            continue
        target = condition.get("targetValue")
        if isinstance(target, list):
            condition["targetValue"] = [mapping(kind, str(v)) for v in target]
        elif target is not None:
            condition["targetValue"] = mapping(kind, str(target))
    return result
