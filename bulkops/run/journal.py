"""The journal: one SQLite file per run, the checkpoint store that makes a run resumable.

Layout of ``<state dir>/<run id>.journal`` (WAL, ``synchronous=NORMAL``, file 0600, dir 0700):

- ``meta``: a format marker and version, the run id, the job (name or file path), its options,
  the connections' base URLs (never keys), the limits, timestamps and the run's phase;
- ``items``: the frozen list (written before any mutation);
- ``operations``: the frozen plan, one row per ``Operation`` with its status
  (PLANNED → IN_FLIGHT → DONE / SKIPPED / FAILED_TEMP / FAILED_PERM), the request fingerprint,
  the before-image, HTTP status, error, message and the server's response id;
- ``skips``: planned non-actions (``BLOCKED`` when ``Skip.blocked``); ``events``: 429s, pauses.

No secret of the process is written by bulkops: every JSON value (but the listed items' data,
the server's own, kept as listed), error, message and skip reason passes through
``bulkops.redaction``; operation and item keys (identities) do not.

Completed work is a set (a status per operation), not a high-water mark. ``Journal`` is plain
synchronous code owned by one thread at a time; ``bulkops.run.writer.JournalWriter`` feeds it
from async code in batches. ``bulkops.run.lock.JournalLock`` keeps a second process off a run.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bulkops.errors import JournalError
from bulkops.redaction import redact
from bulkops.run.job import Item, Operation, Skip
from bulkops.run.records import OpRecord, dumps_listed
from bulkops.run.records import dumps as _dumps
from bulkops.run.records import loads as _loads
from bulkops.run.records import record_from_row as _record
from bulkops.run.schema import SCHEMA, Transaction
from bulkops.run.states import FINAL_STATUSES, OpStatus
from bulkops.run.tallies import JournalTallies

__all__ = [
    "FINAL_STATUSES",
    "FORMAT",
    "STATUSES",
    "VERSION",
    "Journal",
    "JournalError",
    "OpRecord",
    "journal_path",
]

FORMAT = "bulkops-journal"
VERSION = 1
STATUSES = tuple(OpStatus)
_SQLITE_MAGIC = b"SQLite format 3\x00"


def journal_path(state_dir: Path, run_id: str) -> Path:
    """Where the journal of ``run_id`` lives."""
    return Path(state_dir) / f"{run_id}.journal"


class Journal(JournalTallies):
    """Synchronous access to one run's journal file (one thread at a time)."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, readonly: bool) -> None:
        self.path = path
        self.readonly = readonly
        self._conn = conn
        self._done_order = 0

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, meta: Mapping[str, Any]) -> Journal:
        """Create a new journal file (0600, in a 0700 dir); refuse if the file exists."""
        path = Path(path)
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)  # racing runs: fine
            os.chmod(path.parent, 0o700)
        if path.exists():
            raise JournalError(
                f"{path} already exists: pick another --run-id, or `bulkops resume` that run"
            )
        # Built aside and linked into place, so a crash never leaves a half-made journal.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        os.close(fd)
        try:
            conn = sqlite3.connect(tmp.absolute(), isolation_level=None)
            conn.executescript(SCHEMA)
            rows = {"format": FORMAT, "version": VERSION, "created_at": time.time(), **meta}
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [(k, _dumps(v).decode()) for k, v in rows.items()],
            )
            conn.close()
            os.link(tmp, path)
        except FileExistsError:
            raise JournalError(
                f"{path} already exists: pick another --run-id, or `bulkops resume` that run"
            ) from None
        finally:
            tmp.unlink(missing_ok=True)
        return cls(path, cls._connect(path, readonly=False), readonly=False)

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False) -> Journal:
        """Open an existing journal, checking it is one of ours and of a version we read."""
        path = Path(path)
        if not path.is_file():
            raise JournalError(f"no journal at {path}: check the run id and --state-dir")
        with path.open("rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
        if head != _SQLITE_MAGIC:
            raise JournalError(f"{path} is not a bulkops journal (not an SQLite file); left as is")
        # Validate through a read-only connection: a foreign file must not even switch to WAL.
        probe = cls._connect(path, readonly=True)
        try:
            row = probe.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            version = probe.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{path} is not a bulkops journal ({exc}); left as is") from None
        finally:
            probe.close()
        if row is None or _loads(row[0]) != FORMAT:
            raise JournalError(f"{path} is an SQLite file but not a bulkops journal; left as is")
        if version is None or _loads(version[0]) > VERSION:
            raise JournalError(f"{path} was written by a newer bulkops: upgrade bulkops to read it")
        conn = cls._connect(path, readonly=readonly)
        journal = cls(path, conn, readonly=readonly)
        order = conn.execute("SELECT MAX(done_order) FROM operations").fetchone()[0]
        journal._done_order = order or 0
        return journal

    @staticmethod
    def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
        if readonly:
            # as_uri() escapes '?', '#' and '%' in the path: a URI of the path, not of a query
            uri = f"{Path(path).absolute().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:  # absolute: a relative path beginning "file:" would be taken for a URI
            conn = sqlite3.connect(
                Path(path).absolute(), check_same_thread=False, isolation_level=None
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    def close(self) -> None:
        """Close the SQLite connection."""
        self._conn.close()

    # -- meta ----------------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        """The run's metadata (decoded JSON values)."""
        return {k: _loads(v) for k, v in self._conn.execute("SELECT key, value FROM meta")}

    def set_meta(self, **values: Any) -> None:
        """Set metadata values (JSON-serialisable; never secrets)."""
        with self._tx():
            self._conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, _dumps(v).decode()) for k, v in values.items()],
            )

    # -- writing -------------------------------------------------------------------------------

    def _tx(self) -> Transaction:
        if self.readonly:
            raise JournalError(f"{self.path} is open read-only")
        return Transaction(self._conn)

    def add_items(self, items: Iterable[Item]) -> None:
        """Freeze listed items (an item listed twice is kept once)."""
        rows = [(i.key, i.project, i.kind, i.id, dumps_listed(dict(i.data))) for i in items]
        with self._tx():
            self._conn.executemany(
                "INSERT OR IGNORE INTO items (key, project, kind, id, data) VALUES (?,?,?,?,?)",
                rows,
            )

    def clear_plan(self, scope: str | None = None) -> None:
        """Forget listed items and plan (a run interrupted before its plan was frozen).

        With ``scope`` (a project of a fan-out run), only that project's: its items, and the
        operations and skips planned for it (keys ``SCOPE/...``, items ``SCOPE:...``).
        """
        with self._tx():
            if scope is None:
                for table in ("items", "operations", "op_deps", "skips"):
                    self._conn.execute(f"DELETE FROM {table}")
                return
            ops, items = f"{scope}/", f"{scope}:"
            self._conn.execute("DELETE FROM items WHERE project = ?", (scope,))
            for table, column, prefix in (
                ("operations", "key", ops),
                ("op_deps", "op_key", ops),
                ("skips", "item", items),
            ):
                self._conn.execute(
                    f"DELETE FROM {table} WHERE substr({column}, 1, ?) = ?", (len(prefix), prefix)
                )

    def add_plan(self, entries: Iterable[Operation | Skip | tuple[Operation, Any]]) -> None:
        """Store operations (optionally with a guard) and skips, in plan order."""
        ops: list[tuple[Any, ...]] = []
        deps: list[tuple[str, str]] = []
        skips: list[tuple[str, str, int]] = []
        for entry in entries:
            guard = None
            if isinstance(entry, tuple):
                entry, guard = entry
            if isinstance(entry, Skip):
                skips.append((entry.item, redact(entry.reason), int(entry.blocked)))
                continue
            ops.append(
                (
                    entry.key,
                    entry.project,
                    _dumps(entry.to_dict()),
                    _dumps(entry.before),
                    _dumps(guard),
                )
            )
            deps.extend((entry.key, d) for d in entry.depends_on)
        with self._tx():
            try:
                self._conn.executemany(
                    "INSERT INTO operations (key, project, op, before, guard) VALUES (?,?,?,?,?)",
                    ops,
                )
            except sqlite3.IntegrityError as exc:
                raise JournalError(f"the plan repeats an operation key ({exc})") from None
            self._conn.executemany("INSERT INTO op_deps (op_key, dep_key) VALUES (?,?)", deps)
            self._conn.executemany(
                "INSERT INTO skips (item, reason, blocked) VALUES (?,?,?)", skips
            )

    def apply(self, updates: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Write a batch of operation updates ``(key, fields)`` in one transaction."""
        with self._tx():
            for key, fields in updates:
                self._update(key, fields)

    def _update(self, key: str, fields: Mapping[str, Any]) -> None:
        values = dict(fields)
        for name in ("before", "sent_body"):
            if name in values:
                values[name] = _dumps(values[name])
        for name in ("error", "message"):
            if isinstance(values.get(name), str):
                values[name] = redact(values[name])
        if values.get("status") in (OpStatus.DONE, OpStatus.SKIPPED):
            self._done_order += 1
            values["done_order"] = self._done_order
        values["updated_at"] = time.time()
        assignments = ", ".join(f"{name} = ?" for name in values)
        self._conn.execute(
            f"UPDATE operations SET {assignments} WHERE key = ?", (*values.values(), key)
        )

    def add_event(self, kind: str, project: str | None, detail: Any = None) -> None:
        """Record an event of the run (429s seen, pauses)."""
        with self._tx():
            self._conn.execute(
                "INSERT INTO events (at, kind, project, detail) VALUES (?,?,?,?)",
                (time.time(), kind, project, _dumps(detail)),
            )

    # -- reading -------------------------------------------------------------------------------

    def items_page(
        self, after: int = 0, limit: int = 500, *, projects: Sequence[str] | None = None
    ) -> list[tuple[int, Item]]:
        """Up to ``limit`` frozen items with ``seq > after``, in listing order (only those of
        ``projects`` when given)."""
        where, args = "", tuple(projects or ())
        if projects is not None:
            where = f" AND project IN ({','.join('?' * len(projects))})"
        rows = self._conn.execute(
            f"SELECT seq, project, kind, id, data FROM items WHERE seq > ?{where} "
            "ORDER BY seq LIMIT ?",
            (after, *args, limit),
        ).fetchall()
        return [
            (seq, Item(kind, id_, _loads(data), project)) for seq, project, kind, id_, data in rows
        ]

    def iter_items(self, batch: int = 500) -> Iterator[list[Item]]:
        """The frozen items in listing order, in batches (bounded memory)."""
        last = 0
        while page := self.items_page(last, batch):
            last = page[-1][0]
            yield [item for _, item in page]

    def operations_page(
        self,
        after: int = 0,
        statuses: Iterable[str] | None = None,
        limit: int = 500,
        *,
        reverse: bool = False,
        project: str | None = None,
    ) -> list[OpRecord]:
        """Up to ``limit`` operations after ``seq`` (before it when ``reverse``) in plan order
        (only those of connection ``project`` when given)."""
        wanted = tuple(statuses) if statuses is not None else STATUSES
        marks = ",".join("?" * len(wanted))
        cmp, order = ("<", "DESC") if reverse else (">", "ASC")
        where, args = ("", ()) if project is None else (" AND project = ?", (project,))
        rows = self._conn.execute(
            "SELECT seq, op, status, attempts, before, sent_body, http_status, error, "
            f"message, response_id, guard FROM operations WHERE seq {cmp} ? AND status IN "
            f"({marks}){where} ORDER BY seq {order} LIMIT ?",
            (after, *wanted, *args, limit),
        ).fetchall()
        return [_record(row) for row in rows]

    def iter_operations(
        self, statuses: Iterable[str] | None = None, batch: int = 500, *, reverse: bool = False
    ) -> Iterator[list[OpRecord]]:
        """Operations in plan order (or reverse), optionally only some statuses, in batches."""
        wanted = tuple(statuses) if statuses is not None else None
        last = 2**62 if reverse else 0
        while page := self.operations_page(last, wanted, batch, reverse=reverse):
            last = page[-1].seq
            yield page

    def iter_done_for_revert(self, batch: int = 500) -> Iterator[list[OpRecord]]:
        """DONE operations, latest completed first (the order a revert undoes them in)."""
        last = 2**62
        while True:
            rows = self._conn.execute(
                "SELECT seq, op, status, attempts, before, sent_body, http_status, error, "
                "message, response_id, guard, done_order FROM operations WHERE status = 'DONE' "
                "AND done_order < ? ORDER BY done_order DESC LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][-1]
            yield [_record(row[:-1]) for row in rows]

    def iter_skips(self) -> Iterator[tuple[str, str, bool]]:
        """Planned skips ``(item key, reason, blocked)`` in plan order."""
        for item, reason, blocked in self._conn.execute(
            "SELECT item, reason, blocked FROM skips ORDER BY seq"
        ):
            yield item, reason, bool(blocked)

    def dependents(self, key: str) -> list[str]:
        """Keys of the operations that depend on ``key``."""
        rows = self._conn.execute("SELECT op_key FROM op_deps WHERE dep_key = ?", (key,))
        return [row[0] for row in rows]

    def dependency_statuses(self) -> dict[str, str | None]:
        """Current status of every key some operation depends on (None: not in the plan)."""
        rows = self._conn.execute(
            "SELECT DISTINCT d.dep_key, o.status FROM op_deps d "
            "LEFT JOIN operations o ON o.key = d.dep_key"
        ).fetchall()
        return {key: status for key, status in rows}

    def served_items(self) -> int:
        """How many listed items some operation or skip serves."""
        keys: set[str] = set()
        for batch in self.iter_operations():
            for rec in batch:
                keys.update(rec.op.items)
        keys.update(item for item, _, _ in self.iter_skips())
        return len(keys)
