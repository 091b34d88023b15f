"""``GET /project``: the project a key belongs to (``ExternalProjectDto``), stable per project."""

from __future__ import annotations

import json
import urllib.request

from bulkops.testing import EmulatorConfig, start_emulator


def _project(base_url: str, key: str) -> dict:
    request = urllib.request.Request(base_url + "/project", headers={"STATSIG-API-KEY": key})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_each_project_has_its_own_stable_id() -> None:
    config = EmulatorConfig(projects={"default": "k-a", "staging": "k-b"})
    with start_emulator(config) as emulator:
        first = _project(emulator.base_url, "k-a")
        other = _project(emulator.base_url, "k-b")
    with start_emulator(config) as emulator:
        again = _project(emulator.base_url, "k-a")
    assert set(first) == {"message", "data"} and set(first["data"]) == {"id"}
    assert isinstance(first["data"]["id"], str) and first["data"]["id"]
    assert first["data"]["id"] != other["data"]["id"]
    assert again == first
