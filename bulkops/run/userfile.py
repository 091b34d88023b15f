"""Reading a file the user names (``@ids.txt``, ``--merge``, a projects file, a job file, a
snapshot): whatever is wrong with it ends in one line naming the file, what is wrong and what
was expected, as a ``ConfigError`` (the CLI exits 2; nothing was sent).

Text is UTF-8 (a leading byte-order mark is dropped); a file holding NUL bytes or bytes that
are not UTF-8 is "not text", and a UTF-16 file (as some Windows editors save) is named as such.
"""

from __future__ import annotations

import codecs
import errno
from pathlib import Path

from bulkops.errors import ConfigError, shown

__all__ = ["read_user_bytes", "read_user_text"]


def read_user_bytes(
    path: str | Path, what: str, expected: str, *, error: type[ConfigError] = ConfigError
) -> bytes:
    """The bytes of ``path`` (``what`` names it in messages, e.g. ``"--merge file"``)."""
    try:
        file = Path(path).expanduser()
    except RuntimeError as exc:  # ~ with no home directory
        raise error(f"{what} {shown(path)} cannot be read: {exc}") from None
    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise error(f"{what} {shown(file)} does not exist") from None
    except IsADirectoryError:
        raise error(f"{what} {shown(file)} is a directory: expected {expected}") from None
    except OSError as exc:
        reason = "permission denied" if exc.errno == errno.EACCES else exc.strerror or str(exc)
        raise error(f"{what} {shown(file)} cannot be read: {reason}") from None


def read_user_text(
    path: str | Path, what: str, expected: str, *, error: type[ConfigError] = ConfigError
) -> str:
    """The UTF-8 text of ``path``; ConfigError (or ``error``) when it is not text."""
    data = read_user_bytes(path, what, expected, error=error)
    file = shown(Path(path).expanduser())
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise error(f"{what} {file} is UTF-16 text: save it as UTF-8; expected {expected}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(
            f"{what} {file} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}): "
            f"expected {expected}"
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise error(
            f"{what} {file} is not text (a NUL byte on line {line}): expected {expected}"
        ) from None
    return text
