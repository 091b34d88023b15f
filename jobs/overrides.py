"""``bulkops run overrides --kind gates ...``: add, remove or replace override IDs in bulk.

Per selected entity the current overrides are read, and only what changes is sent:

- adds only: one ``PATCH .../overrides`` holding just the missing IDs (the API's PATCH is a
  union, so others' concurrent additions are kept), or the fewest PATCHes that fit when the
  IDs exceed what one request may hold in a list (2000; 1000 for an experiment group);
- removals (or ``--replace``): one ``POST .../overrides`` (the API's update) built by the runner
  from a fresh read with ``ListEdit``s, so only the named IDs leave; an update whose list would
  exceed that limit cannot be sent and is reported blocked;
- nothing to change: the entity is left alone (no request).

Global overrides are ``passingUserIDs``/``failingUserIDs``; ``--environment staging`` edits the
``environmentOverrides`` entry of that environment (``unitID`` = the entity's ``idType``).
Experiments hold overrides by group: ``--group GROUP_ID`` with ``--add-passing`` /
``--remove-passing`` edits the ``userIDOverrides`` entry of that group for every environment, or
with ``--environment`` the entry of that group and environment.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from bulkops.jobs.id_lists import parse_id_list
from bulkops.jobs.override_fields import IdChange, done_check, entry_where, group_entry, list_at

from bulkops.run.job import (
    Item,
    Job,
    JobConfigError,
    ListEdit,
    Operation,
    PlanStep,
    ReadContext,
    Skip,
    Source,
)
from bulkops.run.selection import kind_of

__all__ = ["Overrides"]

KINDS = ("gates", "experiments", "holdouts")
#: Kinds a user may name that this job cannot edit, and why.
UNSUPPORTED_KINDS = {
    "dynamic_configs": "the Console API has no overrides endpoint for dynamic configs",
    "layers": "layer overrides (POST /layers/{id}/overrides) are not supported by this job yet",
}
#: Top-level fields of an ID-style overrides document (gates, holdouts).
ID_FIELDS = (
    "passingUserIDs",
    "failingUserIDs",
    "passingCustomIDs",
    "failingCustomIDs",
    "environmentOverrides",
)
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9_-]+$")
#: The most IDs one request may hold in one list (spec: ``maxItems`` of the global ID lists and
#: of an experiment group's ``ids``); larger additions are split into several union PATCHes.
MAX_IDS_PER_REQUEST = {"experiments": 1000}
DEFAULT_MAX_IDS = 2000


class Overrides(Job):
    """Add, remove or replace override IDs on the selected gates, holdouts or experiments."""

    name = "overrides"
    help = "add/remove/replace override IDs (global or per --environment) on selected entities"

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self._ids: dict[str, tuple[str, ...]] | None = None

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--kind",
            required=True,
            metavar="{" + ",".join(KINDS) + "}",
            help="what to edit",
        )
        parser.add_argument(
            "--where",
            action="append",
            metavar="FIELD=VALUE",
            help="selection, repeatable and AND-ed",
        )
        for flag in ("add-passing", "add-failing", "remove-passing", "remove-failing"):
            parser.add_argument(
                f"--{flag}",
                metavar="IDS",
                help="comma-separated IDs, or @FILE with one ID per line",
            )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="make the lists exactly the --add-* IDs (removes all others)",
        )
        parser.add_argument(
            "--environment",
            metavar="NAME",
            help="edit this environment's overrides instead of the global ones",
        )
        parser.add_argument(
            "--group",
            metavar="GROUP_ID",
            help="experiments: the group whose ID overrides are edited",
        )

    # -- validation --------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        kind = self.options.get("kind")
        if kind not in KINDS:
            why = UNSUPPORTED_KINDS.get(str(kind))
            choose = f"choose one of {', '.join(KINDS)}"
            raise JobConfigError(
                f"--kind {kind}: {why}; {choose}" if why else f"--kind {kind!r}: {choose}"
            )
        return str(kind)

    def ids(self) -> dict[str, tuple[str, ...]]:
        """The parsed ID lists by action, validated (nothing is sent before this passes)."""
        if self._ids is None:
            ids = {
                action: parse_id_list(f"--{action.replace('_', '-')}", self.options.get(action))
                for action in ("add_passing", "add_failing", "remove_passing", "remove_failing")
            }
            self._validate(ids)
            self._ids = ids
        return self._ids

    def _validate(self, ids: dict[str, tuple[str, ...]]) -> None:
        if not any(ids.values()) and not self.options.get("replace"):
            raise JobConfigError(
                "nothing to do: give --add-passing, --add-failing, --remove-passing, "
                "--remove-failing or --replace"
            )
        if self.options.get("replace") and (ids["remove_passing"] or ids["remove_failing"]):
            raise JobConfigError("--replace sets the lists to the --add-* IDs; drop --remove-*")
        for a, b in (
            ("add_passing", "add_failing"),
            ("add_passing", "remove_passing"),
            ("add_failing", "remove_failing"),
        ):
            both = sorted(set(ids[a]) & set(ids[b]))
            if both:
                flags = f"--{a.replace('_', '-')} and --{b.replace('_', '-')}"
                raise JobConfigError(f"ID {both[0]!r} is in both {flags}")
        environment = self.options.get("environment")
        if environment is not None and not _ENVIRONMENT.match(str(environment)):
            raise JobConfigError(
                f"--environment {environment!r}: an environment name has only letters, digits, "
                "'_' and '-' (no spaces)"
            )
        if self.kind == "experiments":
            if not self.options.get("group"):
                raise JobConfigError("--kind experiments: name the group with --group GROUP_ID")
            if ids["add_failing"] or ids["remove_failing"]:
                raise JobConfigError(
                    "--kind experiments: overrides put IDs in a group; use --add-passing / "
                    "--remove-passing with --group (no --*-failing)"
                )

    def sources(self) -> Sequence[Source]:
        self.ids()
        return [Source(self.kind, dict(self.selection(self.kind).server))]

    async def prepare(self, ctx: ReadContext) -> None:
        self.ids()
        self.selection(self.kind)
        environment = self.options.get("environment")
        if environment is None:
            return
        data = await ctx.get("/environments", default=None)
        if data is None:
            return
        names = [e.get("name") for e in (data or {}).get("environments") or ()]
        if names and environment not in names:
            raise JobConfigError(
                f"--environment {environment!r}: not an environment of this project "
                f"({', '.join(map(str, names))})"
            )

    # -- planning ----------------------------------------------------------------------------

    async def plan_item(self, item: Item, ctx: ReadContext) -> PlanStep:
        skip = self.unselected(item)
        if skip is not None:
            return skip
        path = f"{kind_of(self.kind).path_of(item.id)}/overrides"
        current = dict(await ctx.get(path) or {})
        changes = [c for c in self._changes(current) if c.add or c.remove]
        if not changes:
            return None
        if any(c.remove for c in changes):
            too_long = self._too_long(current, changes)
            if too_long:
                return Skip(item.key, too_long, blocked=True)
            return self._operation(item, path, current, changes)
        return [
            self._operation(item, path, current, chunk, part=part)
            for part, chunk in enumerate(self._chunks(changes), start=1)
        ]

    def _too_long(self, current: dict[str, Any], changes: list[IdChange]) -> str | None:
        """Why an update (POST of whole lists) cannot be sent, if a list exceeds the limit."""
        limit = MAX_IDS_PER_REQUEST.get(self.kind, DEFAULT_MAX_IDS)
        for change in changes:
            size = len(list_at(current, change.field)) + len(change.add) - len(change.remove)
            if size > limit and not change.field.startswith("environmentOverrides"):
                return (
                    f"{change.field} would hold {size} IDs: one update takes at most "
                    f"{limit}; remove IDs in a separate run first, then add"
                )
        return None

    def _chunks(self, changes: list[IdChange]) -> list[list[IdChange]]:
        """Additions split so that no request holds more IDs in one list than the API takes."""
        limit = MAX_IDS_PER_REQUEST.get(self.kind, DEFAULT_MAX_IDS)
        longest = max(len(c.add) for c in changes)
        return [
            [
                IdChange(c.field, c.add[start : start + limit], ())
                for c in changes
                if c.add[start : start + limit]
            ]
            for start in range(0, longest, limit)
        ]

    def _changes(self, current: dict[str, Any]) -> list[IdChange]:
        ids = self.ids()
        if self.kind == "experiments":
            group, environment = str(self.options["group"]), self.options.get("environment")
            entry = group_entry(current.get("userIDOverrides"), group, environment)
            field = f"userIDOverrides[groupID={group},environment={environment or ''}].ids"
            return [
                self._change(field, entry.get("ids"), ids["add_passing"], ids["remove_passing"])
            ]
        environment = self.options.get("environment")
        if environment is None:
            fields = ("passingUserIDs", "failingUserIDs")
            lists = [current.get(f) for f in fields]
        else:
            entry = entry_where(current.get("environmentOverrides"), "environment", environment)
            prefix = f"environmentOverrides[environment={environment}]."
            fields = (prefix + "passingIDs", prefix + "failingIDs")
            lists = [entry.get("passingIDs"), entry.get("failingIDs")]
        return [
            self._change(fields[0], lists[0], ids["add_passing"], ids["remove_passing"]),
            self._change(fields[1], lists[1], ids["add_failing"], ids["remove_failing"]),
        ]

    def _change(
        self, field: str, current: Any, add: Sequence[str], remove: Sequence[str]
    ) -> IdChange:
        present = list(current or ())
        if self.options.get("replace"):
            remove = [x for x in present if x not in set(add)]
        return IdChange(
            field,
            tuple(x for x in add if x not in present),
            tuple(x for x in remove if x in present),
        )

    def _operation(
        self,
        item: Item,
        path: str,
        current: dict[str, Any],
        changes: list[IdChange],
        *,
        part: int = 1,
    ) -> Operation:
        summary = "; ".join(
            f"{c.field.rsplit('.', 1)[-1]} +{len(c.add)} -{len(c.remove)}" for c in changes
        )
        where = f" in {self.options['environment']}" if self.options.get("environment") else ""
        edits = tuple(ListEdit(c.field, add=c.add, remove=c.remove) for c in changes)
        inverse = tuple(ListEdit(c.field, add=c.remove, remove=c.add) for c in changes)
        send_fields = self._send_fields(current)
        done, undone = (
            done_check(path, changes, forward=True),
            done_check(path, changes, forward=False),
        )
        key = f"{item.kind}:{item.id}:overrides" + (f":{part}" if part > 1 else "")
        undo = Operation(
            key=f"{key}:undo",
            method="POST",
            path=path,
            description=f"restore overrides of {item.kind} {item.id}",
            check=undone,
            edits=inverse,
            send_fields=send_fields,
        )
        operation = Operation(
            key=key,
            method="PATCH",
            path=path,
            description=f"overrides of {item.kind} {item.id}{where}: {summary}",
            check=done,
            before={f: current[f] for f in send_fields if f in current},
            undo=undo,
            items=(item.key,),
        )
        if any(c.remove for c in changes):
            return replace(operation, method="POST", edits=edits, send_fields=send_fields)
        return replace(operation, body=self._union_body(item, changes))

    def _send_fields(self, current: dict[str, Any]) -> tuple[str, ...]:
        if self.kind == "experiments":
            return ("overrides", "userIDOverrides")
        present = tuple(f for f in ID_FIELDS if f in current)
        return present or ("passingUserIDs", "failingUserIDs", "environmentOverrides")

    def _union_body(self, item: Item, changes: list[IdChange]) -> dict[str, Any]:
        environment = self.options.get("environment")
        if self.kind == "experiments":
            entry = {"groupID": self.options["group"], "ids": list(changes[0].add)}
            # the API takes both lists (a union: no gate/segment overrides added)
            return {
                "overrides": [],
                "userIDOverrides": [entry | ({"environment": environment} if environment else {})],
            }
        adds = {c.field.rsplit(".", 1)[-1]: list(c.add) for c in changes}
        passing = adds.get("passingUserIDs") or adds.get("passingIDs") or []
        failing = adds.get("failingUserIDs") or adds.get("failingIDs") or []
        if environment is None:
            # the API takes the ID form only with both lists (it is a union: [] adds nothing)
            return {"passingUserIDs": passing, "failingUserIDs": failing}
        unit = item.data.get("idType") or "userID"
        return {
            "environmentOverrides": [
                {
                    "environment": environment,
                    "unitID": unit,
                    "passingIDs": passing,
                    "failingIDs": failing,
                }
            ]
        }
