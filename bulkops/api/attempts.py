"""One attempt of a request: the exchange on the wire, then a verdict on what came back.

``exchange`` sends the request and reads the whole answer, or raises :class:`Failed` with the
transport error and whether any byte may have reached the server. ``judge`` turns the answer
into decoded JSON, or raises :class:`Failed` saying whether the error is worth retrying. The
client's retry loop (``ConsoleClient._send``) decides what to do with a ``Failed``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from bulkops.api.errors import ApiError, BadResponseError, RateLimitedError, ServerError
from bulkops.api.responses import RequestInfo, decode_response, transport_error
from bulkops.api.retry import parse_retry_after

__all__ = ["Answer", "Failed", "exchange", "judge"]

log = logging.getLogger("bulkops.api")

Answer = tuple[int, Mapping[str, str], bytes]
"""Status, headers and body of an answer."""

# Failures that happen before a byte of the request left: safe to retry even for a POST.
_NOT_SENT: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,
    *((aiohttp.ConnectionTimeoutError,) if hasattr(aiohttp, "ConnectionTimeoutError") else ()),
)
_REQUEST_ID_HEADERS = ("x-request-id", "x-statsig-request-id", "x-amzn-requestid", "cf-ray")


class Failed(Exception):
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


async def exchange(
    session: aiohttp.ClientSession,
    info: RequestInfo,
    url: str,
    payload: bytes | None,
    params: list[tuple[str, str]] | None,
) -> Answer:
    """Send the request and read the whole answer, or raise ``Failed`` (a transport error)."""
    try:
        async with session.request(info.method, url, data=payload, params=params) as response:
            return response.status, response.headers, await response.read()
    except _NOT_SENT as exc:
        raise Failed(transport_error(exc, info, sent=False), retryable=True, sent=False) from exc
    except aiohttp.ClientPayloadError as exc:
        cut = BadResponseError(
            f"the answer was cut off ({type(exc).__name__}): the connection broke mid-body; "
            "retry, and check the network if it keeps happening",
            **info.fields(None, None),
        )
        raise Failed(cut, retryable=True, sent=True) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise Failed(transport_error(exc, info, sent=True), retryable=True, sent=True) from exc


def judge(answer: Answer, info: RequestInfo) -> dict[str, Any] | None:
    """The decoded JSON of a 2xx answer (None when empty), or raise ``Failed`` with our error."""
    status, headers, raw = answer
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
        raise Failed(error, retryable=retryable, sent=True, retry_after=retry_after) from None
