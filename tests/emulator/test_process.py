"""The emulator in a process of its own answers like the threaded one."""

import urllib.request

import orjson
import pytest

from bulkops.emulator import EmulatorConfig, start_emulator_process


def test_a_process_emulator_serves_and_forwards_its_methods() -> None:
    with start_emulator_process(EmulatorConfig(projects={"p": "key-p"})) as emulator:
        request = urllib.request.Request(
            f"{emulator.base_url}/gates",
            data=orjson.dumps({"name": "Proc Gate", "description": "d"}),
            headers={"STATSIG-API-KEY": "key-p", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        assert emulator.api_key("p") == "key-p"
        assert [entry["path"] for entry in emulator.mutation_log()] == ["/console/v1/gates"]
        with pytest.raises(KeyError, match="no project"):
            emulator.api_key("no-such-project")
        with pytest.raises(AttributeError):
            emulator.not_forwarded  # noqa: B018
