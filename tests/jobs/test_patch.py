import json
from pathlib import Path

import pytest
from bulkops.jobs.patch import Patch, parse_assignment
from job_fakes import FakeReadContext, gate, operations, plan_job

from bulkops.run.job import JobConfigError


@pytest.mark.anyio
async def test_one_patch_per_entity_with_only_changed_fields(ctx: FakeReadContext) -> None:
    ctx.add(
        "gates",
        gate("g1", description="old"),
        gate("g2", description="new", tags=["x"]),
        gate("g3", description="new"),
    )
    job = Patch({"kind": "gates", "set": ["description=new", "tags=x"]})
    ops = operations(await plan_job(job, ctx))
    assert [(o.path, o.body) for o in ops] == [
        ("/gates/g1", {"description": "new", "tags": ["x"]}),
        ("/gates/g3", {"tags": ["x"]}),
    ]
    assert ops[0].before == {"description": "old", "tags": []}
    assert ops[0].check is not None and ops[0].check.contains == ops[0].body


@pytest.mark.anyio
async def test_shrinking_a_list_checks_the_dropped_elements(ctx: FakeReadContext) -> None:
    ctx.add("gates", gate("g1", tags=["a", "b"]))
    [op] = operations(await plan_job(Patch({"kind": "gates", "set": ["tags=a"]}), ctx))
    assert op.check is not None and op.check.excludes == {"tags": ["b"]}


@pytest.mark.anyio
async def test_where_and_merge_file(ctx: FakeReadContext, tmp_path: Path) -> None:
    ctx.add("gates", gate("a1"), gate("b1"))
    merge = tmp_path / "m.json"
    merge.write_text(json.dumps({"isEnabled": False}))
    job = Patch({"kind": "gates", "merge": str(merge), "where": ["name~a*"]})
    assert [o.body for o in operations(await plan_job(job, ctx))] == [{"isEnabled": False}]


def test_values_are_json_or_strings() -> None:
    assert parse_assignment("isEnabled=false") == ("isEnabled", False)
    assert parse_assignment("description=hello world") == ("description", "hello world")
    assert parse_assignment("tags=a, b") == ("tags", ["a", "b"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"set": ["lastModifiedTime=1"]}, "read-only"),
        ({"set": ["colour=red"]}, "no writable field 'colour'"),
        ({"set": ["=x"]}, "expected FIELD=VALUE"),
        ({}, "nothing to write"),
        ({"merge": "/nonexistent.json"}, "does not exist"),
        ({"kind": "gatez", "set": ["description=x"]}, "unknown kind"),
        ({"set": ["isEnabled=yes"]}, "isEnabled is a boolean: use true or false"),
        ({"set": ["rules=notjson"]}, "rules is a list"),
        ({"set": ["reviewSettings=[1]"]}, "reviewSettings is an object"),
        ({"kind": "holdouts", "set": ["passPercentage=half"]}, "passPercentage is a number"),
        ({"kind": "experiments", "set": ["duration=1.5"]}, "duration is an integer"),
    ],
)
def test_bad_parameters_are_usage_errors(options, message) -> None:
    with pytest.raises(JobConfigError, match=message):
        Patch({"kind": "gates", **options}).sources()


def test_wrong_types_in_a_merge_file_are_refused(tmp_path: Path) -> None:
    merge = tmp_path / "m.json"
    merge.write_text(json.dumps({"isEnabled": "false"}))
    with pytest.raises(JobConfigError, match=r'isEnabled is a boolean.*\(got "false"\)'):
        Patch({"kind": "gates", "merge": str(merge)}).sources()


@pytest.mark.anyio
async def test_string_fields_keep_the_text_as_typed(ctx: FakeReadContext) -> None:
    ctx.add("gates", gate("g1", description="old", teamID="t1"))
    job = Patch({"kind": "gates", "set": ["description=2024", "teamID=null", "isEnabled=false"]})
    [op] = operations(await plan_job(job, ctx))
    assert op.body == {"description": "2024", "teamID": None, "isEnabled": False}


@pytest.mark.anyio
async def test_description_shows_values_as_json(ctx: FakeReadContext) -> None:
    ctx.add("gates", gate("g1", description="old", isEnabled=True))
    job = Patch({"kind": "gates", "set": ["isEnabled=false", "description=new"]})
    [op] = operations(await plan_job(job, ctx))
    assert op.description == 'patch gates g1: isEnabled true → false; description "old" → "new"'
