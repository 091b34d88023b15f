"""``bulkops run archive-stale-gates``: archive (or disable) the gates Statsig marks stale.

Selection uses the API's own filters (``type=STALE``, plus ``--where typeReason=...``), then
``--older-than 90d`` on ``lastModifiedTime`` and ``--exclude-tag keep`` (a permanent opt-out).
The runner freezes the list before the first archive, so archiving while paginating skips
nothing. Before acting, each gate's references are checked: a gate that another gate's condition
(``passes_gate``/``fails_gate``), a dynamic config's or segment's condition, an experiment's
``targetingGateID`` or a holdout still references is reported as blocked, with what blocks it.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from bulkops.api.errors import NotFoundError
from bulkops.api.resources import rule_references
from bulkops.run.job import (
    Check,
    Item,
    Job,
    JobConfigError,
    Operation,
    PlanStep,
    ReadContext,
    Skip,
    Source,
)
from bulkops.run.selection import kind_of

__all__ = ["ArchiveStaleGates", "parse_age"]

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

#: Kinds whose rule conditions may reference a gate.
RULE_KINDS = ("gates", "dynamic_configs", "segments")


def parse_age(text: str) -> float:
    """``"90d"`` -> seconds (units s, m, h, d, w); anything else is a ``JobConfigError``."""
    match = _AGE.match(text or "")
    if not match:
        raise JobConfigError(
            f"--older-than {text!r}: expected a number and a unit (s, m, h, d, w), e.g. 90d"
        )
    return float(match.group(1)) * _SECONDS[match.group(2)]


class ArchiveStaleGates(Job):
    """Archive or disable stale gates nobody references any more."""

    name = "archive-stale-gates"
    help = "archive (or disable) STALE gates older than --older-than, unless still referenced"

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self._blockers: dict[str, list[str]] = {}
        self._now = time.time()

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--where",
            action="append",
            metavar="FIELD=VALUE",
            help="narrow the selection, e.g. typeReason=STALE_PROBABLY_LAUNCHED (repeatable)",
        )
        parser.add_argument(
            "--older-than",
            metavar="AGE",
            help="only gates last modified more than AGE ago (e.g. 90d, 12w)",
        )
        parser.add_argument(
            "--exclude-tag",
            action="append",
            metavar="TAG",
            help="never touch gates with this tag (repeatable), e.g. keep",
        )
        parser.add_argument(
            "--action",
            choices=("archive", "disable"),
            default="archive",
            help="archive (default) or only disable the gates",
        )

    @property
    def action(self) -> str:
        action = self.options.get("action") or "archive"
        if action not in ("archive", "disable"):
            raise JobConfigError(f"--action {action!r}: choose archive or disable")
        return str(action)

    def wheres(self, kind: str) -> Sequence[str]:
        """``--where`` with ``type=STALE`` added: this job only ever selects stale gates."""
        wheres = list(super().wheres(kind))
        for text in wheres:
            field, _, value = text.partition("=")
            if field.strip() == "type" and value.strip() != "STALE":
                raise JobConfigError(
                    f"--where {text!r}: archive-stale-gates only selects type=STALE gates"
                )
        if not any(t.replace(" ", "").startswith("type=") for t in wheres):
            wheres.insert(0, "type=STALE")
        return wheres

    def _validate(self) -> None:
        self.selection("gates")
        if self.options.get("older_than"):
            parse_age(str(self.options["older_than"]))
        self.action  # noqa: B018 - validates --action

    def sources(self) -> Sequence[Source]:
        self._validate()
        return [Source("gates", dict(self.selection("gates").server))]

    async def prepare(self, ctx: ReadContext) -> None:
        self._validate()
        self._blockers = await self._read_references(ctx)

    async def _read_references(self, ctx: ReadContext) -> dict[str, list[str]]:
        """Who references each gate: the kinds are listed concurrently."""
        kinds = (*RULE_KINDS, "experiments", "holdouts")
        listed: list[list[dict[str, Any]]] = await ctx.gather(
            lambda kind: _list_or_empty(ctx, kind), kinds
        )
        blockers: dict[str, list[str]] = defaultdict(list)
        for kind, entities in zip(kinds, listed, strict=True):
            for entity in entities:
                for gate_id, why in _gate_references(kind, entity):
                    blockers[gate_id].append(why)
        return dict(blockers)

    async def plan_item(self, item: Item, ctx: ReadContext) -> PlanStep:
        skip = self.unselected(item)
        if skip is not None:
            return skip
        data = item.data
        older = self.options.get("older_than")
        cutoff_ms = (self._now - parse_age(str(older))) * 1000 if older else None
        excluded = set(self.options.get("exclude_tag") or ())
        if self._done(data):
            # Already archived (or disabled): "already fine". Checked before the age, since
            # archiving bumps lastModifiedTime: a second run must not call it "recent".
            return None
        if excluded & set(data.get("tags") or ()):
            tags = ", ".join(sorted(excluded & set(data.get("tags") or ())))
            return Skip(item.key, f"excluded by tag {tags}")
        if cutoff_ms is not None and (data.get("lastModifiedTime") or 0) > cutoff_ms:
            return Skip(item.key, f"modified less than {older} ago")
        if item.id in self._blockers:
            why = "still referenced by " + "; ".join(self._blockers[item.id])
            return Skip(item.key, why, blocked=True)
        return self._operation(item)

    def _done(self, data: Any) -> bool:
        if self.action == "archive":
            return data.get("status") == "Archived"
        return data.get("isEnabled") is False

    def _operation(self, item: Item) -> Operation:
        gates = kind_of("gates")
        path = gates.path_of(item.id)

        def action(name: str) -> tuple[str, str]:
            method, template = gates.lifecycle[name]
            return method, template.replace("{id}", item.id)

        reason = item.data.get("typeReason") or "STALE"
        before = {"status": item.data.get("status"), "isEnabled": item.data.get("isEnabled")}
        if self.action == "archive":
            method, action_path = action("archive")
            undo_method, undo_path = action("unarchive")
            return Operation(
                key=f"gate:{item.id}:archive",
                method=method,
                path=action_path,
                body={"archiveReason": f"stale gate ({reason}) archived by bulkops"},
                description=f"archive stale gate {item.id}: {reason}",
                check=Check(path, contains={"status": "Archived"}),
                before=before,
                # Archiving also disables the gate; unarchive does not enable it again.
                restore={"isEnabled": True} if item.data.get("isEnabled") else None,
                undo=Operation(
                    key=f"gate:{item.id}:unarchive",
                    method=undo_method,
                    path=undo_path,
                    body={},  # the spec requires a body; unarchiveReason is optional
                    description=f"unarchive gate {item.id}",
                    check=Check(path, excludes={"status": "Archived"}),
                ),
                items=(item.key,),
            )
        method, action_path = action("disable")
        undo_method, undo_path = action("enable")
        return Operation(
            key=f"gate:{item.id}:disable",
            method=method,
            path=action_path,
            description=f"disable stale gate {item.id}: {reason}",
            check=Check(path, contains={"isEnabled": False}),
            before=before,
            undo=Operation(
                key=f"gate:{item.id}:enable",
                method=undo_method,
                path=undo_path,
                description=f"enable gate {item.id}",
                check=Check(path, contains={"isEnabled": True}),
            ),
            items=(item.key,),
        )


def kind_singular(kind: str) -> str:
    """``gates`` -> ``gate``, ``dynamic_configs`` -> ``dynamic config``."""
    return kind.removesuffix("s").replace("_", " ")


async def _list_or_empty(ctx: ReadContext, kind: str) -> list[dict[str, Any]]:
    """Every entity of ``kind``; a kind the server does not list (404) holds no references."""
    try:
        return [entity async for entity in ctx.list(kind)]
    except NotFoundError:
        return []


def _gate_references(kind: str, entity: dict[str, Any]) -> list[tuple[str, str]]:
    """``(gate id, what references it)`` for one live entity of ``kind``."""
    found: list[tuple[str, str]] = []
    ident = entity.get("id")
    if kind in RULE_KINDS:
        if entity.get("status") == "Archived" or entity.get("isArchived"):
            return found
        singular = kind_singular(kind)
        for ref_kind, ref_id in rule_references(entity):
            if ref_kind == "gates" and ref_id != ident:
                found.append((ref_id, f"{singular} {ident} (rule condition)"))
    elif kind == "experiments":
        gate_id = entity.get("targetingGateID")
        if gate_id and entity.get("status") != "archived":
            found.append((str(gate_id), f"experiment {ident} (targeting gate)"))
    elif kind == "holdouts":
        for gate_id in entity.get("gateIDs") or ():
            found.append((str(gate_id), f"holdout {ident} (gateIDs)"))
        if entity.get("targetingGateID"):
            found.append((str(entity["targetingGateID"]), f"holdout {ident} (targeting gate)"))
    return found
