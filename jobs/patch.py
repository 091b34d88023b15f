"""``bulkops run patch --kind K --where ... --set field=value``: fleet edits of writable fields.

Fields are checked against the resource catalog before anything is sent: a read-only or unknown
field, or a value of the wrong type (``isEnabled=yes``; types from the spec's update DTOs), is a
usage error naming it. Values are JSON when they parse (``true``, ``3``, ``["a","b"]``), else
plain strings; a string field keeps the text as typed (``name=2024``); ``tags=a,b`` is a list.
``--merge file.json`` gives the fields as one JSON object. Each selected entity gets one PATCH
holding only the fields that differ; entities already as wanted get none.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from bulkops.api.resource_kind import ResourceKind
from bulkops.run.job import (
    Check,
    Item,
    Job,
    JobConfigError,
    Operation,
    PlanStep,
    ReadContext,
    Source,
)
from bulkops.run.selection import kind_of
from bulkops.run.userfile import read_user_text

__all__ = ["Patch", "parse_assignment"]

#: Fields holding lists of strings, where ``a,b`` means ``["a", "b"]``.
LIST_FIELDS = frozenset({"tags", "targetApps"})


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"isEnabled=false"`` -> ``("isEnabled", False)``."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise JobConfigError(f"--set {text!r}: expected FIELD=VALUE, e.g. --set isEnabled=false")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    if name in LIST_FIELDS and isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    return name, value


def _read_merge(path: str) -> dict[str, Any]:
    expected = "a JSON object of field: value (UTF-8)"
    text = read_user_text(path, "--merge file", expected, error=JobConfigError)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise JobConfigError(f"--merge file {path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise JobConfigError(f"--merge file {path}: expected {expected}")
    return data


class Patch(Job):
    """Set writable fields on every selected entity of one kind."""

    name = "patch"
    help = "set writable fields (--set field=value / --merge file.json) on selected entities"

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self._fields: dict[str, Any] | None = None

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--kind", required=True, help="catalog kind, e.g. gates")
        parser.add_argument(
            "--where",
            action="append",
            metavar="FIELD=VALUE",
            help="selection, repeatable and AND-ed",
        )
        parser.add_argument(
            "--set",
            action="append",
            metavar="FIELD=VALUE",
            help="a field to write (repeatable); JSON values or plain strings",
        )
        parser.add_argument("--merge", metavar="FILE", help="a JSON object of fields to write")

    @property
    def facts(self) -> ResourceKind:
        return kind_of(str(self.options.get("kind") or ""))

    def fields(self) -> dict[str, Any]:
        """The validated fields to write."""
        if self._fields is None:
            fields: dict[str, Any] = {}
            if self.options.get("merge"):
                fields.update(_read_merge(str(self.options["merge"])))
            fields.update(self._typed(t) for t in self.options.get("set") or ())
            if not fields:
                raise JobConfigError("nothing to write: give --set FIELD=VALUE or --merge FILE")
            self._check_writable(fields)
            self._check_types(fields)
            self._fields = fields
        return self._fields

    def _typed(self, text: str) -> tuple[str, Any]:
        """``--set`` text -> (field, value); a string field keeps the text as typed, so
        ``--set description=2024`` writes ``"2024"``, not the number."""
        name, value = parse_assignment(text)
        raw = text.partition("=")[2]
        wanted = self.facts.update_types.get(name, "")
        is_scalar = isinstance(value, (bool, int, float)) or value is None
        if is_scalar and "string" in wanted.split("|") and self.facts.type_error(name, value):
            value = raw
        return name, value

    def _check_types(self, fields: dict[str, Any]) -> None:
        """Refuse a value of the wrong type before a mutation is spent on every entity."""
        for name, value in fields.items():
            problem = self.facts.type_error(name, value)
            if problem:
                raise JobConfigError(f"--set {name}: {problem} (got {_json(value)})")

    def _check_writable(self, fields: dict[str, Any]) -> None:
        facts = self.facts
        for name in fields:
            if name in facts.writable_fields:
                continue
            if name in facts.read_only_fields or name == "id":
                raise JobConfigError(f"--set {name}: {name!r} is read-only on {facts.name}")
            writable = ", ".join(sorted(facts.writable_fields))
            raise JobConfigError(
                f"--set {name}: {facts.name} has no writable field {name!r}; writable: {writable}"
            )

    def sources(self) -> Sequence[Source]:
        self.fields()
        return [Source(self.facts.name, dict(self.selection(self.facts.name).server))]

    async def prepare(self, ctx: ReadContext) -> None:
        self.fields()
        self.selection(self.facts.name)

    async def plan_item(self, item: Item, ctx: ReadContext) -> PlanStep:
        skip = self.unselected(item)
        if skip is not None:
            return skip
        facts, fields = self.facts, self.fields()
        changed = {k: v for k, v in fields.items() if item.data.get(k) != v}
        if not changed:
            return None
        before = {k: item.data.get(k) for k in changed}
        path = facts.path_of(item.id)
        shown = "; ".join(f"{k} {_json(before[k])} → {_json(v)}" for k, v in changed.items())
        return Operation(
            key=f"{facts.name}:{item.id}:patch",
            method=facts.update_method or "PATCH",
            path=path,
            body=changed,
            description=f"patch {facts.name} {item.id}: {shown}",
            check=Check(path, contains=changed, excludes=_dropped(before, changed)),
            before=before,
            items=(item.key,),
        )


def _json(value: Any, width: int = 60) -> str:
    """A value as JSON for humans (reports, messages), cut at ``width`` characters."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def _dropped(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any] | None:
    """List elements the patch removes: a ``contains`` check alone would already hold."""
    dropped = {
        k: [v for v in before[k] if v not in after[k]]
        for k in after
        if isinstance(before.get(k), list) and isinstance(after[k], list)
    }
    dropped = {k: v for k, v in dropped.items() if v}
    return dropped or None
