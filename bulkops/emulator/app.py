"""The aiohttp application: shared state, the request pipeline, and route registration.

Pipeline of every ``/console/v1`` request (one middleware, in this order): count it in
flight → API key (401) → mutation windows of the key's project (429, mutations only, counted at
arrival) → faults before the effect (delay, 5xx, reset) → writes held for review
(``x-respect-review-settings``, see :mod:`.review`) → the handler (the effect) → the
mutation log → faults after the effect (response lost). ``/_emulator`` (admin) skips all of it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from .faults import HTML_ERROR_PAGE, Decision
from .ratelimit import retry_after_header
from .replies import ApiProblem, error_reply
from .review import hold_for_review, wants_review
from .routes_entities import API_PREFIX, add_entity_routes
from .state import PROJECT_KEY, RAW_BODY_KEY, STATE_KEY, EmulatorState

__all__ = ["build_app", "console_pipeline"]

log = logging.getLogger("bulkops.emulator")
MUTATING = frozenset({"POST", "PATCH", "PUT", "DELETE"})
API_KEY_HEADER = "STATSIG-API-KEY"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _reset_connection(request: web.Request) -> None:
    """Kill the connection with a TCP RST (SO_LINGER 0), as a dropped proxy link looks."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _ConnectionDropped(Exception):
    pass


def _too_many_requests(wait: float | None, time_scale: float | None) -> web.Response:
    """The service's 429; ``Retry-After`` only when ``wait`` is given."""
    headers = None
    if wait is not None:
        header = retry_after_header(wait, time_scale) if time_scale is not None else f"{wait:g}"
        headers = {"Retry-After": header}
    return error_reply(
        429,
        "Too many requests: the mutation rate limit of this project was exceeded, try again later",
        headers,
    )


def _fault_reply(decision: Decision, request: web.Request, applied: bool) -> web.Response:
    if decision.action in ("reset", "apply_then_reset"):
        _reset_connection(request)
        raise _ConnectionDropped
    if decision.action == "rate_limited":
        return _too_many_requests(decision.retry_after, None)
    if decision.action == "html_error":
        return web.Response(
            text=HTML_ERROR_PAGE.format(status=decision.status),
            status=decision.status,
            content_type="text/html",
        )
    status = 500 if decision.action == "apply_then_500" else decision.status
    return error_reply(status, "Internal server error" if applied else "Service unavailable")


def _body_for_log(request: web.Request) -> Any:
    raw = request.get(RAW_BODY_KEY)
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace")


async def _serve(
    state: EmulatorState, request: web.Request, handler: Handler
) -> web.StreamResponse:
    project = state.store.by_key(request.headers.get(API_KEY_HEADER))
    if project is None:
        return error_reply(
            401,
            f"Unauthorized: missing or invalid {API_KEY_HEADER} header "
            "(use a Console API key of this emulator's projects)",
        )
    request[PROJECT_KEY] = project
    method = request.method
    mutation = method in MUTATING
    if mutation:
        wait = state.limiters[project.name].try_admit()
        if wait is not None:
            return _too_many_requests(
                wait if state.config.retry_after else None, state.config.time_scale
            )
    decision = state.faults.decide(method, request.path, project.name)
    if decision.delay:
        await asyncio.sleep(decision.delay)
    if decision.before:
        log.debug("injected %s before %s %s", decision.action, method, request.path)
        return _fault_reply(decision, request, applied=False)
    try:
        held = (
            hold_for_review(project, method, request.path)
            if mutation and wants_review(request.headers)
            else None
        )
        response = held or await handler(request)
    except ApiProblem as problem:
        response = error_reply(problem.status, problem.message)
    except web.HTTPNotFound:
        response = error_reply(404, f"Cannot {method} {request.path}")
    except web.HTTPMethodNotAllowed:
        response = error_reply(404, f"Cannot {method} {request.path}")
    finally:
        if mutation:  # after the effect, so no page cached meanwhile survives it
            project.changed()
    if mutation and 200 <= response.status < 300:
        state.activity.record_mutation(
            project.name,
            method,
            request.path_qs,
            _body_for_log(request),
            response.status,
            decision.after,
        )
    if decision.after:
        log.debug("injected %s after %s %s", decision.action, method, request.path)
        return _fault_reply(decision, request, applied=True)
    return response


@web.middleware
async def console_pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The per-request pipeline described in the module docstring."""
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    state = request.app[STATE_KEY]
    state.activity.enter()
    outcome: int | str = "error"
    try:
        response = await _serve(state, request, handler)
        outcome = response.status
        return response
    except _ConnectionDropped:
        # An injected fault, not a problem of the emulator: debug, never error.
        outcome = "reset"
        log.debug("injected connection reset on %s %s", request.method, request.path)
        raise asyncio.CancelledError from None
    except ConnectionError:
        # The client went away mid-request (killed, timed out): nothing to answer.
        outcome = "client_gone"
        log.debug("client disconnected during %s %s", request.method, request.path)
        raise asyncio.CancelledError from None
    except Exception:
        log.exception("emulator handler failed on %s %s", request.method, request.path)
        outcome = 500
        return error_reply(500, "Internal server error (emulator bug: see its log)")
    finally:
        state.activity.leave(request.method, outcome)


def build_app(state: EmulatorState) -> web.Application:
    """The application serving ``/console/v1`` and the admin endpoints under ``/_emulator``."""
    from .admin import add_admin_routes
    from .routes_catalog import add_catalog_routes
    from .routes_lifecycle import add_lifecycle_routes
    from .routes_rules import add_rule_and_override_routes
    from .routes_segments import add_segment_routes

    app = web.Application(middlewares=[console_pipeline], client_max_size=32 * 1024 * 1024)
    app[STATE_KEY] = state
    add_rule_and_override_routes(app)
    add_lifecycle_routes(app)
    add_segment_routes(app)
    add_catalog_routes(app)
    add_entity_routes(app)
    add_admin_routes(app)
    return app
