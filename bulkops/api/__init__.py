"""Talking to the Statsig Console API.

- ``client``     ``ConsoleClient``: one session, retries, the mutation budget, pagination;
- ``errors``     the exception tree (drawn at the top of that module);
- ``budget``     ``MutationBudget``: exact sliding windows per project (``limits``, ``clock``);
- ``shared_budget``  ``SharedBudget``: the same budget shared through Redis by every process
  of a project (``shared_link``, ``shared_log``, ``shared_view`` hold its parts);
- ``resources``  the catalog of kinds: paths, writable and read-only fields, references;
- ``config``     settings from arguments and environment; ``retry``, ``pagination``,
  ``responses`` hold the rules the client follows.
"""

from bulkops.api.budget import Budget, BudgetStatistics, MutationBudget, Permit
from bulkops.api.client import ClientStatistics, ConsoleClient
from bulkops.api.clock import Clock, FakeClock, MonotonicClock
from bulkops.api.config import DEFAULT_BASE_URL, ClientSettings, Timeouts, resolve_settings
from bulkops.api.errors import (
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
)
from bulkops.api.limits import (
    DEFAULT_MUTATION_LIMITS,
    MutationLimitError,
    limits_from_env,
    parse_mutation_limit,
    parse_mutation_limits,
)
from bulkops.api.resources import CATALOG, ResourceKind, get_kind
from bulkops.api.retry import RetryPolicy, parse_retry_after
from bulkops.api.shared_budget import (
    BUDGET_URL_ENV,
    SharedBudget,
    SharedBudgetStatistics,
    SharedPermit,
)

__all__ = [
    "BUDGET_URL_ENV",
    "CATALOG",
    "DEFAULT_BASE_URL",
    "DEFAULT_MUTATION_LIMITS",
    "ApiError",
    "AuthError",
    "BadResponseError",
    "Budget",
    "BudgetLostError",
    "BudgetStatistics",
    "BudgetUnavailableError",
    "BulkopsError",
    "ClientSettings",
    "ClientStatistics",
    "Clock",
    "ConfigError",
    "ConsoleClient",
    "FakeClock",
    "MonotonicClock",
    "MutationBudget",
    "MutationLimitError",
    "NotFoundError",
    "OutcomeUnknownError",
    "Permit",
    "RateLimitedError",
    "ResourceKind",
    "RetryPolicy",
    "ServerError",
    "ServerWaitTooLongError",
    "SharedBudget",
    "SharedBudgetStatistics",
    "SharedPermit",
    "Timeouts",
    "TransportError",
    "ValidationError",
    "get_kind",
    "limits_from_env",
    "parse_mutation_limit",
    "parse_mutation_limits",
    "parse_retry_after",
    "resolve_settings",
]
