"""A shared budget's link to Redis: opening it, losing it, and the calls nobody waits for.

`SharedBudget` (in `bulkops.api.shared_budget`) queues senders; this module does its I/O:

- `RedisLink.open()` connects (`redis.asyncio`, imported lazily: bulkops imports without the
  `redis` extra), loads the script, registers the process and subscribes to the project's
  wake channel; any failure is a `BudgetUnavailableError` naming the URL without password.
- `call(...)` awaits one Redis call; a failure of any call (or of the pub/sub connection)
  loses the link for good: `BudgetLostError`, and the budget is told through `on_lost()`.
  There is no retry: an admission retried after a timeout could be recorded twice.
- Releases, cancelled permits and 429s are queued by the budget's sync methods and sent by
  one background task, batched (all releases pending = one round trip); a heartbeat task
  beats every TTL/4 and hands the budget a `Snapshot`; a listener wakes the budget on
  another process's release.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

import anyio

from bulkops.api.errors import BudgetLostError, BudgetUnavailableError, redact
from bulkops.api.limits import MutationLimit
from bulkops.api.shared_log import BudgetKeys, PauseOutcome, RedisWindowLog, Snapshot
from bulkops.errors import shown
from bulkops.redaction import SECRETS

__all__ = ["BUDGET_URL_ENV", "BudgetListener", "RedisLink", "safe_url"]

log = logging.getLogger("bulkops.api")

BUDGET_URL_ENV = "BULKOPS_BUDGET_URL"
"""The environment variable the CLI reads the shared budget's Redis URL from."""
_LISTEN_TIMEOUT = 5.0


