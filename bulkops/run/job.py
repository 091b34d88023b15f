"""The public job model: what a job declares, and nothing about how it is run.

A job is plain Python. It names what it lists (``Source``), and turns the frozen list of items
into ``Operation``s: explicit mutations, each with a key stable across runs, a description for
humans, a ``Check`` that tells from current state whether it is already done, and what to write
back to undo it. The runner (``bulkops.run.runner``) freezes the items and the plan into the
journal, then executes; a job never touches HTTP sessions, SQLite or the terminal.

Everything here is plain data that round-trips through JSON (``to_dict``/``from_dict``), because
the plan is frozen in the journal and resume must not depend on re-listing or re-planning.

Connections are named: ``"source"`` is the project the run is pointed at; a job that writes to
another project (copy-experiments) declares ``"target"`` in ``Job.projects``.
"""

from __future__ import annotations

import argparse
import builtins
import sys
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from bulkops.errors import JobConfigError
from bulkops.run.selection import Selection, selection_for

__all__ = [
    "CREATED_ID",
    "MISSING",
    "Check",
    "Item",
    "Job",
    "JobConfigError",
    "ListEdit",
    "Operation",
    "PlanStep",
    "ReadContext",
    "Selection",
    "Skip",
    "Source",
    "plan_entries",
    "plans_per_item",
]

SOURCE = "source"
#: In an undo's path: the ID the server gave what the operation created (see ``Operation``).
CREATED_ID = "{created_id}"


@dataclass(frozen=True)
class Source:
    """One paginated list a job reads: a catalog kind, server-side filters, and a connection."""

    kind: str
    filters: Mapping[str, str] = field(default_factory=dict)
    project: str = SOURCE


@dataclass(frozen=True)
class Item:
    """One listed entity, as frozen into the journal before any mutation."""

    kind: str
    id: str
    data: Mapping[str, Any]
    project: str = SOURCE

    @property
    def key(self) -> str:
        """``project:kind:id``, unique in a run."""
        return f"{self.project}:{self.kind}:{self.id}"


@dataclass(frozen=True)
class Check:
    """How to tell, by reading current state, that an operation's effect is already there.

    The runner GETs ``path`` (on the operation's connection) and the operation counts as done when:
    - ``absent``: the GET answers 404 (a delete is done);
    - else the GET answers 200 and its data ``contains`` the given JSON (dicts: every given key
      matches recursively; lists: every given element is present) and holds none of ``excludes``
      (lists: no given element present; dicts: recursively). ``contains=None`` and
      ``excludes=None`` with ``absent=False`` means "exists" (a create is done).
    - ``find``: for what the server gives an ID of its own (a tag, a target app): ``path`` is
      then a list path (``/tags``), read page by page, and the effect is there when one element
      contains ``find`` (``{"name": "beta"}``); that element's ``id`` is recorded as the
      operation's created ID (see ``CREATED_ID``). ``absent`` then means "no such element".
    """

    path: str
    contains: Any = None
    excludes: Any = None
    absent: bool = False
    find: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ListEdit:
    """A read-modify-write edit of one list field, evaluated right before the request is sent.

    ``field`` is a dotted path into the entity read from ``Operation.check.path``; a segment may
    select one element of a list of objects by ``name[key=value]``, created when missing, e.g.
    ``gateIDs`` or ``userIDOverrides[groupID=test,environment=staging].ids``. The runner adds the
    missing ``add`` values (keeping order, appending new ones) and drops the ``remove`` values, so
    edits made by others since the plan are kept (no clobbering).
    """

    field: str
    add: tuple[Any, ...] = ()
    remove: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Operation:
    """One mutation, explicit and serializable.

    - ``key``: stable across runs and unique within a run (e.g. ``holdout:h1:attach``).
    - ``method``/``path``/``body``: the request, path relative to the API base (``/gates/g1``).
    - ``project``: the connection it goes to (``"source"`` or a name from ``Job.projects``).
    - ``check``: tells whether the effect is already there (no-op skip, resume reconciliation).
    - ``edits``: when given, the body is rebuilt at send time from a fresh GET of ``check.path``
      with the edits applied; the body then holds the top-level fields in ``send_fields`` (default:
      the top-level fields the edits touch). If nothing changes, the operation is SKIPPED.
    - ``creates``: the request is not idempotent (POST create, add rule): never re-sent without
      reading ``check`` first.
    - ``before``: the before-image of what it changes (job-supplied, from the listed state); the
      runner replaces it with the fresh read when it reads before sending.
    - ``undo``: the explicit inverse (archive → unarchive, create → delete); when None, revert
      writes the ``before`` fields back with PATCH on ``path``. An undo's ``path`` may hold
      ``CREATED_ID`` (``/tags/{created_id}``): revert puts there the ID the server gave the
      create (its response's ``id``, or the element a ``Check.find`` found).
    - ``restore``: with ``undo``, fields revert PATCHes back onto the entity at ``check.path``
      after the undo, for what the inverse endpoint does not undo (archiving a gate also
      disables it; unarchiving does not enable it again).
    - ``depends_on``: keys of operations that must be DONE or SKIPPED before this one is sent
      (dependency order in migrations: segment before gate before experiment).
    - ``items``: keys (``Item.key``) of the listed items this operation serves; the plan summary
      counts items served by no operation and no ``Skip`` as "already fine".
    """

    key: str
    method: str
    path: str
    body: Any = None
    description: str = ""
    project: str = SOURCE
    check: Check | None = None
    edits: tuple[ListEdit, ...] = ()
    send_fields: tuple[str, ...] = ()
    creates: bool = False
    before: Any = None
    undo: Operation | None = None
    restore: Any = None
    depends_on: tuple[str, ...] = ()
    items: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Where it was built (file, line), for plan-time errors; not data: not in to_dict.
        caller = sys._getframe(2)  # 0: here, 1: the dataclass __init__, 2: who built it
        object.__setattr__(self, "_built_at", (caller.f_code.co_filename, caller.f_lineno))

    def to_dict(self) -> dict[str, Any]:
        """The operation as JSON-ready data (as the journal stores it)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Operation:
        """The operation back from ``to_dict``'s data."""
        d = dict(data)
        check = d.get("check")
        d["check"] = Check(**check) if check is not None else None
        d["edits"] = tuple(
            ListEdit(e["field"], tuple(e.get("add", ())), tuple(e.get("remove", ())))
            for e in d.get("edits", ())
        )
        d["send_fields"] = tuple(d.get("send_fields", ()))
        d["depends_on"] = tuple(d.get("depends_on", ()))
        d["items"] = tuple(d.get("items", ()))
        undo = d.get("undo")
        d["undo"] = cls.from_dict(undo) if undo is not None else None
        return cls(**d)


