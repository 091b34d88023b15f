"""The secrets this process holds, and the one step that takes them out of text.

Every API key bulkops resolves (the default connection's, each named project's and target's,
``--api-key``/``--target-api-key`` and ``STATSIG_<NAME>_CONSOLE_API_KEY``) and the password of a
``--budget-url`` is registered in ``SECRETS`` as it is resolved. Whatever leaves the process
passes through ``SECRETS.redact``: the CLI's stdout and stderr (``redacted_output``, tracebacks
included), the ``bulkops.*`` loggers (``RedactingFilter``), the journal (``redact_bytes`` on
every JSON value but the listed items' data, the server's own; ``redact`` on errors, messages
and skip reasons) and so the reports read from it, and the messages of the job's own exceptions.

Each secret is replaced, as ``<redacted>``, in its obvious encodings too: base64 (standard and
URL-safe, padded or not, and at each of the three byte alignments it can have inside a longer
base64 text), percent-encoding (``quote``/``quote_plus``, upper- or lower-case escapes), hex,
and JSON/``repr`` escaping.

A secret shorter than ``MIN_SECRET_LENGTH`` (8) characters is not registered: redacting two or
three letters would garble every message, and a real Console API key is ``console-`` and 40-odd
characters. The output streams are redacted write by write: a key split across two writes of
one line (never done by bulkops itself) would pass.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any
from urllib.parse import quote, quote_plus, unquote, urlsplit

__all__ = [
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "SECRETS",
    "RedactingFilter",
    "RedactingStream",
    "RedactionStatistics",
    "SecretRegistry",
    "encodings",
    "redact",
    "redacted_output",
]

REDACTED = "<redacted>"
MIN_SECRET_LENGTH = 8
_KEY_VARIABLE = re.compile(r"^STATSIG_(?:[A-Z0-9_]+_)?CONSOLE_API_KEY$")
_BUDGET_URL_VARIABLE = "BULKOPS_BUDGET_URL"
_URLSAFE = str.maketrans("+/", "-_")
_PERCENT = re.compile(r"%[0-9A-F]{2}")


def encodings(secret: str) -> set[str]:
    """``secret`` and the forms it takes once encoded (those at least 8 characters long)."""
    raw = secret.encode()
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret, safe=""),
        quote_plus(secret),
        raw.hex(),
        raw.hex().upper(),
        json.dumps(secret)[1:-1],
        repr(secret)[1:-1],
    }
    forms |= {_PERCENT.sub(lambda m: m.group().lower(), form) for form in forms}
    for shift in range(3):
        # Inside a longer base64 text the secret starts at one of three bit offsets; keep
        # only the characters made of its own bits (the edges depend on its neighbours). At
        # offset 0 that is the base64 of the secret alone but its last character or so: what
        # is left of it (``Q==``) tells nothing.
        text = base64.b64encode(b"\0" * shift + raw).decode()
        forms.add(text[-(-8 * shift // 6) : 8 * (shift + len(raw)) // 6])
    forms |= {form.translate(_URLSAFE) for form in forms if form.translate(_URLSAFE) != form}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


@dataclass(frozen=True)
class RedactionStatistics:
    """A snapshot of the registry: how many secrets, and how many forms of them are searched."""

    secrets: int
    forms: int


class SecretRegistry:
    """The secrets of this process and their encodings; ``redact`` takes them out of text.

    Thread-safe: registering swaps immutable tuples, so redacting never takes a lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: dict[str, frozenset[str]] = {}
        self._forms: tuple[str, ...] = ()
        self._bytes: tuple[bytes, ...] = ()

    def register(self, secret: str | None) -> bool:
        """Hold ``secret`` from now on (True); False when empty or shorter than 8 characters."""
        secret = (secret or "").strip()
        if len(secret) < MIN_SECRET_LENGTH:
            return False
        with self._lock:
            if secret not in self._secrets:
                self._secrets[secret] = frozenset(encodings(secret))
                self._rebuild()
        _install_log_filter()
        return True

    def register_url_password(self, url: str | None) -> bool:
        """Register the password of a URL such as ``redis://:PASSWORD@host:6379/0``."""
        try:
            password = urlsplit(url or "").password
        except ValueError:
            return False
        if not password:
            return False
        registered = self.register(unquote(password))
        return self.register(password) or registered

    def register_environment(self, environ: Mapping[str, str] | None = None) -> None:
        """Register every ``STATSIG_[NAME_]CONSOLE_API_KEY`` and the budget URL's password."""
        environ = os.environ if environ is None else environ
        for name, value in environ.items():
            if _KEY_VARIABLE.match(name):
                self.register(value)
        self.register_url_password(environ.get(_BUDGET_URL_VARIABLE))

    def register_arguments(self, argv: Sequence[str]) -> None:
        """Register the values of ``--*api-key`` and the password of ``--budget-url`` in argv.

        Done before parsing, so that a message about an early error (a job file that does not
        load) never holds a key given on the command line.
        """
        args = list(argv)
        for flag, value in zip(args, [*args[1:], ""], strict=False):
            name, eq, inline = flag.partition("=")
            given = inline if eq else value
            if name.startswith("--") and name.endswith("api-key"):
                self.register(given)
            elif name == "--budget-url":
                self.register_url_password(given)

    def forget(self, secret: str) -> None:
        """Stop redacting ``secret`` (e.g. the emulator's made-up local key, shown on purpose)."""
        with self._lock:
            if self._secrets.pop(secret.strip(), None) is not None:
                self._rebuild()

    def clear(self) -> None:
        """Forget every secret (tests)."""
        with self._lock:
            self._secrets.clear()
            self._rebuild()

    def _rebuild(self) -> None:
        forms = set().union(*self._secrets.values()) if self._secrets else set()
        ordered = tuple(sorted(forms, key=lambda f: (-len(f), f)))  # longer forms first
        self._forms, self._bytes = ordered, tuple(f.encode() for f in ordered)

    def __bool__(self) -> bool:
        return bool(self._forms)

    def __contains__(self, secret: object) -> bool:
        return isinstance(secret, str) and secret.strip() in self._secrets

    def statistics(self) -> RedactionStatistics:
        """How many secrets are held, and how many forms of them each text is searched for."""
        return RedactionStatistics(len(self._secrets), len(self._forms))

    def redact(self, text: str, *also: str | None) -> str:
        """``text`` with every registered secret (and each of ``also``, whatever its length),
        in every form, replaced by ``<redacted>``."""
        forms: Iterable[str] = self._forms
        extra = [s for s in also if s]
        if extra:
            more = set().union(*(encodings(s) | {s} for s in extra))
            forms = sorted(set(forms) | more, key=lambda f: (-len(f), f))
        for form in forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def redact_bytes(self, data: bytes) -> bytes:
        """``data`` (UTF-8, e.g. JSON) with every registered secret in every form replaced."""
        for form in self._bytes:
            if form in data:
                data = data.replace(form, REDACTED.encode())
        return data


