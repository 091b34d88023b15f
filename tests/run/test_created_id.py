"""What the server names itself: ``Check.find`` finds a created entry by its fields in a list,
and a revert deletes it at the ID the server gave (``CREATED_ID``), never at a guessed one."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest

from bulkops.api.errors import NotFoundError
from bulkops.run.execute import check_state
from bulkops.run.job import CREATED_ID, Check, Operation, Skip
from bulkops.run.journal import Journal
from bulkops.run.plandata import operation_problem
from bulkops.run.revert import plan_revert
from bulkops.run.states import OpStatus


class Tags:
    """A list endpoint of entries whose IDs the server chose, one page at a time."""

    def __init__(self, *names: str) -> None:
        self.entries = [{"id": f"srv-{i}", "name": name} for i, name in enumerate(names)]
        self.closed = False
        self.listed = 0

    async def paginate(self, kind_or_path: str, **filters: Any) -> AsyncGenerator[dict, None]:
        assert kind_or_path == "/tags"
        try:
            for entry in self.entries:
                self.listed += 1
                yield dict(entry)
        finally:
            self.closed = True

    async def request(self, method: str, path: str, json: Any = None, **_: Any) -> Any:
        raise NotFoundError("no such path", status=404, method=method, path=path)


@pytest.mark.anyio
async def test_find_reads_the_list_and_gives_the_id_of_the_entry_found() -> None:
    tags = Tags("alpha", "beta", "gamma")
    found = await check_state(tags, Check("/tags", find={"name": "beta"}))  # type: ignore[arg-type]
    assert found == (True, "srv-1")
    assert tags.listed == 2 and tags.closed  # stopped at the entry, the listing closed
    assert await check_state(tags, Check("/tags", find={"name": "delta"})) == (False, None)  # type: ignore[arg-type]
    absent = Check("/tags", find={"name": "delta"}, absent=True)
    assert await check_state(tags, absent) == (True, None)  # type: ignore[arg-type]
    wrong = Check("/tags", find={"name": "beta"}, contains={"description": "x"})
    assert await check_state(tags, wrong) == (False, "srv-1")  # type: ignore[arg-type]


def _create(name: str) -> Operation:
    key = f"tag:{name}:create"
    return Operation(
        key=key,
        method="POST",
        path="/tags",
        body={"name": name, "description": ""},
        description=f"create tag {name!r}",
        check=Check("/tags", find={"name": name}),
        creates=True,
        undo=Operation(
            key=f"{key}:undo",
            method="DELETE",
            path=f"/tags/{CREATED_ID}",
            check=Check(f"/tags/{CREATED_ID}", absent=True),
        ),
    )


def test_revert_deletes_at_the_recorded_id_and_skips_a_create_whose_id_is_unknown(
    tmp_path: Path,
) -> None:
    journal = Journal.create(tmp_path / "r.journal", {"run_id": "r", "job": "tags"})
    journal.add_plan([_create("a b/c"), _create("lost")])
    journal.apply(
        [
            ("tag:a b/c:create", {"status": OpStatus.DONE, "response_id": "x/y 1"}),
            ("tag:lost:create", {"status": OpStatus.DONE, "response_id": None}),
        ]
    )
    entries = list(plan_revert(journal))
    journal.close()
    (undo, guard), skip = entries if isinstance(entries[1], Skip) else entries[::-1]
    assert undo.method == "DELETE" and undo.path == "/tags/x%2Fy%201"
    assert undo.check == Check("/tags/x%2Fy%201", absent=True)
    assert guard["check"]["find"] == {"name": "a b/c"}  # the tag must still be there
    assert isinstance(skip, Skip) and skip.item == "tag:lost:create"
    assert "was not recorded: remove it by hand (create tag 'lost')" in skip.reason


def test_a_find_that_is_not_a_dict_of_fields_is_refused_at_plan_time() -> None:
    for find, said in (({}, "a dict"), (["name"], "a list"), ({"name": {1, 2}}, "a set")):
        op = Operation("k", "POST", "/tags", check=Check("/tags", find=find))  # type: ignore[arg-type]
        problem = operation_problem(op)
        assert problem is not None and "check.find" in problem and said in problem, problem
