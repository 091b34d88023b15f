"""A misbehaving Console API for the response fuzz: the emulator behind a mangling proxy.

``ManglingProxy(upstream)`` serves on a free loopback port (aiohttp, in a thread of its own)
and forwards every request to the emulator at ``upstream``; the answer is then handed to
``proxy.mangle`` (a ``Mangle``: method, path, status, body -> status, body, content type),
which may cut it, retype a field, drop one, or answer HTML. ``mangled`` counts the answers
it changed. The emulator cannot produce these faults itself, by design.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from loopback import serve_in_thread

Answer = tuple[int, bytes, str]
Mangle = Callable[[str, str, int, bytes], Answer | None]
"""(method, path with query, status, body) -> a replacement answer, or None to pass it on."""

HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
#: Values of the wrong JSON type, for any field.
WRONG: tuple[Any, ...] = (None, 0, -1, 1.5, 2**62, 1e300, True, "", "x", [], [1, "a"], {}, {"a": 1})


class ManglingProxy:
    """The emulator at ``upstream`` as a misbehaving server (see the module docstring)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.mangle: Mangle = lambda *_: None
        self.mangled = 0
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/console/v1"

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        url = self.upstream + request.path_qs
        async with self._session.request(request.method, url, data=body, headers=headers) as up:
            raw = await up.read()
            status, content_type = up.status, up.content_type
        changed = self.mangle(request.method, request.path_qs, status, raw)
        if changed is not None:
            self.mangled += 1
            status, raw, content_type = changed
        return web.Response(status=status, body=raw, content_type=content_type or None)

    @contextmanager
    def running(self) -> Iterator[ManglingProxy]:
        """Serve until the block ends."""

        async def open_session() -> None:
            self._session = aiohttp.ClientSession()

        async def close_session() -> None:
            await self._session.close()

        serving = serve_in_thread(
            self._forward, name="mangling-proxy", on_start=open_session, on_stop=close_session
        )
        with serving as self.port:
            yield self


# -- manglings --------------------------------------------------------------------------------


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _spots(doc: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place (a path of keys and indexes) in ``doc``, the root excepted."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield (*where, key)
            yield from _spots(value, (*where, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc[:5]):
            yield (*where, index)
            yield from _spots(value, (*where, index))


def _set(doc: Any, where: tuple[Any, ...], value: Any, *, drop: bool = False) -> None:
    for step in where[:-1]:
        doc = doc[step]
    if drop:
        del doc[where[-1]]
    else:
        doc[where[-1]] = value


def retype(rng: random.Random, doc: Any, *, keys: tuple[str, ...] = ()) -> Any:
    """``doc`` with one value (one named in ``keys``, when any is there) of a wrong type."""
    spots = list(_spots(doc))
    named = [s for s in spots if s and s[-1] in keys]
    if not (named or spots):
        return rng.choice(WRONG)
    where = rng.choice(named or spots)
    _set(doc, where, rng.choice(WRONG))
    return doc


def drop(rng: random.Random, doc: Any, *, keys: tuple[str, ...] = ()) -> Any:
    """``doc`` without one of its fields (one named in ``keys``, when any is there)."""
    spots = [s for s in _spots(doc) if isinstance(s[-1], str)]
    named = [s for s in spots if s[-1] in keys]
    if named or spots:
        _set(doc, rng.choice(named or spots), None, drop=True)
    return doc


#: Fields jobs and the pagination rely on: retyped or dropped more often than others.
KEY_FIELDS = (
    "data",
    "id",
    "name",
    "rules",
    "conditions",
    "targetValue",
    "pagination",
    "nextPage",
    "totalItems",
    "itemsPerPage",
    "tags",
    "lastModifiedTime",
    "holdoutIDs",
    "gateIDs",
    "isEnabled",
    "status",
    "groups",
    "passingUserIDs",
    "failingUserIDs",
    "projectID",
    "project",
    "typeReason",
)


def mangler(kind: str, seed: str, *, only: str = "", methods: tuple[str, ...] = ("GET",)) -> Mangle:
    """A ``Mangle`` of the given ``kind`` for 2xx answers to ``methods`` on paths that contain
    ``only``; its choices depend on ``seed`` and the request alone (not on request order)."""

    def mangle(method: str, path: str, status: int, raw: bytes) -> Answer | None:
        if method not in methods or only not in path or not 200 <= status < 300:
            return None
        rng = random.Random(f"{seed}|{method}|{path}")
        if kind == "truncate":
            return status, raw[: rng.randrange(max(1, len(raw)))], "application/json"
        if kind == "empty":
            return status, b"", "application/json"
        if kind == "html":
            return status, HTML, "text/html"
        doc = _json(raw)
        if not isinstance(doc, dict):
            return None
        if kind == "retype":
            doc = retype(rng, doc, keys=KEY_FIELDS if rng.random() < 0.7 else ())
        elif kind == "drop":
            doc = drop(rng, doc, keys=KEY_FIELDS if rng.random() < 0.7 else ())
        elif kind == "data":
            doc["data"] = rng.choice(WRONG)
        elif kind == "items":  # every listed item (or the one entity) of a wrong type
            data = doc.get("data")
            if isinstance(data, list):
                doc["data"] = [rng.choice(WRONG) for _ in data] or [rng.choice(WRONG)]
            else:
                doc["data"] = rng.choice(WRONG)
        else:
            raise ValueError(kind)
        return status, orjson.dumps(doc), "application/json"

    return mangle


KINDS = ("truncate", "empty", "html", "retype", "drop", "data", "items")
