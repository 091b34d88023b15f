"""The errors of talking to the Console API (the whole tree is drawn in ``bulkops.errors``).

::

    ApiError               .status .method .path .message .request_id; str() never holds the key
    ├── AuthError          401/403
    ├── NotFoundError      404
    ├── ValidationError    400 with the server's message
    ├── RateLimitedError   429, .retry_after
    │   └── ServerWaitTooLongError  429 (or 5xx) asking to wait longer than RetryPolicy.max_server_wait
    ├── ServerError        5xx
    ├── BadResponseError   the answer is not the API's JSON
    ├── TransportError     reset, timeout, DNS, refused
    └── OutcomeUnknownError  a non-idempotent request may or may not have been applied

The shared mutation budget's own: ``BudgetUnavailableError`` (a ConfigError: Redis cannot be
used when the budget opens) and ``BudgetLostError`` (Redis went away mid-run).
"""

from bulkops.errors import (
    ApiError,
    AuthError,
    BadResponseError,
    BudgetLostError,
    BudgetUnavailableError,
    BulkopsError,
    ConfigError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    ServerWaitTooLongError,
    TransportError,
    ValidationError,
    redact,
)

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
    "ServerWaitTooLongError",
    "TransportError",
    "ValidationError",
    "redact",
]
