"""What a planned ``Operation`` may hold: plain JSON that comes back the same from the journal.

The plan is frozen in the journal as JSON and a resumed run works from what it reads back, so
every value an operation carries (``body``, ``before``, ``restore``, a ``Check``'s ``contains``
and ``excludes``, a ``ListEdit``'s values, its ``undo``) must be JSON data: ``None``, ``bool``,
``int`` (64-bit), finite ``float``, ``str``, ``list``/``tuple`` (sent as arrays) and ``dict``
with string keys. A set, bytes, a ``datetime``, NaN, a dict with ``int`` keys or any other
object is refused, even where ``orjson`` would encode it, because it would not come back as
it went in (a set has no order, NaN becomes ``null``, a ``datetime`` a string). The names and
keys (``key``, ``path``, ``depends_on`` ...) must be strings, and ``path`` relative to the API
(an absolute URL would carry the API key to another host).

``operation_problem(op)`` says what is wrong and where (``body['tags'] is a set: use a list``),
or None; ``bulkops.run.jobcode.PlanCheck`` turns it into a ``JobCodeError``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from bulkops.run.job import Check, ListEdit, Operation, Skip

__all__ = ["MAX_DEPTH", "json_problem", "operation_problem", "skip_problem"]

#: How deep a value may nest (the journal's JSON encoder stops at 255 levels for a whole row).
MAX_DEPTH = 64
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_INT_RANGE = (-(2**63), 2**64 - 1)
_DATA_FIELDS = ("body", "before", "restore")
_NAME_LISTS = ("send_fields", "depends_on", "items")


def operation_problem(op: Operation, where: str = "") -> str | None:
    """What in ``op`` cannot be planned (``where`` prefixes its fields, e.g. ``undo.``)."""
    if not isinstance(op, Operation):
        return f"{where.rstrip('.')} is a {_type(op)}: use an Operation or None"
    problem = (
        _text(op.key, f"{where}key", empty=False)
        or _method(op.method, f"{where}method")
        or _path(op.path, f"{where}path")
        or _text(op.description, f"{where}description")
        or _text(op.project, f"{where}project", empty=False)
        or _flag(op.creates, f"{where}creates")
    )
    if problem:
        return problem
    for name in _DATA_FIELDS:
        problem = json_problem(getattr(op, name), f"{where}{name}")
        if problem:
            return problem
    for name in _NAME_LISTS:
        problem = _names(getattr(op, name), f"{where}{name}")
        if problem:
            return problem
    problem = _check(op.check, f"{where}check") or _edits(op.edits, f"{where}edits")
    if problem or op.undo is None:
        return problem
    return operation_problem(op.undo, f"{where}undo.")


def skip_problem(skip: Skip) -> str | None:
    """What in ``skip`` cannot be stored (its item key and reason are str, blocked a bool)."""
    return (
        _text(skip.item, "item", empty=False)
        or _text(skip.reason, "reason")
        or _flag(skip.blocked, "blocked")
    )


def json_problem(value: Any, where: str, depth: int = 0) -> str | None:
    """What makes ``value`` (found at ``where``) not plain JSON, or None."""
    if value is None or isinstance(value, (bool, str)):
        return _string(value, where) if isinstance(value, str) else None
    if isinstance(value, int):
        low, high = _INT_RANGE
        return None if low <= value <= high else f"{where} is an int beyond 64 bits: use a str"
    if type(value) is float:
        return None if math.isfinite(value) else f"{where} is {value}: JSON has no NaN/infinity"
    if depth >= MAX_DEPTH:
        return f"{where} nests deeper than {MAX_DEPTH} levels (does it contain itself?)"
    if isinstance(value, (list, tuple)):
        for index, element in enumerate(value):
            problem = json_problem(element, f"{where}[{index}]", depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, element in value.items():
            if not isinstance(key, str):
                return f"{where} has the key {key!r} ({_type(key)}): dict keys must be str"
            problem = _string(key, f"{where} key") or json_problem(
                element, f"{where}[{key!r}]", depth + 1
            )
            if problem:
                return problem
        return None
    return f"{where} is {_article(value)}: {_instead(value)}"


def _instead(value: Any) -> str:
    """What to use instead of a value that is not JSON."""
    if isinstance(value, (set, frozenset)):
        return "use a list (sorted, so that every run plans the same)"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "use a str"
    if hasattr(value, "isoformat"):
        return "use a str (value.isoformat()) or a number, as the API expects"
    if isinstance(value, float):
        return "use a float"
    if isinstance(value, Mapping):
        return "use a dict"
    return "use JSON data (dict, list, str, int, float, bool or None)"


def _string(value: str, where: str) -> str | None:
    if value.isascii():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{where} is a str that is not valid UTF-8 (a lone surrogate): {value!r}"
    return None


def _text(value: Any, where: str, *, empty: bool = True) -> str | None:
    if not isinstance(value, str):
        return f"{where} is {_article(value)}: use a str"
    if not empty and not value:
        return f"{where} is empty"
    return _string(value, where)


def _method(value: Any, where: str) -> str | None:
    problem = _text(value, where)
    if problem is None and value.upper() not in METHODS:
        return f"{where} is {value!r}: use one of {', '.join(sorted(METHODS))}"
    return problem


def _path(value: Any, where: str) -> str | None:
    problem = _text(value, where)
    if problem is None and not value.startswith("/"):
        return f"{where} is {value!r}: use a path relative to the API, like /gates/my_gate"
    return problem


def _flag(value: Any, where: str) -> str | None:
    return None if isinstance(value, bool) else f"{where} is {_article(value)}: use True or False"


def _names(value: Any, where: str) -> str | None:
    """A tuple (or list) of strings; a bare str is refused (it would be read as letters)."""
    if not isinstance(value, (tuple, list)):
        hint = f" ({value!r},)" if isinstance(value, str) else ""
        return f"{where} is {_article(value)}: use a tuple of str{hint}"
    for index, name in enumerate(value):
        problem = _text(name, f"{where}[{index}]")
        if problem:
            return problem
    return None


def _check(check: Any, where: str) -> str | None:
    if check is None:
        return None
    if not isinstance(check, Check):
        return f"{where} is {_article(check)}: use a Check or None"
    return (
        _path(check.path, f"{where}.path")
        or json_problem(check.contains, f"{where}.contains")
        or json_problem(check.excludes, f"{where}.excludes")
        or _flag(check.absent, f"{where}.absent")
        or _find(check.find, f"{where}.find")
    )


def _find(find: Any, where: str) -> str | None:
    if find is None:
        return None
    if not isinstance(find, dict) or not find:
        return f"{where} is {_article(find)}: use a non-empty dict of the fields to look for"
    return json_problem(find, where)


def _edits(edits: Any, where: str) -> str | None:
    if not isinstance(edits, (tuple, list)):
        return f"{where} is {_article(edits)}: use a tuple of ListEdit"
    for index, edit in enumerate(edits):
        at = f"{where}[{index}]"
        if not isinstance(edit, ListEdit):
            return f"{at} is {_article(edit)}: use a ListEdit"
        problem = _text(edit.field, f"{at}.field", empty=False)
        for name in ("add", "remove"):
            values = getattr(edit, name)
            if problem is None and not isinstance(values, (tuple, list)):
                hint = f" ({values!r},)" if isinstance(values, str) else ""
                problem = f"{at}.{name} is {_article(values)}: use a tuple of values{hint}"
            problem = problem or json_problem(values, f"{at}.{name}")
        if problem:
            return problem
    return None


def _type(value: Any) -> str:
    return type(value).__name__


def _article(value: Any) -> str:
    name = _type(value)
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"
