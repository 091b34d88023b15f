"""Writing one large JSON document piece by piece, in bounded memory, without blocking the loop.

``JsonStreamWriter`` keeps a stack of open objects and arrays and writes the commas and keys; a
value is serialized with orjson when it is added. Bytes are buffered up to ``flush_bytes`` and
written through an ``anyio`` async file (``await drain()``), so the event loop never waits on
the disk.
"""

from __future__ import annotations

from typing import Any

import orjson
from anyio import AsyncFile

__all__ = ["JsonStreamWriter"]


class JsonStreamWriter:
    """Open objects/arrays, add values, close them: the text is written as it goes."""

    def __init__(self, file: AsyncFile[bytes], *, flush_bytes: int = 1 << 20) -> None:
        self._file = file
        self._flush_bytes = flush_bytes
        self._buffer = bytearray()
        self._open: list[tuple[bytes, bool]] = []  # (closing bracket, first element pending)
        self.written = 0

    def _separator(self, key: str | None) -> None:
        if not self._open:
            if self._buffer or self.written:
                raise ValueError("a JSON document has one top-level value")
            return
        closing, first = self._open[-1]
        if not first:
            self._buffer += b","
        self._open[-1] = (closing, False)
        in_object = closing == b"}"
        if in_object != (key is not None):
            raise ValueError("objects need a key for every value; arrays take none")
        if key is not None:
            self._buffer += orjson.dumps(key) + b":"

    def begin_object(self, key: str | None = None) -> None:
        """Open ``{`` (as the value of ``key`` inside an object)."""
        self._separator(key)
        self._buffer += b"{"
        self._open.append((b"}", True))

    def begin_array(self, key: str | None = None) -> None:
        """Open ``[`` (as the value of ``key`` inside an object)."""
        self._separator(key)
        self._buffer += b"["
        self._open.append((b"]", True))

    def end(self) -> None:
        """Close the innermost open object or array."""
        closing, _ = self._open.pop()
        self._buffer += closing

    def value(self, value: Any, key: str | None = None) -> None:
        """Add one complete value (serialized now)."""
        self._separator(key)
        self._buffer += orjson.dumps(value)

    async def drain(self, *, force: bool = False) -> None:
        """Write the buffer out once it holds ``flush_bytes`` (or now, with ``force``)."""
        if not self._buffer or (len(self._buffer) < self._flush_bytes and not force):
            return
        data, self._buffer = bytes(self._buffer), bytearray()
        await self._file.write(data)
        self.written += len(data)

    async def finish(self) -> None:
        """Check every bracket is closed and write what is left."""
        if self._open:
            raise ValueError(f"{len(self._open)} object(s)/array(s) still open")
        await self.drain(force=True)
