"""Turning what came back (a status and bytes, or a transport failure) into data or our errors.

Kept apart from the client so the mapping can be read, and tested, in one place. Every message
names the request, says what the user can do, and has the API key scrubbed out of it.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from bulkops.api.config import ENV_API_KEY, ENV_API_URL
from bulkops.api.errors import (
    ApiError,
    AuthError,
    BadResponseError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    ServerWaitTooLongError,
    TransportError,
    ValidationError,
    redact,
)
from bulkops.api.retry import format_wait

__all__ = [
    "RequestInfo",
    "decode_response",
    "error_for_status",
    "outcome_unknown",
    "server_wait_too_long",
    "transport_error",
]

_MAX_SERVER_MESSAGE = 500


@dataclass(frozen=True)
class RequestInfo:
    """What an error message needs to know about the request (the key only for redaction)."""

    method: str
    path: str
    base_url: str
    api_key: str = field(default="", repr=False)
    key_hint: str = ""
    """Where the key comes from, for 401/403 messages (default: the source connection's)."""

    @property
    def key_source(self) -> str:
        """``key_hint``, else ``STATSIG_CONSOLE_API_KEY or --api-key``."""
        return self.key_hint or f"{ENV_API_KEY} or --api-key"

    def scrub(self, text: str) -> str:
        """``text`` without the API key."""
        return redact(text, self.api_key)

    def fields(self, status: int | None, request_id: str | None) -> dict[str, Any]:
        """Keyword arguments shared by every ApiError built for this request."""
        return {
            "status": status,
            "method": self.method,
            "path": self.scrub(self.path),
            "request_id": request_id,
        }


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _NOT_JSON


_NOT_JSON = object()


def _server_message(body: Any, info: RequestInfo) -> str | None:
    if not isinstance(body, dict):
        return None
    message = body.get("message") or body.get("error")
    if isinstance(message, list):
        message = "; ".join(str(part) for part in message)
    if not message:
        return None
    text = info.scrub(str(message))
    return text if len(text) <= _MAX_SERVER_MESSAGE else text[:_MAX_SERVER_MESSAGE] + "…"


def _said(message: str | None) -> str:
    return f" (server said: {message})" if message else ""


def error_for_status(
    status: int,
    raw: bytes,
    info: RequestInfo,
    *,
    content_type: str = "",
    retry_after: float | None = None,
    request_id: str | None = None,
) -> ApiError:
    """The error for a non-2xx answer (the caller decides whether to retry it)."""
    body = _json(raw) if raw else None
    message = _server_message(body, info)
    base = info.scrub(info.base_url)
    kw = info.fields(status, request_id)
    if status == 401:
        return AuthError(
            f"API key rejected (401) by {base}: check {info.key_source} "
            f"(a Console API key of this project){_said(message)}",
            **kw,
        )
    if status == 403:
        return AuthError(
            f"API key not allowed to do this (403) at {base}: use a Console API key with "
            f"the needed permission (read-write for changes), set via "
            f"{info.key_source}{_said(message)}",
            **kw,
        )
    if status == 404:
        return NotFoundError(
            f"not found (404) at {base}: check the id or path, and that the key belongs to "
            f"the project you mean{_said(message)}",
            **kw,
        )
    if status == 429:
        hint = f"; the server asked to wait {retry_after:g} s" if retry_after else ""
        return RateLimitedError(
            f"rate limited (429) by {base}{hint}: lower the pace (--mutation-limit) or "
            f"retry later; another client may be spending this project's budget{_said(message)}",
            retry_after=retry_after,
            **kw,
        )
    if body is _NOT_JSON or (raw and not isinstance(body, dict)):
        return _bad_response(status, raw, content_type, info, request_id)
    if status >= 500:
        return ServerError(
            f"server error ({status}) at {base}: the Console API may be degraded; retry "
            f"later{_said(message)}",
            **kw,
        )
    if 400 <= status < 500:
        return ValidationError(
            f"request refused ({status}): {message or 'no reason given'}; fix the request "
            "body or parameters and try again",
            **kw,
        )
    return ApiError(f"unexpected answer ({status}) from {base}{_said(message)}", **kw)


def _bad_response(
    status: int, raw: bytes, content_type: str, info: RequestInfo, request_id: str | None
) -> BadResponseError:
    kind = content_type.split(";")[0].strip() or "no content type"
    what = "an HTML page" if "html" in kind or raw.lstrip()[:1] == b"<" else f"{kind} data"
    return BadResponseError(
        f"the server answered {status} with {what} ({len(raw)} bytes) instead of the Console "
        f"API's JSON: a proxy or outage page, or {ENV_API_URL} / --api-url does not point at "
        f"the Console API ({info.scrub(info.base_url)})",
        **info.fields(status, request_id),
    )


def decode_response(
    status: int,
    raw: bytes,
    info: RequestInfo,
    *,
    content_type: str = "",
    retry_after: float | None = None,
    request_id: str | None = None,
) -> dict[str, Any] | None:
    """The decoded JSON object of a 2xx answer (None for an empty body), or raise our error."""
    if not 200 <= status < 300:
        raise error_for_status(
            status,
            raw,
            info,
            content_type=content_type,
            retry_after=retry_after,
            request_id=request_id,
        )
    if not raw.strip():
        return None
    body = _json(raw)
    if not isinstance(body, dict):
        raise _bad_response(status, raw, content_type, info, request_id)
    return body


def transport_error(exc: BaseException, info: RequestInfo, *, sent: bool) -> TransportError:
    """A TransportError for a failure with no usable answer; says whether it may have arrived."""
    reason = info.scrub(f"{type(exc).__name__}: {exc}".rstrip(": "))
    when = "after the request was sent" if sent else "before the request was sent"
    if _is_dns_failure(exc):
        host = urlsplit(info.base_url).hostname or info.base_url
        return TransportError(
            f"cannot resolve the host {info.scrub(host)!r} ({reason}): check the host name in "
            f"{ENV_API_URL} / --api-url and that this machine has DNS and network access",
            **info.fields(None, None),
        )
    return TransportError(
        f"no answer from {info.scrub(info.base_url)} ({reason}, {when}): check the network "
        f"and {ENV_API_URL} / --api-url, then retry",
        **info.fields(None, None),
    )


def _is_dns_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):  # the socket.gaierror may sit a few causes down
        if seen is None:
            return False
        if isinstance(seen, socket.gaierror) or type(seen).__name__ == "ClientConnectorDNSError":
            return True
        seen = getattr(seen, "os_error", None) or seen.__cause__
    return False


