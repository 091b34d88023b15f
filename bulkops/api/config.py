"""Settings for talking to the Console API, resolved from arguments first, then the environment.

The CLI and ``ConsoleClient`` share these rules, so ``--api-key`` and ``STATSIG_CONSOLE_API_KEY``
mean the same thing everywhere:

- API key: ``api_key`` argument (``--api-key``), else ``STATSIG_CONSOLE_API_KEY``; missing →
  :class:`~bulkops.api.errors.ConfigError`. Registered in ``bulkops.redaction.SECRETS``.
- Base URL: ``base_url`` (``--api-url``), else ``STATSIG_CONSOLE_API_URL``, else
  ``https://statsigapi.net/console/v1``.
- Mutation limits: ``mutation_limits`` (``--mutation-limit``), else ``BULKOPS_MUTATION_LIMITS``,
  else the documented policy (100 per 10 s and 900 per 15 min).
- Read concurrency: ``read_concurrency`` (``--read-concurrency``), else
  ``BULKOPS_READ_CONCURRENCY``, else 16 GET requests in flight per client (1 to 1000).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bulkops.api.errors import ConfigError
from bulkops.redaction import SECRETS

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "DEFAULT_READ_CONCURRENCY",
    "ENV_API_KEY",
    "ENV_API_URL",
    "ENV_MUTATION_LIMITS",
    "ENV_READ_CONCURRENCY",
    "MAX_API_KEY_LENGTH",
    "MAX_READ_CONCURRENCY",
    "ClientSettings",
    "MutationLimitsLike",
    "Timeouts",
    "check_api_key",
    "resolve_api_key",
    "resolve_base_url",
    "resolve_mutation_limits",
    "resolve_read_concurrency",
    "resolve_settings",
]

ENV_API_KEY = "STATSIG_CONSOLE_API_KEY"
ENV_API_URL = "STATSIG_CONSOLE_API_URL"
ENV_MUTATION_LIMITS = "BULKOPS_MUTATION_LIMITS"
ENV_READ_CONCURRENCY = "BULKOPS_READ_CONCURRENCY"
DEFAULT_READ_CONCURRENCY = 16
"""GET requests in flight per client: reads are not metered, latency is their whole cost, and
16 overlap a far-away API's 100-300 ms well without looking like a flood to it."""
MAX_READ_CONCURRENCY = 1000
DEFAULT_BASE_URL = "https://statsigapi.net/console/v1"
API_VERSION = "20240601"

MutationLimitsLike = str | Iterable[str | tuple[int, float]]
"""``"100/10s,900/15m"``, ``["100/10s", "900/15m"]`` or ``[(100, 10.0), (900, 900.0)]``."""


@dataclass(frozen=True)
class Timeouts:
    """Per-request time limits in seconds (None: no limit of that kind).

    ``connect`` bounds opening the TCP/TLS connection, ``read`` the wait for each chunk of the
    answer, ``total`` a whole attempt (including waiting for a free pooled connection).
    """

    connect: float | None = 10.0
    read: float | None = 60.0
    total: float | None = 300.0


@dataclass(frozen=True)
class ClientSettings:
    """Resolved settings; the key is kept out of ``repr``."""

    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    mutation_limits: tuple[tuple[int, float], ...] = ((100, 10.0), (900, 900.0))
    read_concurrency: int = DEFAULT_READ_CONCURRENCY


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


MAX_API_KEY_LENGTH = 1024
_KEY_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F))  # printable ASCII, no space


def check_api_key(key: str, source: str) -> str:
    """``key`` if it can be an API key (one word of printable ASCII, at most
    ``MAX_API_KEY_LENGTH`` characters), else ConfigError naming ``source``, never the key."""
    if len(key) > MAX_API_KEY_LENGTH:
        raise ConfigError(
            f"the Console API key from {source} is {len(key)} characters long, not a key "
            f"(at most {MAX_API_KEY_LENGTH}): check what is set there"
        )
    if not _KEY_CHARS.issuperset(key):
        raise ConfigError(
            f"the Console API key from {source} holds spaces, control or non-ASCII "
            "characters; a key is one word such as console-...: check what is set there"
        )
    return key


