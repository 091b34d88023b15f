"""A planned operation holds plain JSON: anything else is a JobCodeError naming where it is.

Only data that comes back the same from the journal is accepted (tuples count as JSON arrays);
the error names the job, the operation key, the line of the job's code that built it, and the
field (``body['tags'] is a set``). Per-item plans (planned concurrently) and whole plans alike.
"""

from __future__ import annotations

import datetime
import enum
import math
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bulkops.errors import JobCodeError
from bulkops.run import Check, Item, Job, ListEdit, Operation, ReadContext, Skip, Source
from bulkops.run.plandata import MAX_DEPTH, json_problem, operation_problem
from bulkops.testing import FakeReadContext, plan_job

pytestmark = pytest.mark.anyio
THIS = Path(__file__).name


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def _cycle() -> dict[str, Any]:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    return loop


def _deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


REFUSED = [
    ({"tags": {"a", "b"}}, "body['tags'] is a set: use a list"),
    ({"tags": frozenset()}, "body['tags'] is a frozenset: use a list"),
    ({1: "x"}, "body has the key 1 (int): dict keys must be str"),
    ({"n": {("a", 1): 2}}, "body['n'] has the key ('a', 1) (tuple)"),
    ({"raw": b"\x00"}, "body['raw'] is a bytes: use a str"),
    ({"r": [1, float("nan")]}, "body['r'][1] is nan: JSON has no NaN/infinity"),
    ({"r": math.inf}, "body['r'] is inf"),
    ({"at": datetime.datetime(2026, 1, 1)}, "body['at'] is a datetime: use a str"),
    ({"day": datetime.date(2026, 1, 1)}, "body['day'] is a date"),
    ({"c": Colour.RED}, "body['c'] is a Colour: use JSON data"),
    ({"o": object()}, "body['o'] is an object"),
    ({"big": 2**70}, "body['big'] is an int beyond 64 bits"),
    ({"s": "a\udc80"}, "body['s'] is a str that is not valid UTF-8"),
    (_cycle(), f"nests deeper than {MAX_DEPTH} levels"),
    (_deep(MAX_DEPTH + 5), f"nests deeper than {MAX_DEPTH} levels"),
]

ACCEPTED: list[Any] = [
    None,
    {"tags": ("a", "b")},  # a tuple is sent (and stored) as a JSON array
    {"level": Level.HIGH, "ok": True, "ratio": 0.5, "n": -(2**63), "text": "ünï"},
    _deep(MAX_DEPTH - 1),
]


@pytest.mark.parametrize(("body", "problem"), REFUSED)
def test_a_body_that_is_not_plain_json_is_refused_saying_where(body: Any, problem: str) -> None:
    found = operation_problem(Operation("k", "PATCH", "/gates/g", body=body))
    assert found is not None and problem in found


@pytest.mark.parametrize("body", ACCEPTED)
def test_plain_json_bodies_are_accepted(body: Any) -> None:
    assert json_problem(body, "body") is None


@pytest.mark.parametrize(
    ("op", "problem"),
    [
        (Operation("k", "PATCH", "/g", before={"t": {1}}), "before['t'] is a set"),
        (Operation("k", "PATCH", "/g", restore={2: 1}), "restore has the key 2"),
        (Operation("k", "PATCH", "/g", check=Check("/g", contains={"a": {1}})),
         "check.contains['a'] is a set"),
        (Operation("k", "PATCH", "/g", check=Check("/g", excludes=[b"x"])),
         "check.excludes[0] is a bytes"),
        (Operation("k", "PATCH", "/g", check=Check("g")), "check.path is 'g': use a path"),
        (Operation("k", "PATCH", "/g", edits=(ListEdit("ids", add=({"x"},)),)),
         "edits[0].add[0] is a set"),
        (Operation("k", "PATCH", "/g", edits=(ListEdit("ids", remove="abc"),)),  # type: ignore[arg-type]
         "edits[0].remove is a str: use a tuple of values ('abc',)"),
        (Operation("k", "PATCH", "/g", undo=Operation("u", "PATCH", "/g", body={"t": {1}})),
         "undo.body['t'] is a set"),
        (Operation("k", "PATCH", "/g", undo=Operation("u", "GET", "/g")),
         "undo.method is 'GET': use one of DELETE, PATCH, POST, PUT"),
        (Operation("k", "PATCH", "https://elsewhere.example/gates/g"),
         "path is 'https://elsewhere.example/gates/g': use a path relative to the API"),
        (Operation("k", "PATCH", "/g", depends_on="other"),  # type: ignore[arg-type]
         "depends_on is a str: use a tuple of str ('other',)"),
        (Operation("k", "PATCH", "/g", items=(1,)),  # type: ignore[arg-type]
         "items[0] is an int: use a str"),
        (Operation(7, "PATCH", "/g"), "key is an int: use a str"),  # type: ignore[arg-type]
        (Operation("", "PATCH", "/g"), "key is empty"),
        (Operation("k", "PATCH", "/g", creates=1), "creates is an int: use True or False"),  # type: ignore[arg-type]
    ],
)  # fmt: skip
def test_every_field_an_operation_carries_is_checked(op: Operation, problem: str) -> None:
    found = operation_problem(op)
    assert found is not None and found.startswith(problem), found