def outcome_unknown(error: ApiError) -> OutcomeUnknownError:
    """The error for a request that is unsafe to repeat and may have been applied."""
    why = "the connection failed" if isinstance(error, TransportError) else "the server failed"
    return OutcomeUnknownError(
        f"{why} after the request was sent, so it may or may not have been applied; it was "
        f"not re-sent: read the current state before trying again ({error.message})",
        cause=error,
        status=error.status,
        method=error.method,
        path=error.path,
        request_id=error.request_id,
    )


def server_wait_too_long(
    error: ApiError, max_wait: float, asked: float | None = None
) -> ServerWaitTooLongError:
    """The error for a 429 or 5xx whose ``Retry-After`` asks for more than ``max_wait`` s
    (``asked``; by default the 429's own ``retry_after``)."""
    if asked is None:
        asked = getattr(error, "retry_after", None) or 0.0
    if isinstance(error, RateLimitedError):
        what = "rate limited (429)"
        why = "this project's budget is spent, perhaps by another client"
    else:
        what = f"server unavailable ({error.status})"
        why = "the Console API says it is down for that long"
    return ServerWaitTooLongError(
        f"{what}: the server asked to wait {format_wait(asked)}, longer than the "
        f"{format_wait(max_wait)} bulkops waits at most (RetryPolicy.max_server_wait), so "
        f"nothing was paused or retried: {why}; run again (or resume the run) after that time",
        retry_after=asked,
        max_wait=max_wait,
        status=error.status,
        method=error.method,
        path=error.path,
        request_id=error.request_id,
    )
