"""``bulkops run attach-holdout --holdout ID``: attach (or ``--detach``) selected entities.

The holdout's ``gateIDs``/``experimentIDs``/``layerIDs`` are changed with ONE PATCH of the
holdout for the whole selection (never one PATCH per gate). The PATCH is a read-modify-write
``ListEdit`` that the runner applies to a fresh read right before sending, so IDs others attached
meanwhile are kept. Entities already attached (or, with ``--detach``, not attached) are skipped
and reported, not re-sent.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Any

from bulkops.run.job import (
    Check,
    Item,
    Job,
    JobConfigError,
    ListEdit,
    Operation,
    ReadContext,
    Skip,
    Source,
)
from bulkops.run.selection import kind_of

__all__ = ["AttachHoldout"]

#: The holdout field that lists each kind of member.
MEMBER_FIELDS = {"gates": "gateIDs", "experiments": "experimentIDs", "layers": "layerIDs"}


class AttachHoldout(Job):
    """Attach selected gates (and optionally experiments and layers) to a holdout, or detach."""

    name = "attach-holdout"
    help = "attach selected gates/experiments/layers to a holdout (or --detach) in one PATCH"

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self._holdout: dict[str, Any] | None = None

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--holdout", required=True, metavar="ID", help="the holdout's ID")
        parser.add_argument(
            "--detach", action="store_true", help="remove the selection from the holdout instead"
        )
        parser.add_argument(
            "--kind",
            action="append",
            choices=sorted(MEMBER_FIELDS),
            help="kinds to select (repeatable; default: gates)",
        )
        parser.add_argument(
            "--where",
            action="append",
            metavar="FIELD=VALUE",
            help="selection, repeatable and AND-ed (FIELD=VALUE, FIELD!=VALUE, name~GLOB)",
        )

    @property
    def holdout_id(self) -> str:
        holdout = str(self.options.get("holdout") or "").strip()
        if not holdout:
            raise JobConfigError("--holdout: give the ID of the holdout to attach to")
        return holdout

    @property
    def kinds(self) -> tuple[str, ...]:
        kinds = self.options.get("kind") or ["gates"]
        unknown = [k for k in kinds if k not in MEMBER_FIELDS]
        if unknown:
            raise JobConfigError(
                f"--kind {unknown[0]!r}: a holdout holds gates, experiments, layers"
            )
        return tuple(dict.fromkeys(kinds))

    def sources(self) -> Sequence[Source]:
        return [Source(kind, dict(self.selection(kind).server)) for kind in self.kinds]

    async def prepare(self, ctx: ReadContext) -> None:
        for kind in self.kinds:
            self.selection(kind)
        holdout = await ctx.get(kind_of("holdouts").path_of(self.holdout_id), default=None)
        if holdout is None:
            raise JobConfigError(
                f"--holdout {self.holdout_id!r}: no such holdout in this project "
                "(list them with GET /holdouts)"
            )
        self._holdout = dict(holdout)

    async def plan(
        self, items: AsyncIterable[Item], ctx: ReadContext
    ) -> AsyncIterator[Operation | Skip]:
        if self._holdout is None:
            await self.prepare(ctx)
        assert self._holdout is not None
        detach = bool(self.options.get("detach"))
        changes: dict[str, list[str]] = {}
        served: list[str] = []
        async for item in items:
            skip = self.unselected(item)
            if skip is not None:
                yield skip
                continue
            field = MEMBER_FIELDS[item.kind]
            attached = item.id in (self._holdout.get(field) or ())
            if attached != detach:
                continue  # already as wanted: counted "already fine" by the plan summary
            changes.setdefault(field, []).append(item.id)
            served.append(item.key)
        if changes:
            yield self._operation(changes, tuple(served), detach)

    def _operation(
        self, changes: dict[str, list[str]], served: tuple[str, ...], detach: bool
    ) -> Operation:
        holdout_id = self.holdout_id
        path = kind_of("holdouts").path_of(holdout_id)
        ids = {field: tuple(values) for field, values in changes.items()}
        attach_edits = tuple(ListEdit(field, add=values) for field, values in ids.items())
        detach_edits = tuple(ListEdit(field, remove=values) for field, values in ids.items())
        attached = Check(path, contains={f: list(v) for f, v in ids.items()})
        detached = Check(path, excludes={f: list(v) for f, v in ids.items()})
        verb, inverse = ("detach", "attach") if detach else ("attach", "detach")
        counts = ", ".join(f"{len(v)} {f.removesuffix('IDs')}(s)" for f, v in ids.items())
        assert self._holdout is not None
        return Operation(
            key=f"holdout:{holdout_id}:{verb}",
            method="PATCH",
            path=path,
            description=f"{verb} {counts} {'from' if detach else 'to'} holdout {holdout_id}",
            check=detached if detach else attached,
            edits=detach_edits if detach else attach_edits,
            before={f: list(self._holdout.get(f) or ()) for f in ids},
            undo=Operation(
                key=f"holdout:{holdout_id}:{verb}:undo",
                method="PATCH",
                path=path,
                description=f"{inverse} again what was {verb}ed for holdout {holdout_id}",
                check=attached if detach else detached,
                edits=attach_edits if detach else detach_edits,
            ),
            items=served,
        )
