"""The dry-run view of a frozen plan: one readable line per operation, blocked items inline.

A real journal (SQLite in a temporary dir) holds the plan; ``write_plan_diff`` prints it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from bulkops.run.job import Check, ListEdit, Operation, Skip
from bulkops.run.journal import Journal
from bulkops.run.planview import SHOWN_BLOCKED, iter_plan_changes, write_plan_diff
from bulkops.run.runner import PlanSummary


def journal_with(tmp_path: Path, entries: list) -> Journal:  # type: ignore[type-arg]
    journal = Journal.create(tmp_path / "r1.journal", {"run_id": "r1", "job": "test"})
    journal.add_plan(entries)
    return journal


def summary(to_send: int, blocked: int = 0, skipped: int = 0) -> PlanSummary:
    return PlanSummary(
        items=to_send + blocked + skipped,
        operations=to_send,
        to_send=to_send,
        already_fine=0,
        skipped=skipped,
        blocked=blocked,
        eta_seconds=0.0,
    )


def printed(journal: Journal, plan: PlanSummary, *, as_json: bool = False) -> str:
    out = io.StringIO()
    write_plan_diff(journal, plan, out, as_json=as_json)
    return out.getvalue()


ARCHIVE = Operation(
    "gate:g1:archive",
    "PUT",
    "/gates/g1/archive",
    body={"archiveReason": "stale"},
    description="archive stale gate g1: STALE_NO_RULES",
    check=Check("/gates/g1", contains={"status": "Archived"}),
    before={"status": "In Progress", "isEnabled": True},
)
UNION = Operation(
    "gates:g2:overrides",
    "PATCH",
    "/gates/g2/overrides",
    body={"passingUserIDs": ["dave", *(f"user{i}" for i in range(3000))], "failingUserIDs": []},
    description="overrides of gates g2: passingUserIDs +3000 -0",
    before={"passingUserIDs": ["dave"], "failingUserIDs": []},
)
REMOVAL = Operation(
    "gates:g3:overrides",
    "POST",
    "/gates/g3/overrides",
    description="overrides of gates g3: passingUserIDs +0 -2",
    check=Check("/gates/g3/overrides"),
    edits=(ListEdit("passingUserIDs", remove=("alice", "bob")), ListEdit("failingUserIDs")),
)
RESTORE = Operation(
    "revert:x:restore", "PATCH", "/gates/g4", body={"isEnabled": True}, description="restore"
)


def test_one_line_per_operation_saying_what_changes(tmp_path: Path) -> None:
    journal = journal_with(tmp_path, [ARCHIVE, UNION, REMOVAL, RESTORE])
    lines = printed(journal, summary(4)).splitlines()
    assert lines[0] == "run id: r1"
    assert lines[-4:] == [
        "  archive stale gate g1 (status In Progress → Archived)",
        "  overrides of gates g2 (passingUserIDs +3000 (user0, user1, user2, …))",
        "  overrides of gates g3 (passingUserIDs -2 (alice, bob))",
        "  restore (isEnabled (current) → true)",
    ]


def test_no_op_fields_and_empty_edits_are_not_shown(tmp_path: Path) -> None:
    journal = journal_with(tmp_path, [UNION, REMOVAL])
    rows = list(iter_plan_changes(journal))
    assert [(r["key"], r["field"]) for r in rows] == [
        ("gates:g2:overrides", "passingUserIDs"),
        ("gates:g3:overrides", "passingUserIDs"),
    ]
    assert all("∅" not in json.dumps(r) and "[] → []" not in json.dumps(r) for r in rows)


def test_blocked_items_inline_up_to_a_limit_then_a_count(tmp_path: Path) -> None:
    blocked = [Skip(f"source:gates:b{i}", f"still referenced by e{i}", True) for i in range(25)]
    skipped = [Skip(f"source:gates:s{i}", "not selected by name~x*") for i in range(7)]
    journal = journal_with(tmp_path, [ARCHIVE, *blocked, *skipped])
    text = printed(journal, summary(1, blocked=25, skipped=7))
    lines = text.splitlines()
    assert "blocked (25), will not be changed:" in lines
    assert "  gate b0: still referenced by e0" in lines
    assert f"  gate b{SHOWN_BLOCKED - 1}: still referenced by e{SHOWN_BLOCKED - 1}" in lines
    assert f"gate b{SHOWN_BLOCKED}:" not in text
    assert "  ... and 5 more (bulkops report r1 --failed-only)" in lines
    assert "  7 not selected by name~x*" in lines


def test_json_lists_operations_blocked_and_skipped(tmp_path: Path) -> None:
    journal = journal_with(tmp_path, [ARCHIVE, Skip("source:gates:b", "in use", True)])
    doc = json.loads(printed(journal, summary(1, blocked=1), as_json=True))
    assert doc["run_id"] == "r1"
    assert doc["operations"] == ["archive stale gate g1 (status In Progress → Archived)"]
    assert doc["blocked"] == [{"item": "source:gates:b", "reason": "in use"}]
    assert doc["skipped"] == []
