"""Pins the public API of bulkops.api for type checkers: checked by mypy, never run.

`tests/typing/test_api_typing.py` runs `mypy` on this file; a change that breaks a user's
script (a renamed argument, a narrowed return type) shows up here as a type error.
"""

from __future__ import annotations

from typing import Any

import anyio

from bulkops.api import (
    CATALOG,
    DEFAULT_MUTATION_LIMITS,
    ApiError,
    AuthError,
    BadResponseError,
    Budget,
    BudgetStatistics,
    BulkopsError,
    ClientStatistics,
    Clock,
    ConfigError,
    ConsoleClient,
    FakeClock,
    MonotonicClock,
    MutationBudget,
    MutationLimitError,
    NotFoundError,
    OutcomeUnknownError,
    Permit,
    RateLimitedError,
    ResourceKind,
    RetryPolicy,
    ServerError,
    ServerWaitTooLongError,
    Timeouts,
    TransportError,
    ValidationError,
    get_kind,
    limits_from_env,
    parse_mutation_limit,
    parse_mutation_limits,
    parse_retry_after,
)


async def client_usage() -> None:
    client = ConsoleClient(
        api_key="console-xyz",
        base_url="http://127.0.0.1:8080/console/v1",
        mutation_limits=[(100, 10.0), (900, 900.0)],
    )
    ConsoleClient(mutation_limits="100/10s,900/15m", margin=0.05)
    ConsoleClient(
        budget=MutationBudget(),
        respect_review_settings=True,
        timeout=Timeouts(connect=5.0, read=30.0, total=120.0),
        max_retries=2,
        retry_policy=RetryPolicy(max_retries=3, backoff_base=0.1),
        clock=FakeClock(),
        page_size=50,
        page_concurrency=2,
        reads_per_second=20.0,
    )
    ConsoleClient(timeout=30.0)
    ConsoleClient(page_size=None, read_concurrency=32, connection_limit=None)
    async with client:
        gate: dict[str, Any]
        async for gate in client.paginate("gates", type="STALE", idType=["userID", "stableID"]):
            name: Any = gate.get("name")
            del name
        data: Any = await client.request("GET", "/gates/g1")
        await client.request("PATCH", "/gates/g1", json={"isEnabled": False})
        await client.request("GET", "/gates", params={"limit": 10})
        await client.request("POST", "/gates/g1/rules", json={}, idempotent=False)
        envelope: dict[str, Any] | None = await client.request_envelope("GET", "/gates")
        del data, envelope
    stats: ClientStatistics = client.statistics()
    total: int = stats.total_requests + stats.retries + stats.rate_limited
    reads: int = stats.reads_in_flight + stats.reads_waiting + stats.read_pauses
    read_paused_until: float | None = stats.read_paused_until
    limit: int = client.page_limit("/gates") + client.page_size + client.read_concurrency
    del reads, read_paused_until, limit
    budget: Budget = client.budget  # a MutationBudget unless another Budget was given
    del total, budget
    await client.aclose()


async def budget_usage() -> None:
    clock: Clock = FakeClock()
    budget = MutationBudget(DEFAULT_MUTATION_LIMITS, margin=2, clock=clock)
    MutationBudget("100/10s,900/15m")
    MutationBudget(clock=MonotonicClock())
    permit: Permit = await budget.acquire()
    budget.release(permit)
    async with budget.slot() as held:
        number: int = held.number
        del number
    budget.pause(7.5)
    budget.pause(None)
    seconds: float = budget.eta(1_000_000)
    snapshot: BudgetStatistics = budget.statistics()
    sent: tuple[int, ...] = snapshot.sent
    waiting: int = snapshot.waiting
    paused: float | None = snapshot.paused_until
    caps: list[int] = [w.cap for w in snapshot.windows]
    limits: tuple[tuple[int, float], ...] = budget.limits
    del seconds, sent, waiting, paused, caps, limits


async def shared_budget_usage() -> None:
    from bulkops.api import (
        BUDGET_URL_ENV,
        BudgetLostError,
        BudgetUnavailableError,
        SharedBudget,
        SharedBudgetStatistics,
        SharedPermit,
    )

    url: str = BUDGET_URL_ENV
    try:
        async with SharedBudget.connect(
            "redis://127.0.0.1:6379/0", "project-id", "100/10s,900/15m", margin=0.05
        ) as budget:
            permit: SharedPermit = await budget.acquire()
            budget.release(permit)
            async with budget.slot():
                pass
            budget.pause(None)
            seconds: float = budget.eta(10)
            stats: SharedBudgetStatistics = budget.statistics()
            plain: BudgetStatistics = stats
            round_trips: int = stats.round_trips
            limits: tuple[tuple[int, float], ...] = budget.limits
            await budget.flush()
            del seconds, plain, round_trips, limits
        explicit = SharedBudget(url, "project-id", max_pause=900.0, heartbeat_ttl=10.0)
        await explicit.open()
        await explicit.aclose()
    except BudgetUnavailableError as exc:
        config: ConfigError = exc
        del config
    except BudgetLostError as exc:
        lost: BulkopsError = exc
        del lost


async def fake_clock_usage() -> None:
    clock = FakeClock(start=100.0)
    clock.advance(1.5)
    await clock.run_for(10.0)
    await clock.settle()
    async with clock.autojump():
        await clock.sleep(3.0)
    now: float = clock.now()
    deadline: float | None = clock.next_deadline()
    del now, deadline


def limits_usage() -> None:
    one: tuple[int, float] = parse_mutation_limit("100/10s")
    many: tuple[tuple[int, float], ...] = parse_mutation_limits("100/10s,900/15m")
    env: tuple[tuple[int, float], ...] = limits_from_env({"BULKOPS_MUTATION_LIMITS": "5/1s"})
    wait: float | None = parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT")
    kind: ResourceKind = get_kind("gates")
    same: ResourceKind = CATALOG["gates"]
    clean: dict[str, Any] = kind.strip_read_only({"id": "g", "createdTime": 1})
    del one, many, env, wait, same, clean


async def errors_usage(client: ConsoleClient) -> None:
    try:
        await client.request("POST", "/gates", json={"name": "g"})
    except OutcomeUnknownError as exc:
        cause: ApiError | None = exc.cause
        del cause
    except ServerWaitTooLongError as exc:
        asked: float | None = exc.retry_after
        cap: float = exc.max_wait
        del asked, cap
    except RateLimitedError as exc:
        retry_after: float | None = exc.retry_after
        del retry_after
    except (AuthError, NotFoundError, ValidationError, ServerError) as exc:
        status: int | None = exc.status
        message: str = exc.message
        request_id: str | None = exc.request_id
        del status, message, request_id
    except (BadResponseError, TransportError) as exc:
        where: str = f"{exc.method} {exc.path}"
        del where
    except MutationLimitError as exc:
        config: ConfigError = exc
        del config
    except BulkopsError:
        pass


def run() -> None:
    anyio.run(budget_usage)
