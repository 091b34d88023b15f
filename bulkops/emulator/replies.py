"""How the emulator answers: JSON bodies (orjson), the service's error shape, pagination.

Errors carry ``{"status": <code>, "message": <text>}`` as the Console API's 400/401/404
bodies do (see the spec's error responses). Handlers raise :class:`ApiProblem`; the
middleware turns it into that body.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web

__all__ = [
    "ApiProblem",
    "error_reply",
    "json_reply",
    "page_params",
    "page_payload",
    "paged_reply",
]

_JSON = "application/json; charset=utf-8"


class ApiProblem(Exception):
    """An error answer: HTTP status plus the message the service would give."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_reply(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Serialize ``payload`` once with orjson (no copies of the stored entities)."""
    return web.Response(
        body=orjson.dumps(payload),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def error_reply(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """The service's error body: ``{"status", "message"}``."""
    return json_reply({"status": status, "message": message}, status, headers)


def _positive_int(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(float(raw))
    except ValueError:
        raise ApiProblem(
            400, f"{name} must be a number conforming to the specified constraints"
        ) from None
    if value < 1:
        raise ApiProblem(400, f"{name} must not be less than 1")
    return value


def page_params(query: Mapping[str, str], page_cap: int) -> tuple[int, int]:
    """``(page, limit)`` from the query; ``limit`` is capped at ``page_cap`` (the server cap)."""
    page = _positive_int(query.get("page"), "page", 1)
    limit = _positive_int(query.get("limit"), "limit", page_cap)
    return page, min(limit, page_cap)


def page_payload(
    items: Iterable[Any],
    total: int,
    page: int,
    limit: int,
    path: str,
    message: str,
    extra_query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One page of ``items`` with the service's ``pagination`` object.

    ``items`` is iterated lazily: only the requested page is materialized.
    """
    start = (page - 1) * limit
    data = list(islice(iter(items), start, start + limit))
    keep = [(k, v) for k, v in (extra_query or {}).items() if k not in ("page", "limit")]
    # The filters are encoded once, not once per link (urlencode is a hot spot of list pages).
    prefix = f"{path}?{urlencode(keep)}&" if keep else f"{path}?"
    pagination = {
        "itemsPerPage": limit,
        "pageNumber": page,
        "totalItems": total,
        "nextPage": f"{prefix}page={page + 1}&limit={limit}" if start + limit < total else None,
        "previousPage": f"{prefix}page={page - 1}&limit={limit}" if page > 1 else None,
        "all": path,
    }
    return {"message": message, "data": data, "pagination": pagination}


def paged_reply(
    items: Iterable[Any],
    total: int,
    page: int,
    limit: int,
    path: str,
    message: str,
    extra_query: Mapping[str, str] | None = None,
) -> web.Response:
    """:func:`page_payload` as a JSON response."""
    return json_reply(page_payload(items, total, page, limit, path, message, extra_query))