@dataclass(frozen=True)
class Skip:
    """A planned non-action, reported in the plan and the report: an item left alone, and why.

    ``blocked=True`` means the item should change but must not (e.g. a stale gate that an
    experiment still references); its reason names what blocks it.
    """

    item: str
    reason: str
    blocked: bool = False


#: What ``Job.plan_item`` returns: nothing (already fine), one entry, or several.
PlanStep = Operation | Skip | Iterable[Operation | Skip] | None

T = TypeVar("T")
R = TypeVar("R")


class _Missing:
    def __repr__(self) -> str:
        return "<required>"


MISSING: Any = _Missing()
"""``ReadContext.get``'s default ``default``: a 404 raises ``NotFoundError``."""


class ReadContext(Protocol):
    """Read-only access to the API that a job gets while it prepares and plans.

    Reads do not spend the mutation budget; their cost is latency, so a job reads concurrently:
    ``plan_item`` is called for up to ``concurrency`` items at once, and ``gather`` runs any
    reads of a whole-plan job the same way. Errors are ``bulkops.api`` exceptions
    (``NotFoundError`` for 404, ...).
    """

    @property
    def concurrency(self) -> int:
        """How many reads a job may have in flight at once (``--read-concurrency``)."""
        ...

    async def get(
        self, path: str, *, project: str = SOURCE, default: Any = MISSING, **params: Any
    ) -> Any:
        """GET ``path`` and return the decoded ``data``; on 404, ``default`` when given."""
        ...

    def list(self, kind: str, *, project: str = SOURCE, **filters: Any) -> AsyncIterator[dict]:
        """Stream every entity of a catalog kind (all pages)."""
        ...

    def paged(
        self, path: str, field: str, *, project: str = SOURCE, **params: Any
    ) -> AsyncIterator[Any]:
        """Stream every element of the list ``field`` of a paged sub-resource (all pages).

        For endpoints whose ``data`` is one object holding a page of a list, e.g.
        ``paged("/segments/beta/id_list", "ids")`` yields every ID of the segment.
        """
        ...

    async def gather(
        self, fn: Callable[[T], Awaitable[R]], values: Iterable[T]
    ) -> builtins.list[R]:
        """``[await fn(v) for v in values]``, run ``concurrency`` at a time, in ``values`` order.

        The first error cancels the rest and is raised as it is.
        """
        ...


