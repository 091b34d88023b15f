"""Mutation rate limits: per project, mutations only, sliding windows counted at arrival."""

from __future__ import annotations

import pytest
from emulator_http import Api

from bulkops.emulator.ratelimit import SlidingWindows, retry_after_header
from bulkops.testing import EmulatorConfig, RunningEmulator


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_window_admits_its_limit_then_refuses_until_the_oldest_leaves() -> None:
    clock = Clock()
    windows = SlidingWindows(((3, 10.0),), clock=clock)
    assert [windows.try_admit() for _ in range(3)] == [None, None, None]
    clock.now += 4
    assert windows.try_admit() == pytest.approx(6.0)
    clock.now += 6
    assert windows.try_admit() is None


def test_the_window_slides_rather_than_resetting() -> None:
    clock = Clock()
    windows = SlidingWindows(((2, 10.0),), clock=clock)
    windows.try_admit()
    clock.now += 9
    windows.try_admit()
    clock.now += 2  # the first left, the second is still inside
    assert windows.try_admit() is None
    assert windows.try_admit() == pytest.approx(8.0)  # until the one at +9 leaves


def test_every_window_must_have_room_and_the_longest_wait_wins() -> None:
    clock = Clock()
    windows = SlidingWindows(((100, 10.0), (3, 900.0)), clock=clock)
    for _ in range(3):
        windows.try_admit()
    assert windows.try_admit() == pytest.approx(900.0)


def test_time_scale_shrinks_the_windows() -> None:
    clock = Clock()
    windows = SlidingWindows(((1, 10.0),), time_scale=0.01, clock=clock)
    windows.try_admit()
    assert windows.try_admit() == pytest.approx(0.1)
    clock.now += 0.1
    assert windows.try_admit() is None


def test_refused_requests_are_not_recorded() -> None:
    clock = Clock()
    windows = SlidingWindows(((1, 10.0),), clock=clock)
    windows.try_admit()
    for _ in range(5):
        windows.try_admit()
    clock.now += 10
    assert windows.try_admit() is None
    assert windows.refused == 5


def test_retry_after_is_whole_seconds_unless_scaled() -> None:
    assert retry_after_header(0.2) == "1"
    assert retry_after_header(6.01) == "7"
    assert retry_after_header(0.0123, time_scale=0.01) == "0.013"


LIMITED = EmulatorConfig(
    projects={"a": "key-a", "b": "key-b"}, mutation_limits=((3, 10.0),), time_scale=1.0
)


@pytest.mark.parametrize("emulator_config", [LIMITED])
def test_mutations_past_the_limit_get_429_with_the_error_body(emulator: RunningEmulator) -> None:
    api = Api(emulator, "a")
    statuses = [api.post("/tags", {"name": f"t{i}", "description": "d"}).status for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.post("/tags", {"name": "t9", "description": "d"})
    assert refused.body["status"] == 429 and "rate limit" in refused.body["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert emulator.stats()["rate_limited"] == 2


@pytest.mark.parametrize("emulator_config", [LIMITED])
def test_reads_are_not_limited_and_projects_are_independent(emulator: RunningEmulator) -> None:
    a, b = Api(emulator, "a"), Api(emulator, "b")
    for i in range(3):
        a.post("/tags", {"name": f"t{i}", "description": "d"})
    assert all(a.get("/tags").status == 200 for _ in range(10))
    assert b.post("/tags", {"name": "t0", "description": "d"}).status == 200


@pytest.mark.parametrize("emulator_config", [LIMITED])
def test_a_rejected_mutation_still_counts_as_arrived(emulator: RunningEmulator) -> None:
    api = Api(emulator, "a")
    statuses = [api.patch("/gates/nope", {"description": "x"}).status for _ in range(4)]
    assert statuses == [404, 404, 404, 429]


@pytest.mark.parametrize(
    "emulator_config", [EmulatorConfig(mutation_limits=((1, 10.0),), retry_after=False)]
)
def test_retry_after_can_be_switched_off(api: Api) -> None:
    api.post("/tags", {"name": "t0", "description": "d"})
    refused = api.post("/tags", {"name": "t1", "description": "d"})
    assert refused.status == 429 and "Retry-After" not in refused.headers


@pytest.mark.parametrize(
    "emulator_config", [EmulatorConfig(mutation_limits=((1, 1000.0),), time_scale=0.001)]
)
def test_scaled_emulator_sends_a_fractional_retry_after(api: Api) -> None:
    api.post("/tags", {"name": "t0", "description": "d"})
    refused = api.post("/tags", {"name": "t1", "description": "d"})  # window: 1 s
    assert refused.status == 429
    assert 0 < float(refused.headers["Retry-After"]) <= 1.0
