"""One mutation budget per project: in this process, or shared by every process through Redis.

Every connection of a run gets a ``ConsoleClient`` whose budget is a ``StoppableBudget`` (so a
stop sends nothing new). Inside, by default, an in-process ``MutationBudget``: connections with
the same key share one, and a project's own windows (projects file ``mutation_limits``) apply
to it. With ``--budget-url`` / ``BULKOPS_BUDGET_URL``, once the run knows each connection's
project id (``GET /project``), the inside is swapped for a ``SharedBudget`` keyed by that id:
every bulkops process on every machine pointing at the same Redis shares the windows. Redis
unreachable at that moment is a ``BudgetUnavailableError`` (exit 2, nothing sent); there is
no silent fallback to a local budget.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Collection, Mapping
from typing import Any

from bulkops.api.budget import Budget
from bulkops.api.limits import MutationLimit
from bulkops.api.shared_link import BUDGET_URL_ENV
from bulkops.errors import ConfigError
from bulkops.redaction import SECRETS
from bulkops.run.connections import SOURCE, ConnectionSettings, key_hint
from bulkops.run.sendgate import StoppableBudget

__all__ = [
    "BUDGET_URL_ENV",
    "longest_span",
    "make_clients",
    "preload_budgets",
    "resolve_budget_url",
    "share_budgets",
]


def resolve_budget_url(given: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """``--budget-url``, else ``BULKOPS_BUDGET_URL``, else None (the in-process budget)."""
    url = given or (os.environ if env is None else env).get(BUDGET_URL_ENV, "").strip()
    SECRETS.register_url_password(url)
    return url or None


def make_clients(
    conns: Mapping[str, ConnectionSettings],
    limits: tuple[MutationLimit, ...],
    given: Mapping[str, Budget],
    read_concurrency: int,
) -> dict[str, Any]:
    """One ``ConsoleClient`` per connection; connections with one key share one budget."""
    from bulkops.api import ConsoleClient, MutationBudget

    budgets: dict[tuple[str, str], StoppableBudget] = {}
    clients = {}
    for name, c in conns.items():
        if name in given:
            budget = StoppableBudget(given[name])
        else:
            own = c.limits or limits
            budget = budgets.setdefault(
                (c.base_url, c.api_key), StoppableBudget(MutationBudget(own))
            )
        clients[name] = ConsoleClient(
            api_key=c.api_key,
            base_url=c.base_url,
            budget=budget,
            key_hint=c.key_source or ("" if name == SOURCE else key_hint(name)),
            read_concurrency=read_concurrency,
        )
    return clients


def preload_budgets(
    clients: Mapping[str, Any],
    recent: Mapping[str, list[float]],
    *,
    keep: Collection[str] = (),
    wall_now: float | None = None,
) -> dict[str, int]:
    """Count ``recent`` sends (per connection, wall times; see ``bulkops.run.recent``) in the
    clients' in-process budgets, each budget once; returns how many count, per connection."""
    from bulkops.api import MutationBudget

    wall = time.time() if wall_now is None else wall_now
    seen: set[int] = set()
    counted: dict[str, int] = {}
    for name, client in clients.items():
        budget = client.budget
        inner = budget.inner if isinstance(budget, StoppableBudget) else budget
        if name in keep or not recent.get(name) or not isinstance(inner, MutationBudget):
            continue
        if id(inner) in seen:
            continue
        seen.add(id(inner))
        clock_now = inner.clock.now()
        counted[name] = inner.preload(clock_now - (wall - at) for at in recent[name])
    return {name: n for name, n in counted.items() if n}


def longest_span(clients: Mapping[str, Any]) -> float:
    """The longest window of the clients' budgets (how far back earlier sends may count)."""
    return max(
        (span for client in clients.values() for _, span in client.budget.limits), default=0.0
    )


async def share_budgets(
    stack: contextlib.AsyncExitStack,
    clients: Mapping[str, Any],
    project_ids: Mapping[str, str | None],
    url: str,
    *,
    keep: Collection[str] = (),
    recent: Mapping[str, list[float]] | None = None,
) -> dict[str, int]:
    """Swap each client's budget for the Redis-shared one of its project (opened on ``stack``).

    Connections of one project share one ``SharedBudget``; its windows are the ones the
    connection's in-process budget had (the run's limits, or the project's own). The
    connections in ``keep`` (budgets the caller gave) are left as they are. ``recent``
    (per connection, wall times; see ``bulkops.run.recent``) fills a project's log that
    Redis lost (restarted since); returns how many it counted, per connection.
    """
    from bulkops.api import SharedBudget

    shared: dict[str, Budget] = {}
    seeded: dict[str, int] = {}
    wall = time.time()
    for name, client in clients.items():
        if name in keep:
            continue
        project_id = project_ids.get(name)
        if not project_id:
            raise ConfigError(
                f"--budget-url shares a budget by project id, and the server of connection "
                f"{name!r} does not say its project's id (GET /project): run without "
                "--budget-url against it"
            )
        stoppable = client.budget
        if project_id not in shared:
            budget = SharedBudget.connect(
                url,
                project_id,
                stoppable.inner.limits,
                max_pause=client.retry_policy.max_server_wait,
                recent=[wall - at for at in (recent or {}).get(name, ())],
            )
            opened = await stack.enter_async_context(budget)
            shared[project_id] = opened
            if opened.seeded:
                seeded[name] = opened.seeded
        stoppable.inner = shared[project_id]
    return seeded