class Job:
    """Base class of jobs. Subclass it, set ``name``, and override the methods you need.

    Planning has two shapes:

    - per item (most jobs): override ``plan_item(item, ctx)``; the runner calls it for up to
      ``ctx.concurrency`` items at once and stores what it returns in item order, so the plan
      is the same whatever the latencies; ``plan_end(ctx)`` adds what needs every item (one
      holdout PATCH for all the gates, say);
    - whole plan: override ``plan(items, ctx)`` when the plan needs the whole picture
      (dependency graphs, cycles); use ``ctx.gather`` for concurrent reads.

    The runner builds the job from its options (``Job(options)``), stores ``options`` in the
    journal (so they must be JSON-serializable and hold no secrets), and on resume rebuilds the
    same job from them; the plan itself is frozen, so planning is not called again.
    ``--where`` is the common selection grammar: ``selection(kind)`` parses ``options["where"]``
    for a kind, and ``unselected(item)`` says why an item is left out.
    """

    name: ClassVar[str] = ""
    help: ClassVar[str] = ""
    #: Connections beyond "source" that this job writes to or reads from, e.g. ("target",).
    projects: ClassVar[tuple[str, ...]] = ()
    #: Connections that are a named project given by an option: ``{"target": "to"}`` makes
    #: ``--to prod`` resolve the target's key as project ``prod`` (``STATSIG_PROD_CONSOLE_API_KEY``
    #: or the projects file), before ``STATSIG_TARGET_CONSOLE_API_KEY``.
    project_options: ClassVar[Mapping[str, str]] = {}

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = dict(options)
        self._selections: dict[str, Selection] = {}

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add this job's own command-line options (``bulkops run NAME --help`` shows them)."""

    def sources(self) -> Sequence[Source]:
        """The lists to freeze before planning."""
        return ()

    async def prepare(self, ctx: ReadContext) -> None:
        """Validate parameters against current state (raise ``JobConfigError``); nothing is sent."""

    def plan_meta(self) -> Mapping[str, Any]:
        """What to keep in the run's journal once the plan is frozen (JSON; e.g. an ID
        mapping for a later check). ``plan_lines`` (a list of strings), if given, are shown
        with the plan's summary."""
        return {}

    def own_connections(self) -> Mapping[str, Any]:
        """Connections the job brings itself instead of a project's API, by name (e.g. an
        export file as its ``"source"``: ``migrate --from-snapshot``); no key is needed for
        them. Each has a ``base_url`` (stored with the run) and must satisfy the runner's
        ``Connection``; a ``snapshot:PATH`` URL is reopened from that file on resume."""
        return {}

    # -- selection -----------------------------------------------------------------------------

    def wheres(self, kind: str) -> Sequence[str]:
        """The ``--where`` conditions for ``kind`` (default: ``options["where"]`` for every kind)."""
        return tuple(self.options.get("where") or ())

    def selection(self, kind: str) -> Selection:
        """The parsed ``--where`` selection on catalog kind ``kind`` (JobConfigError if bad)."""
        if kind not in self._selections:
            self._selections[kind] = selection_for(kind, self.wheres(kind))
        return self._selections[kind]

    def unselected(self, item: Item) -> Skip | None:
        """A ``Skip`` "not selected by ..." when ``item`` is outside its kind's selection."""
        selection = self.selection(item.kind)
        if selection.matches(item.data):
            return None
        return Skip(item.key, f"not selected by {selection.describe()}")

    # -- planning ------------------------------------------------------------------------------

    async def plan_item(self, item: Item, ctx: ReadContext) -> PlanStep:
        """Plan one item: None when it is already as wanted, else an ``Operation``, a
        ``Skip`` (with a reason worth reporting), or several. Must not depend on other items."""
        return None

    async def plan_end(self, ctx: ReadContext) -> Iterable[Operation | Skip]:
        """What to add once every item was planned (operations that serve many items)."""
        return ()

    async def plan(
        self, items: AsyncIterable[Item], ctx: ReadContext
    ) -> AsyncIterator[Operation | Skip]:
        """Yield the smallest set of operations that reaches the desired state.

        The default plans item by item (``plan_item``, then ``plan_end``); the runner does the
        same with ``ctx.concurrency`` items in flight unless this method is overridden.
        """
        async for item in items:
            for entry in plan_entries(await self.plan_item(item, ctx)):
                yield entry
        for entry in await self.plan_end(ctx):
            yield entry


def plan_entries(step: PlanStep) -> tuple[Operation | Skip, ...]:
    """What a ``plan_item`` returned, as a tuple of entries."""
    if step is None:
        return ()
    if isinstance(step, (Operation, Skip)):
        return (step,)
    return tuple(step)


def built_at(op: Operation) -> tuple[str, int] | None:
    """The file and line where ``op`` was built (None when unknown)."""
    return getattr(op, "_built_at", None)


def plans_per_item(job: Job) -> bool:
    """True when ``job`` plans item by item (it does not override ``Job.plan``)."""
    return type(job).plan is Job.plan
