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
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Any

from bulkops.jobs.kinds import is_not_found, kind_facts
from bulkops.jobs.references import condition_references
from bulkops.jobs.selection import Selection, selection_for

from bulkops.run.job import Check, Item, Job, JobConfigError, Operation, ReadContext, Skip, Source

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
        self._selection: Selection | None = None
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

    def selection(self) -> Selection:
        if self._selection is None:
            wheres = list(self.options.get("where") or ())
            for text in wheres:
                field, _, value = text.partition("=")
                if field.strip() == "type" and value.strip() != "STALE":
                    raise JobConfigError(
                        f"--where {text!r}: archive-stale-gates only selects type=STALE gates"
                    )
            if not any(t.replace(" ", "").startswith("type=") for t in wheres):
                wheres.insert(0, "type=STALE")
            self._selection = selection_for(kind_facts("gates"), wheres)
            if self.options.get("older_than"):
                parse_age(str(self.options["older_than"]))
            self.action  # noqa: B018 - validates --action
        return self._selection

    def sources(self) -> Sequence[Source]:
        return [Source("gates", dict(self.selection().server))]

    async def prepare(self, ctx: ReadContext) -> None:
        self.selection()
        self._blockers = await self._read_references(ctx)

    async def _read_references(self, ctx: ReadContext) -> dict[str, list[str]]:
        blockers: dict[str, list[str]] = defaultdict(list)
        for kind in RULE_KINDS:
            singular = kind_singular(kind)
            async for entity in _list_or_empty(ctx, kind):
                if entity.get("status") == "Archived" or entity.get("isArchived"):
                    continue
                for ref_kind, ref_id in condition_references(entity):
                    if ref_kind == "gates" and ref_id != entity.get("id"):
                        blockers[ref_id].append(f"{singular} {entity.get('id')} (rule condition)")
        async for experiment in _list_or_empty(ctx, "experiments"):
            gate_id = experiment.get("targetingGateID")
            if gate_id and experiment.get("status") != "archived":
                blockers[str(gate_id)].append(f"experiment {experiment.get('id')} (targeting gate)")
        async for holdout in _list_or_empty(ctx, "holdouts"):
            for gate_id in holdout.get("gateIDs") or ():
                blockers[str(gate_id)].append(f"holdout {holdout.get('id')} (gateIDs)")
            if holdout.get("targetingGateID"):
                blockers[str(holdout["targetingGateID"])].append(
                    f"holdout {holdout.get('id')} (targeting gate)"
                )
        return dict(blockers)

    async def plan(
        self, items: AsyncIterable[Item], ctx: ReadContext
    ) -> AsyncIterator[Operation | Skip]:
        selection = self.selection()
        older = self.options.get("older_than")
        cutoff_ms = (self._now - parse_age(str(older))) * 1000 if older else None
        excluded = set(self.options.get("exclude_tag") or ())
        async for item in items:
            data = item.data
            if not selection.matches(data):
                yield Skip(item.key, f"not selected by {selection.describe()}")
            elif self._done(data):
                # Already archived (or disabled): "already fine". Checked before the age, since
                # archiving bumps lastModifiedTime: a second run must not call it "recent".
                continue
            elif excluded & set(data.get("tags") or ()):
                tags = ", ".join(sorted(excluded & set(data.get("tags") or ())))
                yield Skip(item.key, f"excluded by tag {tags}")
            elif cutoff_ms is not None and (data.get("lastModifiedTime") or 0) > cutoff_ms:
                yield Skip(item.key, f"modified less than {older} ago")
            elif item.id in self._blockers:
                yield Skip(
                    item.key,
                    "still referenced by " + "; ".join(self._blockers[item.id]),
                    blocked=True,
                )
            else:
                yield self._operation(item)

    def _done(self, data: Any) -> bool:
        if self.action == "archive":
            return data.get("status") == "Archived"
        return data.get("isEnabled") is False

    def _operation(self, item: Item) -> Operation:
        path = f"/gates/{item.id}"
        reason = item.data.get("typeReason") or "STALE"
        before = {"status": item.data.get("status"), "isEnabled": item.data.get("isEnabled")}
        if self.action == "archive":
            return Operation(
                key=f"gate:{item.id}:archive",
                method="PUT",
                path=f"{path}/archive",
                body={"archiveReason": f"stale gate ({reason}) archived by bulkops"},
                description=f"archive stale gate {item.id}: {reason}",
                check=Check(path, contains={"status": "Archived"}),
                before=before,
                # Archiving also disables the gate; unarchive does not enable it again.
                restore={"isEnabled": True} if item.data.get("isEnabled") else None,
                undo=Operation(
                    key=f"gate:{item.id}:unarchive",
                    method="PUT",
                    path=f"{path}/unarchive",
                    body={},  # the spec requires a body; unarchiveReason is optional
                    description=f"unarchive gate {item.id}",
                    check=Check(path, excludes={"status": "Archived"}),
                ),
                items=(item.key,),
            )
        return Operation(
            key=f"gate:{item.id}:disable",
            method="PUT",
            path=f"{path}/disable",
            description=f"disable stale gate {item.id}: {reason}",
            check=Check(path, contains={"isEnabled": False}),
            before=before,
            undo=Operation(
                key=f"gate:{item.id}:enable",
                method="PUT",
                path=f"{path}/enable",
                description=f"enable gate {item.id}",
                check=Check(path, contains={"isEnabled": True}),
            ),
            items=(item.key,),
        )


def kind_singular(kind: str) -> str:
    """``gates`` -> ``gate``, ``dynamic_configs`` -> ``dynamic config``."""
    return kind.removesuffix("s").replace("_", " ")


async def _list_or_empty(ctx: ReadContext, kind: str) -> AsyncIterator[dict]:
    """Every entity of ``kind``; a kind the server does not list (404) holds no references."""
    try:
        async for entity in ctx.list(kind):
            yield entity
    except Exception as exc:
        if not is_not_found(exc):
            raise
