"""List pages are served from a cache that every change of the project empties."""

from __future__ import annotations

import pytest
from emulator_http import Api

from bulkops.testing import RunningEmulator


def _names(api: Api, query: str = "") -> list[str]:
    return [gate["name"] for gate in api.get("/gates" + query).data]


def test_a_create_shows_in_the_next_list_page(api: Api) -> None:
    assert _names(api) == []
    api.post("/gates", {"name": "g one"})
    assert _names(api) == ["g one"]


def test_a_patch_and_a_lifecycle_call_show_in_the_next_list_page(api: Api) -> None:
    api.post("/gates", {"name": "g one"})
    assert api.get("/gates").data[0]["description"] == ""
    api.patch("/gates/g_one", {"description": "changed"})
    assert api.get("/gates").data[0]["description"] == "changed"
    api.put("/gates/g_one/disable")
    assert api.get("/gates").data[0]["isEnabled"] is False


def test_a_lost_response_still_shows_its_effect(emulator: RunningEmulator, api: Api) -> None:
    assert _names(api) == []
    emulator.drop_next("POST", "/gates")
    with pytest.raises(OSError):
        api.post("/gates", {"name": "g one"})
    assert _names(api) == ["g one"]


def test_a_loaded_snapshot_shows_in_the_next_list_page(emulator: RunningEmulator, api: Api) -> None:
    api.post("/gates", {"name": "g one"})
    assert _names(api) == ["g one"]
    snapshot = emulator.dump()
    snapshot["projects"]["default"]["entities"]["gates"] = []
    emulator.load(snapshot)
    assert _names(api) == []


def test_pages_are_cached_per_project_and_query() -> None:
    from bulkops.testing import EmulatorConfig, start_emulator

    config = EmulatorConfig(projects={"a": "key-a", "b": "key-b"}, page_cap=1)
    with start_emulator(config) as emulator:
        a, b = Api(emulator, "a"), Api(emulator, "b")
        a.post("/gates", {"name": "g one"})
        a.post("/gates", {"name": "g two"})
        assert _names(b) == []
        assert _names(a, "?page=1") == ["g one"]
        assert _names(a, "?page=2") == ["g two"]
