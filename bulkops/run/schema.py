"""The journal's SQLite tables, and the write transaction every change goes through."""

from __future__ import annotations

import sqlite3

from bulkops.errors import JournalError

__all__ = ["SCHEMA", "Transaction"]

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items (
    seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, project TEXT NOT NULL,
    kind TEXT NOT NULL, id TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE operations (
    seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, project TEXT NOT NULL, op BLOB NOT NULL,
    status TEXT NOT NULL DEFAULT 'PLANNED', attempts INTEGER NOT NULL DEFAULT 0,
    fingerprint TEXT, sent_body BLOB, before BLOB, http_status INTEGER, error TEXT,
    message TEXT, response_id TEXT, guard BLOB, updated_at REAL, done_order INTEGER);
CREATE INDEX operations_status ON operations (status, seq);
CREATE TABLE op_deps (op_key TEXT NOT NULL, dep_key TEXT NOT NULL);
CREATE INDEX op_deps_dep ON op_deps (dep_key);
CREATE TABLE skips (
    seq INTEGER PRIMARY KEY, item TEXT NOT NULL, reason TEXT NOT NULL, blocked INTEGER NOT NULL);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY, at REAL NOT NULL, kind TEXT NOT NULL, project TEXT, detail BLOB);
"""


class Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rollback on error), turning SQLite errors into ours."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write the journal: {exc}") from exc
        return self._conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            try:
                self._conn.execute("COMMIT")
                return
            except sqlite3.Error as err:
                exc = err
        self._conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise JournalError(f"cannot write the journal: {exc}") from exc
