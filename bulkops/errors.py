"""Everything bulkops raises on purpose, as one tree to catch by meaning.

::

    BulkopsError
    ├── ConfigError              bad settings or usage; nothing was sent (CLI exit 2)
    │   ├── JobConfigError       a job's parameters are wrong (unknown holdout, bad --where)
    │   │   └── JobCodeError     the job's own code raised; names its file and line
    │   ├── MutationLimitError   a --mutation-limit / BULKOPS_MUTATION_LIMITS is malformed
    │   ├── ProjectMismatchError a key now belongs to another project than the run's
    │   ├── BudgetUnavailableError  the shared budget's Redis cannot be used (at start)
    │   └── NotConfirmedError    the plan was not confirmed (no --yes, or answered no)
    ├── ApiError                 .status .method .path .message .request_id
    │   ├── AuthError            401/403: the key is wrong, inactive or lacks the permission
    │   ├── NotFoundError        404
    │   ├── ValidationError      400, with the server's message
    │   ├── RateLimitedError     429 after our retries ran out, .retry_after (seconds or None)
    │   │   └── ServerWaitTooLongError  a 429 (or 5xx) asking to wait longer than the cap
    │   │                        (RetryPolicy.max_server_wait, 15 min): raised at once
    │   ├── ServerError          5xx after our retries ran out
    │   ├── BadResponseError     the answer is not the API's JSON (HTML 503 page, cut body)
    │   ├── TransportError       reset, timeout, DNS, refused
    │   └── OutcomeUnknownError  a non-idempotent request (POST create, add rule) may or may
    │                            not have been applied; never re-sent: read state, then decide
    └── RunError                 the run machinery
        ├── JournalError         the journal is missing, foreign, corrupt or unwritable
        │   └── JournalInUseError  another process holds the run
        ├── FatalRunError        the run cannot go on (key rejected, journal broken): it stops
        ├── RunInterrupted       stop sending now, resume later (a too long server wait)
        ├── BudgetLostError      the shared budget's Redis went away mid-run: stop, resume later
        └── SendStopped          the run is stopping: this mutation was not sent (control flow)

Every message says what the user can do next. No message, ``repr`` or log line holds an API
key: the client scrubs it from anything the server echoes back (a 401 body quotes the key), and
``bulkops.redaction`` takes every key the process holds out of whatever it prints or stores.
The emulator (``bulkops.emulator``) keeps errors of its own, apart by design: it is a server.
"""

from __future__ import annotations

from bulkops.redaction import redact

__all__ = [
    "ApiError",
    "AuthError",
    "BadResponseError",
    "BudgetLostError",
    "BudgetUnavailableError",
    "BulkopsError",
    "ConfigError",
    "FatalRunError",
    "JobCodeError",
    "JobConfigError",
    "JournalError",
    "JournalInUseError",
    "MutationLimitError",
    "NotConfirmedError",
    "NotFoundError",
    "OutcomeUnknownError",
    "ProjectMismatchError",
    "RateLimitedError",
    "RunError",
    "RunInterrupted",
    "SendStopped",
    "ServerError",
    "ServerWaitTooLongError",
    "TransportError",
    "ValidationError",
    "redact",
    "shown",
]


def shown(value: object, limit: int = 200) -> str:
    """``value`` as a message shows what the user gave: as it is when it is printable text,
    else quoted with escapes (a newline or an escape sequence must not break the line); past
    ``limit`` characters, its start and its length."""
    text = str(value)
    if not text.isprintable():
        text = repr(text)
    if len(text) > limit:
        text = f"{text[: limit // 2]}…({len(str(value))} characters)"
    return text


class BulkopsError(Exception):
    """Root of every error bulkops raises on purpose."""


# -- configuration and usage: nothing was sent ------------------------------------------------


class ConfigError(BulkopsError):
    """The settings or the command line are unusable; nothing was sent to the API."""


class JobConfigError(ConfigError):
    """A job's parameters are wrong (unknown holdout, malformed --where, ...): nothing was sent.

    The CLI turns it into exit code 2 with the message, which must name the problem.
    """


class JobCodeError(JobConfigError):
    """The job's own code raised while preparing, listing or planning; nothing was sent."""


class MutationLimitError(ConfigError, ValueError):
    """A mutation limit setting is malformed; the message says which and how to write it."""


class ProjectMismatchError(ConfigError):
    """The key given now belongs to another project than the one the run was planned against."""

    def __init__(self, message: str, connection: str) -> None:
        super().__init__(message)
        self.connection = connection


class BudgetUnavailableError(ConfigError):
    """The shared mutation budget cannot be used: Redis is unreachable, refuses us, or the URL
    is malformed. Raised when the budget opens, before anything is sent. The message names the
    URL without its password."""


class NotConfirmedError(ConfigError):
    """The plan was not confirmed (no ``--yes`` without a terminal, or "no" at the prompt).

    Nothing was sent and the plan is kept: ``bulkops resume RUN_ID`` asks again.
    """

    def __init__(self, message: str, run_id: str) -> None:
        super().__init__(message)
        self.run_id = run_id


# -- the API answered badly, or not at all ----------------------------------------------------


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


class ServerWaitTooLongError(RateLimitedError):
    """429 whose ``Retry-After`` asks for longer than ``RetryPolicy.max_server_wait``; also a
    5xx asking that (a 503 "down for a day" is the same stop; ``status`` says which).

    Raised at once, on the first such answer: the client neither waits nor pauses the mutation
    budget (a run would otherwise sit idle for hours). ``retry_after`` is the wait the server
    asked for, ``max_wait`` the cap; the message says both and what to do (resume later).
    """

    def __init__(
        self, message: str, *, retry_after: float, max_wait: float, **kwargs: object
    ) -> None:
        super().__init__(message, retry_after=retry_after, **kwargs)
        self.max_wait = max_wait


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


# -- the run machinery ------------------------------------------------------------------------


class RunError(BulkopsError):
    """The run machinery failed (journal, a fatal stop); the journal stays consistent."""


class JournalError(RunError):
    """The journal file is missing, foreign, corrupt or unwritable; it is never overwritten."""


class JournalInUseError(JournalError):
    """Another process holds the run (a second ``run``/``resume`` on the same run id)."""


class FatalRunError(RunError):
    """The run cannot go on (the key was rejected, the journal is broken); stop cleanly.

    ``project``: the connection it concerns (its key was rejected); the run's other projects
    go on. None: the whole run stops.
    """

    def __init__(self, message: str, project: str | None = None) -> None:
        super().__init__(message)
        self.project = project


class RunInterrupted(RunError):
    """Sending to ``project`` must stop now and be resumed later: the server asked to wait
    longer than we may (``ServerWaitTooLongError``), or the shared budget's Redis is gone.
    Nothing is lost: the operation goes back to what it was (exit 3, ``bulkops resume``)."""

    def __init__(self, message: str, project: str | None = None) -> None:
        super().__init__(message)
        self.project = project


class BudgetLostError(RunError):
    """The shared mutation budget's Redis went away mid-run. ``acquire()`` raises it instead
    of falling back to a local budget: stop sending, and resume the run once Redis is back."""


class SendStopped(RunError):
    """The run is stopping: this mutation was not sent (no permit was granted)."""
