"""A tiny blocking HTTP client for the emulator tests (``Api``/``Reply``).

Deliberately not bulkops.api: the emulator is tested with plain HTTP so each side checks the
other independently.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from bulkops.testing import RunningEmulator


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def data(self) -> Any:
        return self.body["data"]


class Api:
    """``api.post("/gates", {...})`` → :class:`Reply`; the key defaults to project ``default``."""

    def __init__(self, emulator: RunningEmulator, project: str = "default") -> None:
        self.emulator = emulator
        self.key: str | None = emulator.api_key(project)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = "",
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        headers = {"Content-Type": "application/json", **(headers or {})}
        key = self.key if key == "" else key
        if key is not None:
            headers["STATSIG-API-KEY"] = key
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        url = path if path.startswith("http") else self.emulator.base_url + path
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return self._reply(response.status, response.read(), response.headers)
        except urllib.error.HTTPError as error:
            return self._reply(error.code, error.read(), error.headers)

    @staticmethod
    def _reply(status: int, payload: bytes, headers: Any) -> Reply:
        try:
            body = json.loads(payload) if payload else None
        except ValueError:
            body = payload.decode()
        return Reply(status, body, dict(headers.items()))

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PATCH", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("DELETE", path, body, **kw)
