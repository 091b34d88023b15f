"""What can go wrong when bulkops talks to the Console API, as one tree to catch by meaning.

::

    BulkopsError
    ├── ConfigError            bad settings/usage, nothing sent (CLI exit 2)
    │   └── BudgetUnavailableError  the shared budget's Redis (--budget-url) cannot be reached
    │                               or used when the budget opens; nothing sent
    ├── BudgetLostError        the shared budget's Redis was lost mid-run: stop sending,
    │                          resume once it is back (CLI exit 3)
    └── ApiError               .status .method .path .message .request_id
        ├── AuthError          401/403: the key is wrong, inactive or lacks the permission
        ├── NotFoundError      404
        ├── ValidationError    400, with the server's message
        ├── RateLimitedError   429 after our retries ran out, .retry_after (seconds or None)
        ├── ServerError        5xx after our retries ran out
        ├── BadResponseError   the answer is not the API's JSON (HTML 503 page, truncated body)
        ├── TransportError     reset, timeout, DNS, refused
        └── OutcomeUnknownError  a non-idempotent request (POST create, add rule) may or may
                                 not have been applied (connection died / 5xx after sending);
                                 never re-sent by the client: read state, then decide. .cause

Every message says what the user can do next. No message, ``repr`` or log line holds the API
key: the client scrubs it from anything the server echoes back (a 401 body quotes the key).
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "AuthError",
    "BadResponseError",
    "BudgetLostError",
    "BudgetUnavailableError",
    "BulkopsError",
    "ConfigError",
    "NotFoundError",
    "OutcomeUnknownError",
    "RateLimitedError",
    "ServerError",
    "TransportError",
    "ValidationError",
    "redact",
]

REDACTED = "<redacted>"


def redact(text: str, secret: str | None) -> str:
    """Return ``text`` with every occurrence of ``secret`` replaced by ``<redacted>``."""
    if secret and secret in text:
        return text.replace(secret, REDACTED)
    return text


class BulkopsError(Exception):
    """Root of every error bulkops raises on purpose."""


class ConfigError(BulkopsError):
    """The settings or the command line are unusable; nothing was sent to the API."""


class BudgetUnavailableError(ConfigError):
    """The shared mutation budget cannot be used: Redis is unreachable, refuses us, or the URL
    is malformed. Raised when the budget opens, before anything is sent. The message names the
    URL without its password."""


class BudgetLostError(BulkopsError):
    """The shared mutation budget's Redis went away mid-run. ``acquire()`` raises it instead
    of falling back to a local budget: stop sending, and resume the run once Redis is back."""


class ApiError(BulkopsError):
    """A request to the Console API failed.

    ``status`` is the HTTP status (None when no response came back), ``method`` and ``path``
    name the request, ``message`` is the human explanation (the server's own words when it
    gave some), ``request_id`` the server's request id header when present.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str = "",
        path: str = "",
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.request_id = request_id

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        text = f"{where}: {self.message}" if where else self.message
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, method={self.method!r}, "
            f"path={self.path!r}, message={self.message!r})"
        )


class AuthError(ApiError):
    """401/403: the API key was rejected or lacks the permission for this request."""


class NotFoundError(ApiError):
    """404: the entity or endpoint does not exist in this project."""


class ValidationError(ApiError):
    """400: the server refused the request body or parameters; ``message`` is its reason."""


class RateLimitedError(ApiError):
    """429 and our bounded retries ran out. ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx from the API, after the retries allowed for this request ran out."""


class BadResponseError(ApiError):
    """The server answered, but not with the API's JSON (an HTML error page, a cut body)."""


class TransportError(ApiError):
    """No usable answer: connection refused or reset, timeout, DNS failure."""


class OutcomeUnknownError(ApiError):
    """A request that is unsafe to repeat may or may not have been applied.

    Raised for a POST (create, add rule, ...) whose connection died after it was sent, or
    that drew a 5xx. The client never re-sends it; read the current state, then decide.
    ``cause`` is the underlying :class:`ApiError` (transport, server or bad response).
    """

    def __init__(self, message: str, *, cause: ApiError | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.cause = cause
