"""Planning the revert of a run: undo its DONE operations, latest first, without clobbering.

For each DONE operation (in reverse completion order) the revert plan holds one operation:
- its ``undo`` when the job gave one (archive → unarchive, create → delete);
- else, for a list edit, the inverse edit (remove what was added, add back what was removed),
  which keeps changes others made to the same list;
- else a PATCH of the before-image (the fresh read taken right before the original request);
- after an ``undo``, a PATCH of the operation's ``restore`` fields when it has some.

An entity changed by someone else since the run must be reported, not overwritten: the revert
operation carries a guard (the state the original operation left must still be there), checked
right before sending; a failed guard is FAILED_PERM ``conflict``. ``force`` drops the guards.
Dependencies reverse too: if B depended on A, the revert of A waits for the revert of B.

Reverting twice is a no-op: an operation whose revert is DONE (or SKIPPED, already in effect)
in an earlier revert run of the same run (found in the same state dir, less what a revert of that
revert undid again) is planned as a ``Skip`` "already reverted by RUN", not as a conflict.
The revert run also reads each operation's check right before sending it (``verify_planned``),
so an undo already in effect by other means (put back by hand) is SKIPPED, not a conflict.
What the state dir knows is also said up front: a revert of an entity that a later run changed
carries a note in its description (the guard still decides at send time).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bulkops.errors import JournalError
from bulkops.run.job import CREATED_ID, Check, ListEdit, Operation, Skip
from bulkops.run.journal import Journal, OpRecord
from bulkops.run.states import OpStatus

__all__ = ["REVERT_PREFIX", "plan_revert"]

REVERT_PREFIX = "revert:"


def plan_revert(original: Journal, *, force: bool = False) -> Iterator[Any]:
    """Yield ``(Operation, guard)`` pairs and ``Skip``s for the revert run's journal."""
    records = [rec for batch in original.iter_done_for_revert() for rec in batch]
    done = {rec.op.key for rec in records}
    entries = {rec.op.key: _revert_one(rec, ()) for rec in records}
    revertible = {key for key, entry in entries.items() if not isinstance(entry, Skip)}
    history = _History(original)
    # reverted by an earlier revert run: nothing to send, and nothing for others to wait for
    already = {key for key in revertible if history.reverted_by(REVERT_PREFIX + key)}
    memo: dict[str, tuple[str, ...]] = {}

    def waits_for(key: str) -> tuple[str, ...]:
        # The reverts of the operations that depended on ``key``; through the ones that
        # cannot be reverted, the reverts of what depended on them.
        if key not in memo:
            memo[key] = ()
            found: list[str] = []
            for dependent in original.dependents(key):
                if dependent not in done or dependent in already:
                    continue
                if dependent in revertible:
                    found.append(REVERT_PREFIX + dependent)
                else:
                    found.extend(waits_for(dependent))
            memo[key] = tuple(dict.fromkeys(found))
        return memo[key]

    by_key = {rec.op.key: rec for rec in records}
    for rec in records:
        entry = entries[rec.op.key]
        if isinstance(entry, Skip):
            creator = _created_by(rec, by_key)
            if creator is not None:
                entry = Skip(rec.op.key, f"undone by the revert of {creator}, which deletes it")
            yield entry
            continue
        operation, guard = entry
        restore = _restore_after_undo(rec.op, operation.key)
        by = history.reverted_by(operation.key)
        if by is not None:
            if restore is not None and history.reverted_by(restore.key) is None:
                yield dataclasses.replace(restore, depends_on=()), None
            yield Skip(rec.op.key, f"already reverted by {by}")
            continue
        note = history.changed_since(rec.op)
        if note:
            outcome = "will be overwritten (--force)" if force else "reported, not overwritten"
            description = f"{operation.description} [changed since the run, {note}; {outcome}]"
            operation = dataclasses.replace(operation, description=description)
        operation = dataclasses.replace(operation, depends_on=waits_for(rec.op.key))
        yield operation, (None if force else guard)
        if restore is not None:
            yield restore, None


def _created_by(rec: OpRecord, by_key: dict[str, OpRecord]) -> str | None:
    """The DONE create (with an undo) that ``rec`` waited for, directly or through others.

    An operation without an undo that only edited what this run created (the IDs of a segment
    the run created, the rules of a gate it created) needs no revert of its own: deleting the
    entity takes the edit with it.
    """
    seen: set[str] = set()
    waiting = list(rec.op.depends_on)
    while waiting:
        key = waiting.pop()
        if key in seen or key not in by_key:
            continue
        seen.add(key)
        op = by_key[key].op
        if op.creates and op.undo is not None and _inside(rec.op, op):
            return key
        waiting.extend(op.depends_on)
    return None


