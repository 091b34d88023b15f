"""The journal file: creation, refusal of foreign files, plan storage, statuses as a set."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bulkops.run.job import Item, Operation, Skip
from bulkops.run.journal import Journal, JournalError
from bulkops.run.lock import JournalInUseError, JournalLock


def test_create_refuses_an_existing_file_and_never_overwrites_it(tmp_path: Path) -> None:
    path = tmp_path / "r.journal"
    path.write_text("mine")
    with pytest.raises(JournalError, match="already exists"):
        Journal.create(path, {})
    assert path.read_text() == "mine"


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.journal"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(JournalError, match="not a bulkops journal"):
        Journal.open(path)


def test_newer_format_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.journal"
    Journal.create(path, {}).set_meta(version=99)
    with pytest.raises(JournalError, match="newer bulkops"):
        Journal.open(path)


def test_plan_items_and_statuses_round_trip(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path / "r.journal", {"run_id": "r"})
    journal.add_items([Item("gates", f"g{i}", {"id": f"g{i}"}) for i in range(3)])
    ops = [
        Operation(f"op{i}", "PATCH", f"/gates/g{i}", body={"x": i}, items=(f"source:gates:g{i}",))
        for i in range(2)
    ]
    journal.add_plan([*ops, Skip("source:gates:g2", "blocked by e1", blocked=True)])
    journal.apply([("op1", {"status": "DONE", "http_status": 200})])
    assert journal.counts()["DONE"] == 1 and journal.counts()["PLANNED"] == 1
    assert journal.counts()["BLOCKED"] == 1
    assert [r.op for b in journal.iter_operations(["PLANNED"]) for r in b] == [ops[0]]
    assert [i.id for b in journal.iter_items(batch=2) for i in b] == ["g0", "g1", "g2"]
    assert journal.served_items() == 3
    with pytest.raises(JournalError, match="repeats an operation key"):
        journal.add_plan([ops[0]])


def test_the_lock_refuses_a_second_holder(tmp_path: Path) -> None:
    first, second = JournalLock(tmp_path / "r.journal"), JournalLock(tmp_path / "r.journal")
    first.acquire("r")
    with pytest.raises(JournalInUseError, match="in use by process"):
        second.acquire("r")
    first.release()
    second.acquire("r")
    second.release()
