"""A test hook kept out of the send path: die right after the N-th mutation's response arrived.

``BULKOPS_TEST_KILL_AFTER_SEND=N`` (environment) makes the process ``SIGKILL`` itself after the
N-th mutation request got its answer and before its outcome is journaled: the "request sent,
journal not written" moment that resume must reconcile. The lifecycle wraps the run's
connections in ``KillAfterSend`` only when the variable is set; tests only, never in normal use.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from bulkops.api.budget import Budget
from bulkops.run.context import Connection

__all__ = ["KILL_AFTER_SEND_ENV", "KillAfterSend", "with_kill_point"]

KILL_AFTER_SEND_ENV = "BULKOPS_TEST_KILL_AFTER_SEND"


class _Count:
    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = 0


class KillAfterSend:
    """A ``Connection`` that SIGKILLs the process after the ``after``-th mutation's answer."""

    def __init__(self, inner: Connection, after: int, count: _Count) -> None:
        self._inner, self._after, self._count = inner, after, count

    @property
    def base_url(self) -> str:
        return self._inner.base_url

    @property
    def budget(self) -> Budget:
        return self._inner.budget

    async def request(
        self, method: str, path: str, json: Any = None, *, params: Mapping[str, Any] | None = None
    ) -> Any:
        data = await self._inner.request(method, path, json, params=params)
        if method.upper() != "GET":
            self._count.sent += 1
            if self._count.sent == self._after:
                os.kill(os.getpid(), signal.SIGKILL)
        return data

    def paginate(self, kind_or_path: str, **filters: Any) -> AsyncGenerator[dict, None]:
        return self._inner.paginate(kind_or_path, **filters)


def with_kill_point(
    connections: Mapping[str, Connection], env: Mapping[str, str] | None = None
) -> Mapping[str, Connection]:
    """``connections`` as they are, or wrapped when ``BULKOPS_TEST_KILL_AFTER_SEND`` is set."""
    after = int((os.environ if env is None else env).get(KILL_AFTER_SEND_ENV) or 0)
    if after <= 0:
        return connections
    count = _Count()
    return {name: KillAfterSend(conn, after, count) for name, conn in connections.items()}
