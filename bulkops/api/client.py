"""``ConsoleClient``: one aiohttp session to the Statsig Console API, with retries and budget.

::

    async with ConsoleClient(api_key=..., base_url=...) as client:
        async for gate in client.paginate("gates", type="STALE"):
            ...
        await client.request("PATCH", "/gates/my_gate", json={"isEnabled": False})

- Every mutation (POST/PATCH/PUT/DELETE) takes a permit of the project's ``MutationBudget``
  right before it is sent and gives it back when the answer (or an error) came back; a 429
  pauses the whole budget and the request is sent again (a 429 was not applied).
- Reads (GET) never touch the budget; they can be paced with ``reads_per_second``.
- Transport errors and 5xx are retried for requests that are safe to repeat (see
  :mod:`bulkops.api.retry`); a POST whose outcome is unknown raises ``OutcomeUnknownError``.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
import orjson
from aiolimiter import AsyncLimiter

from bulkops.api.budget import Budget, MutationBudget
from bulkops.api.clock import Clock, MonotonicClock
from bulkops.api.config import API_VERSION, MutationLimitsLike, Timeouts, resolve_settings
from bulkops.api.errors import (
    ApiError,
    BadResponseError,
    RateLimitedError,
    ServerError,
)
from bulkops.api.pagination import iterate_pages
from bulkops.api.resources import CATALOG
from bulkops.api.responses import RequestInfo, decode_response, outcome_unknown, transport_error
from bulkops.api.retry import IDEMPOTENT_METHODS, MUTATING_METHODS, RetryPolicy, parse_retry_after
from bulkops.api.urls import ApiUrls, encode_query

__all__ = ["ClientStatistics", "ConsoleClient"]

log = logging.getLogger("bulkops.api")

# Failures that happen before a byte of the request left: safe to retry even for a POST.
_NOT_SENT: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,
    *((aiohttp.ConnectionTimeoutError,) if hasattr(aiohttp, "ConnectionTimeoutError") else ()),
)
_REQUEST_ID_HEADERS = ("x-request-id", "x-statsig-request-id", "x-amzn-requestid", "cf-ray")


@dataclass(frozen=True)
class ClientStatistics:
    """A snapshot of what the client did: attempts by method, retries, 429s, unknown outcomes."""

    requests: Mapping[str, int]
    retries: int
    rate_limited: int
    outcome_unknown: int
    errors: int
    in_flight: int

    @property
    def total_requests(self) -> int:
        """Attempts sent, all methods together (retries included)."""
        return sum(self.requests.values())


class _Failed(Exception):
    """One attempt failed; the retry loop decides what to do with ``error``."""

    def __init__(
        self, error: ApiError, *, retryable: bool, sent: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(str(error))
        self.error, self.retryable, self.sent, self.retry_after = (
            error,
            retryable,
            sent,
            retry_after,
        )


class ConsoleClient:
    """An async client of the Console API for one project (one key, one budget).

    ``api_key``, ``base_url`` and ``mutation_limits`` fall back to ``STATSIG_CONSOLE_API_KEY``,
    ``STATSIG_CONSOLE_API_URL`` and ``BULKOPS_MUTATION_LIMITS`` (see :mod:`bulkops.api.config`).
    Pass one ``budget`` to several clients of the same project so they share its windows.
    ``timeout`` is a :class:`Timeouts` or a number (the total per attempt); by default 10 s
    to connect, 60 s per read of the answer, 300 s per attempt in all. ``max_retries``
    bounds retries after transport errors and 5xx; ``clock`` times backoff waits and the
    budget; ``reads_per_second`` paces GETs (None: unpaced); ``page_size`` is the ``limit``
    asked of list endpoints and ``page_concurrency`` how many pages are fetched at once.
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
        page_size: int = 100,
        page_concurrency: int = 4,
        reads_per_second: float | None = None,
        connection_limit: int = 64,
        rng: random.Random | None = None,
        key_hint: str = "",
    ) -> None:
        settings = resolve_settings(api_key, base_url, mutation_limits)
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
        self.page_size = page_size
        self.page_concurrency = max(1, page_concurrency)
        self._read_limiter = AsyncLimiter(reads_per_second, 1.0) if reads_per_second else None
        self._connection_limit = connection_limit
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
            connector=aiohttp.TCPConnector(limit=self._connection_limit),
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
        return body.get("data") if isinstance(body, dict) else None

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

    def paginate(self, kind_or_path: str, **filters: Any) -> AsyncIterator[dict[str, Any]]:
        """Every item of a list endpoint, streamed in order (``"gates"`` or ``"/gates"``).

        ``filters`` become query parameters (lists are repeated: ``tags=["a", "b"]``).
        """
        kind = CATALOG.get(kind_or_path)
        path = kind.list_path if kind is not None else kind_or_path
        query = dict(filters)
        query.setdefault("limit", self.page_size)

        async def fetch(page: int) -> Mapping[str, Any]:
            return await self.request_envelope("GET", path, params={**query, "page": page}) or {}

        return iterate_pages(fetch, path=path, concurrency=self.page_concurrency)

    def statistics(self) -> ClientStatistics:
        """A snapshot of the client's counters (the budget has its own ``statistics()``)."""
        return ClientStatistics(
            requests=dict(self._requests),
            retries=self._retries,
            rate_limited=self._rate_limited,
            outcome_unknown=self._outcome_unknown,
            errors=self._errors,
            in_flight=self._in_flight,
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
            except _Failed as failed:
                error = failed.error
                if isinstance(error, RateLimitedError):
                    limited += 1
                    self._rate_limited += 1
                    if mutation:
                        self.budget.pause(error.retry_after)
                    if limited > policy.max_rate_limited or _too_long(error, policy):
                        raise self._give_up(error, limited) from None
                    self._retries += 1
                    if not mutation:
                        await self._clock.sleep(
                            policy.wait(limited - 1, error.retry_after, self._rng)
                        )
                    continue
                if failed.retryable and failed.sent and not safe:
                    self._outcome_unknown += 1
                    self._errors += 1
                    raise outcome_unknown(error) from None
                if (
                    not failed.retryable
                    or failures >= policy.max_retries
                    or _too_long(error, policy, failed.retry_after)
                ):
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
        if self._session is None:
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
        if not mutation and self._read_limiter is not None:
            await self._read_limiter.acquire()
        permit = await self.budget.acquire() if mutation else None
        self._requests[info.method] += 1
        self._in_flight += 1
        try:
            async with self._session.request(
                info.method, url, data=payload, params=params
            ) as response:
                status, headers = response.status, response.headers
                raw = await response.read()
        except _NOT_SENT as exc:
            raise _Failed(
                transport_error(exc, info, sent=False), retryable=True, sent=False
            ) from exc
        except aiohttp.ClientPayloadError as exc:
            cut = BadResponseError(
                f"the answer was cut off ({type(exc).__name__}): the connection broke mid-body; "
                "retry, and check the network if it keeps happening",
                **info.fields(None, None),
            )
            raise _Failed(cut, retryable=True, sent=True) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Failed(transport_error(exc, info, sent=True), retryable=True, sent=True) from exc
        finally:
            self._in_flight -= 1
            if permit is not None:
                self.budget.release(permit)
        retry_after = parse_retry_after(headers.get("Retry-After"))
        request_id = next((headers[h] for h in _REQUEST_ID_HEADERS if h in headers), None)
        try:
            return decode_response(
                status,
                raw,
                info,
                content_type=headers.get("Content-Type", ""),
                retry_after=retry_after,
                request_id=request_id,
            )
        except ApiError as error:
            retryable = isinstance(error, (ServerError, RateLimitedError)) or (
                isinstance(error, BadResponseError) and status >= 500
            )
            log.debug("%s %s -> %s", info.method, info.path, status)
            raise _Failed(error, retryable=retryable, sent=True, retry_after=retry_after) from None


def _too_long(error: ApiError, policy: RetryPolicy, retry_after: float | None = None) -> bool:
    wait = getattr(error, "retry_after", None) or retry_after
    return wait is not None and wait > policy.max_server_wait
