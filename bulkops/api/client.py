"""``ConsoleClient``: one aiohttp session to the Statsig Console API, with retries and budget.

::

    async with ConsoleClient(api_key=..., base_url=...) as client:
        async for gate in client.paginate("gates", type="STALE"):
            ...
        await client.request("PATCH", "/gates/my_gate", json={"isEnabled": False})

- Every mutation (POST/PATCH/PUT/DELETE) takes a permit of the project's ``MutationBudget``
  right before it is sent and gives it back when the answer (or an error) came back; a 429
  pauses the whole budget and the request is sent again (a 429 was not applied).
- Reads (GET) never touch the budget: at most ``read_concurrency`` are in flight, and a 429
  or 5xx answer to one pauses every read of the client for a while (:mod:`bulkops.api.reads`).
- A server asking (``Retry-After``) to wait longer than ``RetryPolicy.max_server_wait`` is not
  waited for: a 429, or a 5xx to a request safe to repeat, raises ``ServerWaitTooLongError``
  at once, without pausing anything.
- Transport errors and 5xx are retried for requests that are safe to repeat (see
  :mod:`bulkops.api.retry`); a POST whose outcome is unknown raises ``OutcomeUnknownError``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import random
from collections import Counter
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
import orjson

from bulkops.api.attempts import Failed, exchange, judge
from bulkops.api.budget import Budget, MutationBudget
from bulkops.api.clock import Clock, MonotonicClock
from bulkops.api.config import API_VERSION, MutationLimitsLike, Timeouts, resolve_settings
from bulkops.api.errors import ApiError, RateLimitedError
from bulkops.api.pagination import (
    DEFAULT_PAGE_CONCURRENCY,
    FALLBACK_PAGE_LIMIT,
    iterate_pages,
    list_fetcher,
    page_limit,
)
from bulkops.api.reads import ReadPacer
from bulkops.api.resources import CATALOG
from bulkops.api.responses import RequestInfo, outcome_unknown, server_wait_too_long
from bulkops.api.retry import IDEMPOTENT_METHODS, MUTATING_METHODS, RetryPolicy
from bulkops.api.shapes import entity_checker, list_kind, read_checker
from bulkops.api.urls import ApiUrls, encode_query

__all__ = ["ClientStatistics", "ConsoleClient"]

log = logging.getLogger("bulkops.api")


@dataclass(frozen=True)
class ClientStatistics:
    """A snapshot of what the client did: attempts by method, retries, 429s, unknown outcomes,
    and its reads now (in flight, waiting for a slot, pauses after 429/5xx)."""

    requests: Mapping[str, int]
    retries: int
    rate_limited: int
    outcome_unknown: int
    errors: int
    in_flight: int
    reads_in_flight: int = 0
    reads_waiting: int = 0
    read_pauses: int = 0
    """Times a 429 or 5xx answer to a read paused every read of the client."""
    read_paused_until: float | None = None
    """Clock time until which the client sends no read, or None."""

    @property
    def total_requests(self) -> int:
        """Attempts sent, all methods together (retries included)."""
        return sum(self.requests.values())


class ConsoleClient:
    """An async client of the Console API for one project (one key, one budget).

    ``api_key``, ``base_url`` and ``mutation_limits`` fall back to ``STATSIG_CONSOLE_API_KEY``,
    ``STATSIG_CONSOLE_API_URL`` and ``BULKOPS_MUTATION_LIMITS`` (see :mod:`bulkops.api.config`).
    Pass one ``budget`` to several clients of the same project so they share its windows.
    ``timeout`` is a :class:`Timeouts` or a number (the total per attempt); by default 10 s
    to connect, 60 s per read of the answer, 300 s per attempt in all. ``max_retries``
    bounds retries after transport errors and 5xx; ``clock`` times backoff waits and the
    budget; ``read_concurrency`` bounds the GETs in flight (else ``BULKOPS_READ_CONCURRENCY``,
    else 16) and ``reads_per_second`` paces them (None: unpaced). ``page_size`` is the
    ``limit`` asked of list endpoints (None: learn it, asking the most the spec allows, else
    1000, and taking what the server answers; see :mod:`bulkops.api.pagination`) and
    ``page_concurrency`` how many pages of one listing are in flight (default 16).
    ``connection_limit`` bounds the pooled connections; by default ``read_concurrency`` plus
    the mutations the budget can have in flight (its smallest window count), so that neither
    reads nor mutations ever queue for a connection.
    ``key_hint`` says where the key came from in 401/403 messages (e.g. ``--target-api-key or
    STATSIG_TARGET_CONSOLE_API_KEY``; default: the source connection's option and variable).
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        mutation_limits: MutationLimitsLike | None = None,
        *,
        budget: Budget | None = None,
        margin: float = 0.0,
        respect_review_settings: bool = False,
        timeout: Timeouts | float | None = None,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        page_size: int | None = None,
        page_concurrency: int = DEFAULT_PAGE_CONCURRENCY,
        reads_per_second: float | None = None,
        connection_limit: int | None = None,
        rng: random.Random | None = None,
        key_hint: str = "",
        read_concurrency: int | None = None,
    ) -> None:
        settings = resolve_settings(
            api_key, base_url, mutation_limits, read_concurrency=read_concurrency
        )
        self._api_key = settings.api_key
        self._key_hint = key_hint
        self.base_url = settings.base_url
        self._urls = ApiUrls(self.base_url)
        self._clock: Clock = clock if clock is not None else MonotonicClock()
        self.budget: Budget = budget or MutationBudget(
            settings.mutation_limits, margin=margin, clock=clock
        )
        policy = retry_policy or RetryPolicy()
        if max_retries is not None:
            policy = dataclasses.replace(policy, max_retries=max_retries)
        self.retry_policy = policy
        if isinstance(timeout, (int, float)):
            timeout = Timeouts(total=float(timeout))
        self.timeouts = timeout or Timeouts()
        self.respect_review_settings = respect_review_settings
        self._page_size = page_size
        self.page_size: int = page_size if page_size is not None else FALLBACK_PAGE_LIMIT
        """The explicit ``page_size``, else 100: the ``limit`` for code that pages by hand
        (``paginate`` asks ``page_limit(path)`` and learns what the server gives)."""
        self.page_concurrency = max(1, page_concurrency)
        self.read_concurrency = reads = settings.read_concurrency
        self._reads = ReadPacer(reads, clock=self._clock, per_second=reads_per_second)
        if connection_limit is None:
            mutations = min((count for count, _ in self.budget.limits), default=100)
            connection_limit = reads + mutations
        self.connection_limit = connection_limit
        self._rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._requests: Counter[str] = Counter()
        self._retries = self._rate_limited = self._outcome_unknown = self._errors = 0
        self._in_flight = 0

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._closed:
            raise RuntimeError(
                "this ConsoleClient was closed and cannot be reopened: create a new one"
            )
        headers = {
            "STATSIG-API-KEY": self._api_key,
            "STATSIG-API-VERSION": API_VERSION,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        if self.respect_review_settings:
            headers["x-respect-review-settings"] = "true"
        t = self.timeouts
        self._session = aiohttp.ClientSession(
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=t.total, sock_connect=t.connect, sock_read=t.read),
            connector=aiohttp.TCPConnector(limit=self.connection_limit),
            json_serialize=lambda obj: orjson.dumps(obj).decode(),
            raise_for_status=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session (``async with`` does it for you)."""
        if self._session is not None:
            session, self._session = self._session, None
            self._closed = True
            await session.close()

    def __repr__(self) -> str:
        return f"ConsoleClient(base_url={self.base_url!r}, api_key=<redacted>)"

    # -- requests -------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        data: bytes | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one request and return the ``data`` of its JSON answer (None if it has none).

        ``path`` is relative to the base URL (``/gates/g1``); ``json`` is sent as an orjson
        body, ``data`` as raw bytes. ``idempotent`` overrides the method's default (GET, PUT,
        PATCH, DELETE are safe to repeat, POST is not: pass True for a POST full update).
        Raises the errors of :mod:`bulkops.api.errors`.
        """
        body = await self.request_envelope(
            method, path, json, params=params, data=data, idempotent=idempotent
        )
        data = body.get("data") if isinstance(body, dict) else None
        check = read_checker(method, self._urls.display(path)) if data is not None else None
        if check is not None:
            check(data)
        return data

    async def request_envelope(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        data: bytes | None = None,
        idempotent: bool | None = None,
    ) -> dict[str, Any] | None:
        """Like :meth:`request`, but return the whole decoded answer (message, pagination)."""
        method = method.upper()
        payload = orjson.dumps(json) if json is not None else data
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        info = RequestInfo(
            method, self._urls.display(path), self.base_url, self._api_key, self._key_hint
        )
        return await self._send(info, self._urls.url(path), payload, encode_query(params), safe)

    def paginate(self, kind_or_path: str, **filters: Any) -> AsyncGenerator[dict[str, Any], None]:
        """Every item of a list endpoint, streamed in order (``"gates"`` or ``"/gates"``).

        ``filters`` become query parameters (lists are repeated: ``tags=["a", "b"]``). Pages
        are fetched ahead, ``page_concurrency`` at a time; to stop early and end those fetches
        at once, close the iterator (``async with contextlib.aclosing(...)``).
        """
        kind = CATALOG.get(kind_or_path) or list_kind(kind_or_path)
        path = kind.list_path if kind is not None else kind_or_path
        check = entity_checker(kind, "GET", path) if kind is not None else None
        query = dict(filters)
        learn = "limit" not in query and self._page_size is None
        query.setdefault("limit", self.page_limit(path))

        async def get(params: Mapping[str, Any]) -> Mapping[str, Any]:
            return await self.request_envelope("GET", path, params=params) or {}

        fetch = list_fetcher(get, query, learn=learn)
        return iterate_pages(fetch, path=path, concurrency=self.page_concurrency, check=check)

    def page_limit(self, path: str) -> int:
        """The ``limit`` this client sends to the list endpoint ``path``."""
        return page_limit(path, self._page_size)

    def statistics(self) -> ClientStatistics:
        """A snapshot of the client's counters (the budget has its own ``statistics()``)."""
        reads = self._reads.statistics()
        return ClientStatistics(
            requests=dict(self._requests),
            retries=self._retries,
            rate_limited=self._rate_limited,
            outcome_unknown=self._outcome_unknown,
            errors=self._errors,
            in_flight=self._in_flight,
            reads_in_flight=reads.in_flight,
            reads_waiting=reads.waiting,
            read_pauses=reads.pauses,
            read_paused_until=reads.paused_until,
        )

    # -- internals ------------------------------------------------------------------------

    async def _send(
        self,
        info: RequestInfo,
        url: str,
        payload: bytes | None,
        params: list[tuple[str, str]] | None,
        safe: bool,
    ) -> dict[str, Any] | None:
        mutation = info.method in MUTATING_METHODS
        policy, failures, limited = self.retry_policy, 0, 0
        while True:
            try:
                return await self._attempt(info, url, payload, params, mutation)
            except Failed as failed:
                error = failed.error
                if isinstance(error, RateLimitedError):
                    limited += 1
                    self._rate_limited += 1
                    if _too_long(error.retry_after, policy):
                        raise server_wait_too_long(error, policy.max_server_wait) from None
                    if mutation:
                        self.budget.pause(error.retry_after)
                    else:
                        self._reads.pause(policy.wait(limited - 1, error.retry_after, self._rng))
                    if limited > policy.max_rate_limited:
                        raise self._give_up(error, limited) from None
                    self._retries += 1
                    continue  # a read waits out the reads' pause before it is sent again
                if failed.retryable and failed.sent and not safe:
                    self._outcome_unknown += 1
                    self._errors += 1
                    raise outcome_unknown(error) from None
                if failed.retryable and _too_long(failed.retry_after, policy):
                    self._errors += 1
                    wait = policy.max_server_wait
                    raise server_wait_too_long(error, wait, failed.retry_after) from None
                if not failed.retryable or failures >= policy.max_retries:
                    self._errors += 1
                    raise self._give_up(error, failures + 1) from None
                delay = policy.wait(failures, failed.retry_after, self._rng)
                failures += 1
                self._retries += 1
                log.info(
                    "retrying %s %s in %.2f s after %s (retry %d of %d)",
                    info.method,
                    info.path,
                    delay,
                    type(error).__name__,
                    failures,
                    policy.max_retries,
                )
                if not mutation and (error.status or 0) >= 500:
                    self._reads.pause(delay)  # every read of the client waits it out
                else:
                    await self._clock.sleep(delay)

    def _give_up(self, error: ApiError, attempts: int) -> ApiError:
        if attempts > 1:
            error.message += f" [gave up after {attempts} attempts]"
        return error

    async def _attempt(
        self,
        info: RequestInfo,
        url: str,
        payload: bytes | None,
        params: list[tuple[str, str]] | None,
        mutation: bool,
    ) -> dict[str, Any] | None:
        session = self._open_session(info)
        permit = await self.budget.acquire() if mutation else None
        try:
            async with contextlib.nullcontext() if mutation else self._reads.slot():
                self._requests[info.method] += 1
                self._in_flight += 1
                try:
                    answer = await exchange(session, info, url, payload, params)
                finally:
                    self._in_flight -= 1
        finally:
            if permit is not None:
                self.budget.release(permit)
        return judge(answer, info)

    def _open_session(self, info: RequestInfo) -> aiohttp.ClientSession:
        if self._session is not None:
            return self._session
        if self._closed:
            raise RuntimeError(
                f"cannot send {info.method} {info.path}: this ConsoleClient is closed "
                "(its `async with` block ended); send requests inside the block, or open "
                "a new client"
            )
        raise RuntimeError(
            f"cannot send {info.method} {info.path}: the client is not open; use it as "
            "`async with ConsoleClient(...) as client:`"
        )


def _too_long(wait: float | None, policy: RetryPolicy) -> bool:
    return wait is not None and wait > policy.max_server_wait