def _inside(edit: Operation, create: Operation) -> bool:
    """Whether ``edit`` changes the entity ``create`` made (``/segments/s/id_list`` in ``/segments/s``)."""
    if create.check is None or create.check.find is not None or edit.project != create.project:
        return False
    entity = create.check.path.rstrip("/")
    return any(
        path == entity or path.startswith(entity + "/")
        for path in (edit.path, edit.check.path if edit.check else "")
    )


def _revert_one(rec: OpRecord, depends: tuple[str, ...]) -> tuple[Operation, Any] | Skip:
    op = rec.op
    key = REVERT_PREFIX + op.key
    common: dict[str, Any] = {
        "key": key,
        "project": op.project,
        "depends_on": depends,
        "items": op.items,
        "description": f"undo {_what(op)}",
    }
    if op.undo is not None:
        undo = dataclasses.replace(op.undo, **common)
        if CREATED_ID in undo.path:
            if not isinstance(rec.response_id, str) or not rec.response_id:
                return Skip(
                    op.key,
                    "the ID the server gave what it created was not recorded: "
                    f"remove it by hand ({_what(op)})",
                )
            undo = _with_created_id(undo, quote(rec.response_id, safe=""))
        if undo.before is None and op.check is not None and isinstance(op.check.contains, dict):
            # what the original left (status Archived): the value the undo expects to change
            undo = dataclasses.replace(undo, before=op.check.contains)
        if undo.check is None and undo.method == "DELETE":
            undo = dataclasses.replace(undo, check=Check(undo.path, absent=True))
        return undo, _guard(op.check, f"{op.key}: its effect is gone since the run")
    if op.edits:
        inverse = tuple(ListEdit(e.field, add=e.remove, remove=e.add) for e in op.edits)
        reverted = Operation(
            method=op.method,
            path=op.path,
            check=op.check,
            edits=inverse,
            send_fields=op.send_fields,
            **common,
        )
        return reverted, None
    if isinstance(rec.before, dict) and rec.before and op.method in ("PATCH", "PUT", "POST"):
        read_path = op.check.path if op.check is not None else op.path
        reverted = Operation(
            # writes back the way it was written: PATCH, or POST where the kind updates by
            # POST (metrics); a PUT's fields go back by PATCH
            method=op.method if op.method in ("PATCH", "POST") and not op.creates else "PATCH",
            path=op.path,
            body=rec.before,
            before=rec.sent_body,
            check=Check(read_path, contains=rec.before),
            **common,
        )
        changed = f"{read_path} changed since the run: not overwritten (use --force to revert)"
        written = rec.sent_body if isinstance(rec.sent_body, dict) else None
        return reverted, _guard(Check(read_path, contains=written), changed) if written else None
    return Skip(op.key, "no undo and no before-image: cannot be reverted automatically")


def _with_created_id(undo: Operation, ident: str) -> Operation:
    """``undo`` with ``CREATED_ID`` in its path (and its check's) replaced by ``ident``."""
    check = undo.check
    if check is not None and check.find is None:
        check = dataclasses.replace(check, path=check.path.replace(CREATED_ID, ident))
    return dataclasses.replace(undo, path=undo.path.replace(CREATED_ID, ident), check=check)


def _restore_after_undo(op: Operation, undo_key: str) -> Operation | None:
    """The PATCH of ``op.restore`` that finishes an explicit undo (see ``Operation.restore``)."""
    if op.undo is None or not op.restore or op.check is None:
        return None
    return Operation(
        key=f"{undo_key}:restore",
        method="PATCH",
        path=op.check.path,
        body=op.restore,
        description=f"then restore {', '.join(op.restore)} of {op.check.path}",
        check=Check(op.check.path, contains=op.restore),
        depends_on=(undo_key,),
        items=op.items,
    )


def _guard(check: Check | None, reason: str) -> dict[str, Any] | None:
    if check is None or check.absent:
        return None
    return {"check": dataclasses.asdict(check), "reason": reason}


def _what(op: Operation) -> str:
    """What an operation did, for the description of its undo (``archive stale gate g1``)."""
    if op.description:
        return op.description.split(": ", 1)[0]
    return f"{op.method} {op.path}"


