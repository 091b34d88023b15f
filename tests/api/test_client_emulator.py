"""The client against the local emulator on 127.0.0.1: listing, error mapping, retries, 429s.

Backoff waits are shortened with a small ``RetryPolicy`` (real time, a few ms); a server's
Retry-After is still honoured in full.
"""

from __future__ import annotations

import anyio
import pytest

from bulkops.api import (
    AuthError,
    BadResponseError,
    ConsoleClient,
    NotFoundError,
    OutcomeUnknownError,
    RetryPolicy,
    TransportError,
    ValidationError,
)
from bulkops.testing import EmulatorConfig, RunningEmulator, start_emulator

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

FAST = RetryPolicy(backoff_base=0.005, backoff_max=0.05)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(page_cap=7)


def connect(emulator: RunningEmulator, **kwargs: object) -> ConsoleClient:
    return ConsoleClient(
        api_key=emulator.api_key(),
        base_url=emulator.base_url,
        retry_policy=FAST,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_listing_with_a_page_cap_of_7_returns_every_item_once(emulator) -> None:
    names = [f"gate_{i:03d}" for i in range(45)]
    async with connect(emulator) as api:
        for name in names:
            await api.request("POST", "/gates", json={"name": name})
        listed = [gate["id"] async for gate in api.paginate("gates")]
    assert sorted(listed) == names
    assert len(listed) == len(set(listed))
    assert api.statistics().requests["GET"] >= 7  # 45 items at 7 per page


async def test_list_filters_reach_the_server(emulator) -> None:
    async with connect(emulator) as api:
        await api.request("POST", "/gates", json={"name": "keeper", "type": "TEMPORARY"})
        await api.request("POST", "/gates", json={"name": "forever", "type": "PERMANENT"})
        permanent = [gate["id"] async for gate in api.paginate("gates", type="PERMANENT")]
    assert permanent == ["forever"]


async def test_wrong_key_is_an_auth_error_that_names_the_env_var(emulator) -> None:
    async with ConsoleClient(api_key="console-wrong-key", base_url=emulator.base_url) as api:
        with pytest.raises(AuthError) as info:
            await api.request("GET", "/gates")
    assert "STATSIG_CONSOLE_API_KEY" in str(info.value)
    assert "console-wrong-key" not in str(info.value)


async def test_missing_gate_is_not_found(emulator) -> None:
    async with connect(emulator) as api:
        with pytest.raises(NotFoundError, match="404"):
            await api.request("GET", "/gates/no_such_gate")


async def test_invalid_body_is_a_validation_error_with_the_server_reason(emulator) -> None:
    async with connect(emulator) as api:
        with pytest.raises(ValidationError, match="name") as info:
            await api.request("POST", "/gates", json={"name": 5})
    assert info.value.status == 400


async def test_html_error_pages_are_bad_responses(emulator) -> None:
    emulator.fail_next(10, "GET", "/gates", status=503, html=True)
    async with connect(emulator, max_retries=2) as api:
        with pytest.raises(BadResponseError, match="HTML page"):
            await api.request("GET", "/gates")
    assert api.statistics().requests["GET"] == 3


async def test_a_503_then_200_is_retried(emulator) -> None:
    async with connect(emulator) as api:
        await api.request("POST", "/gates", json={"name": "flaky"})
        emulator.fail_next(1, "GET", "/gates/flaky", status=503)
        gate = await api.request("GET", "/gates/flaky")
    assert gate["id"] == "flaky"
    assert api.statistics().retries == 1


async def test_a_patch_whose_response_is_lost_is_retried(emulator) -> None:
    async with connect(emulator) as api:
        await api.request("POST", "/gates", json={"name": "patched"})
        emulator.drop_next("PATCH", "/gates/patched")
        await api.request("PATCH", "/gates/patched", json={"description": "x"})
        gate = await api.request("GET", "/gates/patched")
    assert gate["description"] == "x"
    patches = [m for m in emulator.mutation_log() if m["method"] == "PATCH"]
    assert len(patches) == 2  # PATCH is safe to repeat


@pytest.mark.parametrize("mode", ["reset", "500"])
async def test_a_create_whose_response_is_lost_is_outcome_unknown_not_resent(
    emulator, mode
) -> None:
    emulator.drop_next("POST", "/gates", mode=mode)
    async with connect(emulator) as api:
        with pytest.raises(OutcomeUnknownError) as info:
            await api.request("POST", "/gates", json={"name": "lost_reply"})
        # reconcile: read before re-sending
        gate = await api.request("GET", "/gates/lost_reply")
    posts = [m for m in emulator.mutation_log() if m["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["response_lost"]
    assert gate["name"] == "lost_reply"
    assert isinstance(info.value.cause, TransportError if mode == "reset" else Exception)
    assert api.statistics().outcome_unknown == 1


async def test_429s_pause_the_budget_and_every_mutation_lands_once() -> None:
    # The server allows 5 mutations per 0.2 s; the client believes in 1000/s, so it draws 429s.
    config = EmulatorConfig(mutation_limits=((5, 0.2),))
    with start_emulator(config) as emulator:
        async with (
            connect(emulator, mutation_limits=[(1000, 1.0)]) as api,
            anyio.create_task_group() as tg,
        ):
            for i in range(12):
                body = {"name": f"tag_{i}", "description": "d"}
                tg.start_soon(api.request, "POST", "/tags", body)
        stats = api.statistics()
        posts = [m for m in emulator.mutation_log() if m["method"] == "POST"]
    print(f"429s: {stats.rate_limited}, requests: {dict(stats.requests)}")
    assert stats.rate_limited > 0
    assert api.budget.statistics().rate_limited == stats.rate_limited
    assert sorted(m["body"]["name"] for m in posts) == sorted(f"tag_{i}" for i in range(12))