SECRETS = SecretRegistry()
"""The registry of this process: keys are registered here as they are resolved."""


def redact(text: str, *also: str | None) -> str:
    """``text`` without any secret of this process, nor any of ``also`` (``SECRETS.redact``)."""
    return SECRETS.redact(text, *also)


class RedactingFilter(logging.Filter):
    """Takes the process's secrets out of a log record's message and traceback.

    Installed on the ``bulkops``, ``bulkops.api`` and ``bulkops.run`` loggers as soon as a
    secret is registered; add it to your own handlers to cover other loggers too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not SECRETS:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # malformed: logging reports it when formatting
            return True
        clean = SECRETS.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = SECRETS.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = SECRETS.redact(record.stack_info)
        return True


_LOGGERS = ("bulkops", "bulkops.api", "bulkops.run")
_FILTER = RedactingFilter()


def _install_log_filter() -> None:
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


class RedactingStream:
    """A text stream that writes what it is given without the process's secrets.

    Everything but ``write``/``writelines`` (``isatty``, ``fileno``, ``flush``, ``encoding``)
    is the wrapped stream's.
    """

    def __init__(self, stream: IO[str]) -> None:
        self.wrapped = stream

    def write(self, text: str) -> int:
        self.wrapped.write(SECRETS.redact(text) if SECRETS else text)
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


def _redacting_excepthook(
    kind: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    """Print an uncaught exception's traceback without the process's secrets."""
    text = "".join(traceback.format_exception(kind, exc, tb))
    try:
        sys.stderr.write(SECRETS.redact(text))
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # no usable stderr left
        pass


@contextlib.contextmanager
def redacted_output(argv: Sequence[str] | None = None) -> Iterator[None]:
    """Within: the environment's keys (and argv's) are registered, stdout and stderr redacted.

    Also installs an ``excepthook`` that redacts a traceback that escapes (it is printed
    after this block has ended). Usable as a decorator: ``@redacted_output()``.
    """
    SECRETS.register_environment()
    SECRETS.register_arguments(sys.argv[1:] if argv is None else argv)
    sys.excepthook = _redacting_excepthook
    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout)  # type: ignore[assignment]
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