def _fields(op: Operation) -> set[str]:
    """The top-level fields an operation writes or checks (empty: unknown, assume any)."""
    found = {edit.field.split(".", 1)[0].split("[", 1)[0] for edit in op.edits}
    if isinstance(op.body, dict) and (op.check is None or op.check.path == op.path):
        found |= set(op.body)
    for part in (op.check.contains, op.check.excludes) if op.check is not None else ():
        if isinstance(part, dict):
            found |= set(part)
    return found


def _entity(op: Operation) -> tuple[str, str]:
    return op.project, op.check.path if op.check is not None else op.path


class _History:
    """What the other runs in the original's state dir did since it (read-only, on demand)."""

    def __init__(self, original: Journal) -> None:
        meta = original.meta()
        self._run_id = str(meta.get("run_id", ""))
        self._created = float(meta.get("created_at") or 0.0)
        self._dir = Path(original.path).parent
        self._metas: dict[Path, dict[str, Any]] | None = None
        self._reverted: dict[str, str] | None = None
        self._later: dict[tuple[str, str], list[tuple[str, set[str]]]] | None = None

    def reverted_by(self, revert_key: str) -> str | None:
        """The revert run of the original in which ``revert_key`` is DONE or already in effect."""
        if self._reverted is None:
            self._reverted = self._done_by_reverts_of(self._run_id)
        return self._reverted.get(revert_key)

    def changed_since(self, op: Operation) -> str:
        """``by run L (field, ...)`` when a later run (not a revert of this one) wrote the same
        fields of the entity ``op`` changed; else an empty string."""
        if self._later is None:
            self._later = self._later_changes()
        mine = _fields(op)
        for run_id, theirs in self._later.get(_entity(op), ()):
            common = mine & theirs if mine and theirs else mine or theirs
            if common or not (mine and theirs):
                shown = f" ({', '.join(sorted(common))})" if common else ""
                return f"by run {run_id}{shown}"
        return ""

    def _journals(self) -> dict[Path, dict[str, Any]]:
        if self._metas is None:
            self._metas = {}
            for path in sorted(self._dir.glob("*.journal")):
                meta = _read(path, lambda journal: journal.meta())
                if meta is not None and meta.get("run_id") != self._run_id:
                    self._metas[path] = meta
        return self._metas

    def _reverts_of(self, run_id: str) -> Iterator[tuple[Path, str]]:
        for path, meta in self._journals().items():
            of = (meta.get("job_options") or {}).get("of")
            if meta.get("job") == "revert" and of == run_id:
                yield path, str(meta.get("run_id"))

    def _done_by_reverts_of(self, run_id: str) -> dict[str, str]:
        """Key -> revert run, for the reverts of ``run_id`` still in effect."""
        found: dict[str, str] = {}
        for path, revert_id in self._reverts_of(run_id):
            keys = _read(path, _effective_keys) or set()
            undone = self._done_by_reverts_of(revert_id)
            for key in keys:
                if REVERT_PREFIX + key not in undone:
                    found.setdefault(key, revert_id)
        return found

    def _revert_chain(self, run_id: str) -> set[str]:
        """The reverts of ``run_id``, the reverts of those, and so on: not someone else."""
        chain: set[str] = set()
        for _, revert_id in self._reverts_of(run_id):
            chain |= {revert_id} | self._revert_chain(revert_id)
        return chain

    def _later_changes(self) -> dict[tuple[str, str], list[tuple[str, set[str]]]]:
        reverts = self._revert_chain(self._run_id)
        later: dict[tuple[str, str], list[tuple[str, set[str]]]] = {}
        for path, meta in self._journals().items():
            run_id = str(meta.get("run_id"))
            if float(meta.get("created_at") or 0.0) <= self._created or run_id in reverts:
                continue
            for op in _read(path, _done_operations) or ():
                later.setdefault(_entity(op), []).append((run_id, _fields(op)))
        return later


def _read(path: Path, what: Any) -> Any:
    """``what(journal)`` on a journal opened read-only; None when it is not one we can read."""
    try:
        journal = Journal.open(path, readonly=True)
    except (JournalError, OSError):
        return None
    try:
        return what(journal)
    except (JournalError, OSError, ValueError):
        return None
    finally:
        journal.close()


def _effective_keys(journal: Journal) -> set[str]:
    """Keys of operations DONE, or SKIPPED because already in effect."""
    keys: set[str] = set()
    for batch in journal.iter_operations((OpStatus.DONE, OpStatus.SKIPPED)):
        keys.update(rec.op.key for rec in batch)
    return keys


def _done_operations(journal: Journal) -> Iterable[Operation]:
    return [rec.op for batch in journal.iter_operations((OpStatus.DONE,)) for rec in batch]