def resolve_api_key(api_key: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The API key from the argument, else ``STATSIG_CONSOLE_API_KEY``; raises ConfigError."""
    key = api_key if api_key is not None else _env(env).get(ENV_API_KEY)
    key = (key or "").strip()
    SECRETS.register(key)  # before any message could quote it (an SDK key is a secret too)
    if not key:
        raise ConfigError(
            f"no Console API key: pass --api-key or set {ENV_API_KEY} "
            "(a Console API key from Project Settings → Keys & Environments)"
        )
    if key.startswith(("secret-", "client-")):
        raise ConfigError(
            "the API key given is an SDK key, not a Console API key: create a Console API key "
            f"(it starts with 'console-') and pass it with --api-key or {ENV_API_KEY}"
        )
    return check_api_key(key, f"--api-key or {ENV_API_KEY}")


def resolve_base_url(base_url: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The base URL from the argument, else ``STATSIG_CONSOLE_API_URL``, else the public API."""
    url = base_url if base_url is not None else _env(env).get(ENV_API_URL)
    url = (url or "").strip() or DEFAULT_BASE_URL
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.netloc) and parts.port != 0
    except ValueError:  # an unclosed [IPv6 bracket, a port out of range or not a number
        usable = False
    if not usable or not url.isprintable():
        raise ConfigError(
            f"the Console API URL must look like {DEFAULT_BASE_URL} (got a value without "
            f"http(s):// and host, or not a well-formed URL): fix --api-url or {ENV_API_URL}"
        )
    return url.rstrip("/")


def resolve_mutation_limits(
    mutation_limits: MutationLimitsLike | None = None, env: Mapping[str, str] | None = None
) -> tuple[tuple[int, float], ...]:
    """Mutation windows ``((count, seconds), ...)`` from the argument, env, else the policy."""
    from bulkops.api import limits

    try:
        if mutation_limits is None:
            return limits.limits_from_env(_env(env))
        return limits.normalize_limits(mutation_limits)  # type: ignore[arg-type]
    except limits.MutationLimitError as exc:
        raise ConfigError(
            f"{exc} (set with --mutation-limit 100/10s --mutation-limit 900/15m, "
            f"or {ENV_MUTATION_LIMITS}=100/10s,900/15m)"
        ) from None


def resolve_read_concurrency(
    read_concurrency: int | None = None, env: Mapping[str, str] | None = None
) -> int:
    """GET requests in flight per client: the argument, else ``BULKOPS_READ_CONCURRENCY``,
    else 16; a whole number from 1 to 1000, anything else raises ConfigError."""
    how = f"--read-concurrency N or {ENV_READ_CONCURRENCY}=N"
    if read_concurrency is None:
        text = (_env(env).get(ENV_READ_CONCURRENCY) or "").strip()
        if not text:
            return DEFAULT_READ_CONCURRENCY
        try:
            value = int(text)
        except ValueError:
            raise ConfigError(
                f"{ENV_READ_CONCURRENCY}={text[:40]!r} is not a whole number: set {how}, "
                f"N from 1 to {MAX_READ_CONCURRENCY} (default {DEFAULT_READ_CONCURRENCY})"
            ) from None
    elif isinstance(read_concurrency, bool) or not isinstance(read_concurrency, int):
        raise ConfigError(
            f"read concurrency must be a whole number, got {read_concurrency!r}: set {how}"
        )
    else:
        value = read_concurrency
    if not 1 <= value <= MAX_READ_CONCURRENCY:
        raise ConfigError(
            f"read concurrency {value} is out of range: use 1 to {MAX_READ_CONCURRENCY} GET "
            f"requests in flight ({how}; default {DEFAULT_READ_CONCURRENCY})"
        )
    return value


def resolve_settings(
    api_key: str | None = None,
    base_url: str | None = None,
    mutation_limits: MutationLimitsLike | None = None,
    env: Mapping[str, str] | None = None,
    *,
    read_concurrency: int | None = None,
) -> ClientSettings:
    """Resolve every setting at once (arguments win over the environment)."""
    return ClientSettings(
        api_key=resolve_api_key(api_key, env),
        base_url=resolve_base_url(base_url, env),
        mutation_limits=resolve_mutation_limits(mutation_limits, env),
        read_concurrency=resolve_read_concurrency(read_concurrency, env),
    )
