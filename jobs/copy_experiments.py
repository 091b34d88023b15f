"""``bulkops run copy-experiments --to TARGET``: copy experiments into another project.

Each selected experiment arrives in the target (connection ``"target"``) with what it needs
there: its targeting gate, the gates and segments that gate's rule conditions name (recursively)
and its layer. Creates run in dependency order (segments -> gates -> layer -> experiment, via
``depends_on``), every reference is rewritten to the target's IDs, and experiments are created in
``setup`` state (never started). An entity of the same ID or name already in the target is reused
when it already matches the copy; when it differs, ``--on-conflict`` decides: ``skip`` (reuse it
as is, reported), ``update`` (PATCH the differing fields) or ``rename`` (create ``<id>_copy``).
A re-run after success therefore plans nothing.

ID-list segments (``id_list``, ``user_store_id_list``) arrive with their IDs: both lists are read
whole and compared as sets, and ``bulkops.migrate.idlists`` plans the fewest calls that make
the target's equal; the gates that reference such a segment wait for its last call.
The planning of one experiment's copy lives in ``bulkops.jobs.experiment_copy``, built on the
pieces ``bulkops run migrate`` uses (``bulkops.migrate``).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar

from bulkops.jobs.copy_state import TARGET, CopyState, MissingSource
from bulkops.jobs.experiment_copy import ExperimentCopy

from bulkops.migrate.plan import uncopied_line
from bulkops.run.job import Item, Job, JobConfigError, Operation, ReadContext, Skip, Source
from bulkops.run.selection import Selection

__all__ = ["CopyExperiments"]

CONFLICT_MODES = ("skip", "update", "rename")


class CopyExperiments(Job):
    """Copy selected experiments, with their gates, segments and layer, into another project."""

    name = "copy-experiments"
    help = "copy selected experiments (and the gates/segments/layer they need) to --to TARGET"
    projects = (TARGET,)
    project_options: ClassVar[Mapping[str, str]] = {TARGET: "to"}

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self._state: CopyState | None = None

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--to",
            required=True,
            metavar="TARGET",
            help="the target project: its key and URL from STATSIG_<TARGET>_CONSOLE_API_KEY / "
            "_URL or the projects file, else --target-api-key / STATSIG_TARGET_CONSOLE_API_KEY",
        )
        parser.add_argument(
            "--where",
            action="append",
            metavar="FIELD=VALUE",
            help="which experiments, repeatable and AND-ed",
        )
        parser.add_argument(
            "--on-conflict",
            choices=CONFLICT_MODES,
            default="skip",
            help="an entity of that name exists in the target and differs: "
            "skip (reuse it), update it, or rename the copy",
        )

    @property
    def on_conflict(self) -> str:
        mode = self.options.get("on_conflict") or "skip"
        if mode not in CONFLICT_MODES:
            raise JobConfigError(f"--on-conflict {mode!r}: choose skip, update or rename")
        return str(mode)

    def _validate(self) -> Selection:
        self.on_conflict  # noqa: B018 - validates --on-conflict
        return self.selection("experiments")

    def sources(self) -> Sequence[Source]:
        return [Source("experiments", dict(self._validate().server))]

    async def prepare(self, ctx: ReadContext) -> None:
        self._validate()
        self._state = CopyState(str(self.options.get("to") or TARGET), self.on_conflict)
        await self._state.read_target(ctx)

    async def plan(
        self, items: AsyncIterable[Item], ctx: ReadContext
    ) -> AsyncIterator[Operation | Skip]:
        if self._state is None:
            await self.prepare(ctx)
        assert self._state is not None
        state, selection = self._state, self._validate()
        async for item in items:
            if not selection.matches(item.data):
                yield Skip(item.key, f"not selected by {selection.describe()}")
                continue
            copy = ExperimentCopy(state, ctx, item.key)
            try:
                await copy.ensure("experiments", item.id, dict(item.data))
                copy.finish()
            except MissingSource as exc:
                yield Skip(item.key, f"cannot copy: {exc}", blocked=True)
                continue
            state.keep(copy)
            for step in copy.steps:
                yield step

    def plan_meta(self) -> dict[str, Any]:
        """``plan_lines``: the fields of copied entities that bulkops does not know (they are
        not copied: the API refuses a property it does not know)."""
        if self._state is None or not self._state.uncopied:
            return {}
        return {"plan_lines": [uncopied_line(self._state.uncopied)]}
