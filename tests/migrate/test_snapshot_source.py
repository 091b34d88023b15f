"""SnapshotConnection answers reads as the API does, and refuses every write."""

import pytest

from bulkops.api.errors import NotFoundError
from bulkops.migrate.sample import migration_sample
from bulkops.migrate.snapshot_source import SnapshotConnection, SnapshotReadOnlyError
from bulkops.run.context import ClientReadContext


@pytest.fixture
def conn() -> SnapshotConnection:
    sample = migration_sample()
    sample["exported"] = {"project_id": "proj-1"}
    return SnapshotConnection(sample)


@pytest.mark.anyio
async def test_lists_every_entity_and_filters_like_the_list_endpoint(conn) -> None:
    gates = [g async for g in conn.paginate("gates")]
    tagged = [g async for g in conn.paginate("gates", tags="search")]
    assert len(gates) == 122 and tagged and all("search" in g["tags"] for g in tagged)
    assert [e["id"] async for e in conn.paginate("/experiments", status="setup")]


@pytest.mark.anyio
async def test_serves_one_entity_its_overrides_and_a_404(conn) -> None:
    gate = await conn.request("GET", "/gates/checkout")
    assert gate["id"] == "checkout"
    doc = await conn.request("GET", "/gates/checkout_gate_0/overrides")
    assert doc["passingUserIDs"] == ["vip-0-0"]
    assert await conn.request("GET", "/gates/checkout/overrides") == {
        "passingUserIDs": [],
        "failingUserIDs": [],
        "passingCustomIDs": [],
        "failingCustomIDs": [],
        "environmentOverrides": [],
    }
    with pytest.raises(NotFoundError):
        await conn.request("GET", "/gates/nope")


@pytest.mark.anyio
async def test_pages_id_lists_as_the_read_context_reads_them(conn) -> None:
    ctx = ClientReadContext({"source": conn})
    ids = [i async for i in ctx.paged("/segments/store_0/id_list", "ids")]
    assert len(ids) == 1_200 and ids[0] == "store-0-00000"


@pytest.mark.anyio
async def test_answers_the_project_id_the_export_recorded_and_that_it_is_a_snapshot(conn) -> None:
    assert await conn.request("GET", "/project") == {"id": "proj-1", "snapshot": "snapshot:"}


@pytest.mark.anyio
async def test_refuses_every_write(conn) -> None:
    for method in ("POST", "PATCH", "PUT", "DELETE"):
        with pytest.raises(SnapshotReadOnlyError) as refused:
            await conn.request(method, "/gates", json={"name": "x"})
        assert refused.value.status == 405


@pytest.mark.anyio
async def test_answers_are_copies(conn) -> None:
    gate = await conn.request("GET", "/gates/checkout")
    gate["description"] = "changed by the caller"
    assert (await conn.request("GET", "/gates/checkout"))["description"] != gate["description"]