def test_the_jobs_built_in_operations_are_plain() -> None:
    op = Operation(
        "holdout:h:attach", "PATCH", "/holdouts/h", body=None, check=Check("/holdouts/h"),
        edits=(ListEdit("gateIDs", add=("a", "b")),), depends_on=("x",), items=("source:g:a",),
        undo=Operation("holdout:h:detach", "PATCH", "/holdouts/h", body={"gateIDs": []}),
    )  # fmt: skip
    assert operation_problem(op) is None
    assert operation_problem(Operation.from_dict(op.to_dict())) is None


class PerItemSet(Job):
    name = "per-item-set"

    def sources(self) -> list[Source]:
        return [Source("gates")]

    async def plan_item(self, item: Item, ctx: ReadContext) -> Operation | None:
        if item.id != "g3":
            return Operation(f"tag:{item.id}", "PATCH", f"/gates/{item.id}", body={"tags": []})
        return Operation(f"tag:{item.id}", "PATCH", f"/gates/{item.id}", body={"tags": {"x"}})


class WholePlanKeys(Job):
    name = "whole-plan-keys"

    def sources(self) -> list[Source]:
        return [Source("gates")]

    async def plan(
        self, items: AsyncIterable[Item], ctx: ReadContext
    ) -> AsyncIterator[Operation | Skip]:
        async for item in items:
            yield Operation(f"n:{item.id}", "PATCH", f"/gates/{item.id}", body={1: item.id})


class BadSkip(Job):
    name = "bad-skip"

    def sources(self) -> list[Source]:
        return [Source("gates")]

    async def plan_item(self, item: Item, ctx: ReadContext) -> Skip:
        return Skip(item.key, {"why": "no"})  # type: ignore[arg-type]


def _line_of(text: str) -> int:
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def _ctx() -> FakeReadContext:
    ctx = FakeReadContext()
    ctx.add("gates", *({"id": f"g{i}"} for i in range(1, 6)))
    return ctx


async def test_a_per_item_plan_names_the_line_that_built_the_operation() -> None:
    with pytest.raises(JobCodeError) as caught:
        await plan_job(PerItemSet({}), _ctx())
    line = _line_of('body={"tags": {"x"}}')
    assert str(caught.value) == (
        f"job per-item-set: operation 'tag:g3' ({THIS}, line {line}): body['tags'] is a set: "
        "use a list (sorted, so that every run plans the same); nothing was sent"
    )


async def test_a_whole_plan_names_the_line_that_built_the_operation() -> None:
    with pytest.raises(JobCodeError) as caught:
        await plan_job(WholePlanKeys({}), _ctx())
    line = _line_of("body={1: item.id}")
    assert f"operation 'n:g1' ({THIS}, line {line}): body has the key 1 (int)" in str(caught.value)


async def test_a_skip_whose_reason_is_not_text_is_refused() -> None:
    with pytest.raises(JobCodeError, match="a Skip .*: reason is a dict: use a str"):
        await plan_job(BadSkip({}), _ctx())


class MisspeltSources(Job):
    name = "misspelt"

    def source(self) -> list[Source]:  # the method is sources(): this job would list nothing
        return [Source("gates")]

    async def plan_item(self, item: Item, ctx: ReadContext) -> Operation:
        return Operation(f"p:{item.id}", "PATCH", f"/gates/{item.id}", body={})


class StringSources(Job):
    name = "string-sources"

    def sources(self) -> list[Source]:
        return ["gates"]  # type: ignore[list-item]


class NoSourcesWholePlan(Job):
    """A whole-plan job may list nothing (it reads what it needs itself)."""

    name = "no-sources"

    async def plan(
        self, items: AsyncIterable[Item], ctx: ReadContext
    ) -> AsyncIterator[Operation | Skip]:
        yield Operation("one", "PATCH", "/gates/g1", body={"description": "x"})


async def test_a_per_item_job_listing_nothing_is_refused_with_the_likely_slip() -> None:
    with pytest.raises(JobCodeError) as caught:
        await plan_job(MisspeltSources({}), _ctx())
    assert str(caught.value) == (
        "job misspelt plans item by item (plan_item) but sources() lists nothing, so it would "
        "plan nothing (the job defines source(): the method is sources()): return the lists "
        "to read, e.g. [Source('gates')]; nothing was sent"
    )


async def test_sources_that_are_not_source_objects_are_refused() -> None:
    with pytest.raises(JobCodeError, match=r"sources\(\) gave str 'gates': expected"):
        await plan_job(StringSources({}), _ctx())


async def test_a_whole_plan_job_may_list_nothing() -> None:
    steps = await plan_job(NoSourcesWholePlan({}), _ctx())
    assert [s.key for s in steps if isinstance(s, Operation)] == ["one"]