def safe_url(url: str) -> str:
    """`url` with its password (if any) replaced by `***`, for messages and logs."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unreadable URL>"
    if not password:
        return url
    userinfo, hostport = parts.netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))


class BudgetListener(Protocol):
    """What the link tells its budget (a beat's snapshot, a release, a 429, the loss)."""

    def _on_snapshot(self, snapshot: Snapshot) -> None: ...

    def _on_released(self) -> None: ...

    def _on_paused(self, outcome: PauseOutcome) -> None: ...

    def _on_lost(self) -> None: ...


class RedisLink:
    """One process's connection to one project's shared budget in Redis."""

    def __init__(
        self,
        url: str,
        keys: BudgetKeys,
        owner: str,
        limits: Sequence[MutationLimit],
        caps: Sequence[int],
        *,
        listener: BudgetListener,
        ttl: float,
        timeout: float,
        max_pause: float,
    ) -> None:
        self._listener = listener
        self._max_pause = max_pause
        self._url = url
        self.url = safe_url(url)
        SECRETS.register_url_password(url)
        self._keys = keys
        self._owner = owner
        self._limits, self._caps = limits, caps
        self._ttl = ttl
        self._timeout = timeout
        self.lost: BudgetLostError | None = None
        self._redis: Any = None
        self._pubsub: Any = None
        self._errors: tuple[type[BaseException], ...] = (OSError, TimeoutError)
        self._log: RedisWindowLog | None = None
        self._tasks: Any = None
        self._releases: list[str] = []
        self._forgets: list[str] = []
        self._pauses: list[float | None] = []
        self._work = anyio.Event()
        self._flushed = anyio.Event()
        self._asked = self._done = 0

    @property
    def log(self) -> RedisWindowLog:
        """The script caller (admissions go through it directly)."""
        assert self._log is not None, "the link is not open"
        return self._log

    @property
    def round_trips(self) -> int:
        """Redis calls made so far (the PING and the subscription included)."""
        return self._log.round_trips if self._log is not None else 0

    async def open(self, recent: Sequence[float] = ()) -> tuple[Snapshot, int]:
        """Connect and register; `BudgetUnavailableError` (nothing sent) if that fails.
        Into an empty log, first count the sends answered `recent` seconds ago; returns the
        log and how many of them it counted."""
        redis_asyncio, retry, redis_error = _import_redis()
        self._errors = (redis_error, OSError, TimeoutError)
        try:
            if urlsplit(self._url).scheme not in ("redis", "rediss"):
                raise ValueError("use redis://host:port/db, or rediss:// for TLS")
            self._redis = redis_asyncio.Redis.from_url(
                self._url,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                retry=retry,
                client_name=f"bulkops-{self._owner}",
            )
            self._log = RedisWindowLog(
                self._redis, self._keys, self._owner, self._limits, self._caps, self._ttl
            )
            with anyio.fail_after(self._timeout * 4):
                await self._redis.ping()
                await self._log.load()
                seeded = await self._log.seed(recent) if recent else 0
                snapshot = await self._log.beat()
                self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                await self._pubsub.subscribe(self._keys.wake)
                self._log.round_trips += 2
        except (*self._errors, ValueError) as exc:
            await self.disconnect()
            raise BudgetUnavailableError(
                f"cannot use the shared mutation budget at {shown(self.url)}: {self._reason(exc)}; "
                f"check that Redis runs there, or fix --budget-url / {BUDGET_URL_ENV}"
            ) from None
        return snapshot, seeded

    async def call(self, awaitable: Any) -> Any:
        """Await one Redis call; any failure loses the link (`BudgetLostError`)."""
        if self.lost is not None:
            raise self.lost
        try:
            return await awaitable
        except self._errors as exc:
            if self.lost is None:
                self.lost = BudgetLostError(
                    f"lost the shared mutation budget at {shown(self.url)} ({self._reason(exc)}): "
                    "stopped sending; resume the run once Redis is back"
                )
                self._listener._on_lost()
            raise self.lost from None

    # -- what the budget hands over without waiting ---------------------------------------

    def release(self, entry: str) -> None:
        """Queue a release (the entry then counts one span more)."""
        self._releases.append(entry)
        self._work.set()

    def forget(self, entry: str) -> None:
        """Queue the removal of an entry whose request never left (a cancelled permit)."""
        self._forgets.append(entry)
        self._work.set()

    def pause(self, retry_after: float | None) -> None:
        """Queue a 429 (pause and back-off for every process)."""
        self._pauses.append(retry_after)
        self._work.set()

    async def flush(self) -> None:
        """Return once everything queued so far is in Redis."""
        self._asked += 1
        target = self._asked
        self._work.set()
        while self._done < target:
            if self.lost is not None:
                raise self.lost
            await self._flushed.wait()

    # -- background tasks -----------------------------------------------------------------

    async def start(self) -> None:
        """Start the sender of queued calls, the heartbeat and the listener (until `close`).

        They run in a task group entered here and left in `close()`: call both from the
        same task."""
        self._tasks = anyio.create_task_group()
        await self._tasks.__aenter__()
        for loop in (self._send_loop, self._beat_loop, self._listen_loop):
            self._tasks.start_soon(_until_lost, loop)

    async def _send_loop(self) -> None:
        listener = self._listener
        while True:
            await self._work.wait()
            self._work = anyio.Event()
            asked = self._asked
            released, self._releases = self._releases, []
            forgotten, self._forgets = self._forgets, []
            pauses, self._pauses = self._pauses, []
            if released or forgotten:
                await self.call(self.log.release(released, forgotten))
                listener._on_released()
            if pauses:
                hint = max((p for p in pauses if p is not None), default=None)
                outcome = await self.call(self.log.pause(hint, self._max_pause))
                listener._on_paused(outcome)
            self._done = asked
            self._flushed.set()
            self._flushed = anyio.Event()

    async def _beat_loop(self) -> None:
        while True:
            await anyio.sleep(self._ttl / 4)
            self._listener._on_snapshot(await self.call(self.log.beat()))

    async def _listen_loop(self) -> None:
        me = self._owner.encode()
        while True:
            message = await self.call(
                self._pubsub.get_message(ignore_subscribe_messages=True, timeout=_LISTEN_TIMEOUT)
            )
            if message is not None and message.get("data") != me:
                self._listener._on_released()

    # -- closing --------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop the background tasks, retire this process (its entries still in flight end
        now, its heartbeat goes: this also covers releases not sent yet) and disconnect."""
        if self._tasks is not None:
            tasks, self._tasks = self._tasks, None
            tasks.cancel_scope.cancel()
            await tasks.__aexit__(None, None, None)
        with anyio.CancelScope(shield=True):
            if self.lost is None and self._log is not None:
                with anyio.move_on_after(self._timeout):
                    try:
                        await self._log.retire()
                    except self._errors:
                        log.debug("could not retire from the shared budget", exc_info=True)
            await self.disconnect()

    async def disconnect(self) -> None:
        """Close the connections (errors of a broken connection are ignored)."""
        for closable in (self._pubsub, self._redis):
            if closable is not None:
                try:  # aclose() since redis 5.0.1, close() before
                    await (getattr(closable, "aclose", None) or closable.close)()
                except self._errors:
                    log.debug("closing a broken Redis connection", exc_info=True)
        self._pubsub = self._redis = None
        self._flushed.set()

    def _reason(self, exc: BaseException) -> str:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        try:
            password = urlsplit(self._url).password
        except ValueError:
            password = None
        return redact(redact(text, password), unquote(password) if password else None)


async def _until_lost(loop: Any) -> None:
    try:
        await loop()
    except BudgetLostError:
        return


def _import_redis() -> tuple[Any, Any, type[Exception]]:
    """`redis.asyncio`, a no-retry policy and `RedisError`, or a clear error to install it."""
    try:
        import redis.asyncio as redis_asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import RedisError
    except ImportError:
        raise BudgetUnavailableError(
            "the shared mutation budget needs the redis package: pip install 'bulkops[redis]'"
        ) from None
    return redis_asyncio, Retry(NoBackoff(), 0), RedisError
