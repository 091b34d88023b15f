"""How a request's path becomes a URL: the base URL join, its display form, the query string."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ApiUrls", "encode_query"]


class ApiUrls:
    """Joins paths to ``base_url`` (``/gates/g1`` and ``/console/v1/gates/g1`` both work)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._base_path = urlsplit(base_url).path.rstrip("/")
        self._origin = base_url[: len(base_url) - len(self._base_path)]

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (absolute URLs are returned as they are)."""
        if path.startswith(("http://", "https://")):
            return path
        if not path.startswith("/"):
            path = "/" + path
        base = self._base_path
        if base and (path == base or path.startswith(base + "/")):
            return self._origin + path
        return self.base_url + path

    def display(self, path: str) -> str:
        """``path`` relative to the base URL, as errors and logs show it."""
        url = self.url(path)
        return url[len(self.base_url) :] if url.startswith(self.base_url) else path


def encode_query(params: Mapping[str, Any] | None) -> list[tuple[str, str]] | None:
    """Query pairs: None values dropped, lists repeated (``tags=a&tags=b``), booleans lowercase."""
    if not params:
        return None
    query: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        for item in values:
            text = str(item).lower() if isinstance(item, bool) else str(item)
            query.append((name, text))
    return query
