"""Command-line options shared by the run commands, each also read from the environment.

``--api-key``/``STATSIG_CONSOLE_API_KEY``, ``--base-url``/``STATSIG_CONSOLE_API_URL``,
``--mutation-limit``/``BULKOPS_MUTATION_LIMITS``, ``--concurrency``, ``--state-dir``/
``BULKOPS_STATE_DIR``, ``--log-format``. A job that declares ``projects = ("target",)`` gets
``--target-api-key``/``STATSIG_TARGET_CONSOLE_API_KEY`` and ``--target-base-url``/
``STATSIG_TARGET_CONSOLE_API_URL``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulkops.api.config import (
    ENV_API_KEY,
    ENV_API_URL,
    ENV_MUTATION_LIMITS,
    resolve_base_url,
    resolve_mutation_limits,
)
from bulkops.api.errors import ConfigError
from bulkops.run.statedir import resolve_state_dir

__all__ = [
    "ConnectionSettings",
    "add_connection_options",
    "add_execution_options",
    "add_state_dir_option",
    "connection_settings",
    "env_names",
    "key_hint",
    "mutation_limits",
    "parse_concurrency",
]

DEFAULT_CONCURRENCY = 16
MAX_CONCURRENCY = 1000


def env_names(project: str) -> tuple[str, str]:
    """The key and URL environment variables of a connection name."""
    if project == "source":
        return ENV_API_KEY, ENV_API_URL
    upper = project.upper().replace("-", "_")
    return f"STATSIG_{upper}_CONSOLE_API_KEY", f"STATSIG_{upper}_CONSOLE_API_URL"


def _flag(project: str, what: str) -> str:
    return f"--{what}" if project == "source" else f"--{project}-{what}"


def key_hint(project: str) -> str:
    """Where the key of connection ``project`` comes from, for messages about it."""
    key_env, _ = env_names(project)
    where = f"{_flag(project, 'api-key')} or {key_env}"
    return where if project == "source" else f"the {project} project's key: {where}"


def parse_concurrency(value: str) -> int:
    """``--concurrency``: a whole number from 1 to ``MAX_CONCURRENCY``."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 1 <= number <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(
            f"{number} is out of range: use 1 to {MAX_CONCURRENCY} operations in flight"
        )
    return number


def add_state_dir_option(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """``--state-dir`` (env ``BULKOPS_STATE_DIR``)."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--state-dir",
        default=default,
        metavar="DIR",
        help="where run journals live (env BULKOPS_STATE_DIR, default ./.bulkops)",
    )


def add_connection_options(
    parser: argparse.ArgumentParser,
    projects: Iterable[str] = ("source",),
    *,
    suppress: bool = False,
) -> None:
    """``--api-key``/``--base-url`` (and ``--<project>-…`` for extra connections)."""
    default = argparse.SUPPRESS if suppress else None
    for project in projects:
        key_env, url_env = env_names(project)
        key_flags = [_flag(project, "api-key")]
        url_flags = [_flag(project, "base-url"), _flag(project, "api-url")]
        parser.add_argument(
            *key_flags,
            dest=f"{project}_api_key",
            default=default,
            metavar="KEY",
            help=f"Console API key of the {project} project (env {key_env})",
        )
        parser.add_argument(
            *url_flags,
            dest=f"{project}_base_url",
            default=default,
            metavar="URL",
            help=f"Console API base URL of the {project} project (env {url_env})",
        )


def add_execution_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """``--mutation-limit`` (repeatable), ``--concurrency``, ``--log-format``, ``--yes``."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--mutation-limit",
        action="append",
        default=default,
        metavar="N/SPAN",
        help="a mutation window, e.g. 100/10s (repeatable; env BULKOPS_MUTATION_LIMITS)",
    )
    parser.add_argument(
        "--concurrency",
        type=parse_concurrency,
        default=default,
        metavar="N",
        help=f"operations in flight at once, 1 to {MAX_CONCURRENCY} "
        f"(default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=default,
        help="progress and messages as text (default) or JSON lines",
    )
    parser.add_argument(
        "--yes",
        "-y",
        action="store_true",
        default=default,
        help="do not ask before the first mutation (needed without a terminal)",
    )


@dataclass(frozen=True)
class ConnectionSettings:
    """A resolved connection: name, base URL and key (the key stays out of ``repr``)."""

    project: str
    base_url: str
    api_key: str = field(repr=False)


def connection_settings(
    args: argparse.Namespace,
    projects: Iterable[str],
    stored_urls: Mapping[str, str] | None = None,
) -> dict[str, ConnectionSettings]:
    """Resolve every connection: flag, else environment (URL: else the one the run stored)."""
    settings = {}
    for project in projects:
        key_env, url_env = env_names(project)
        key = getattr(args, f"{project}_api_key", None) or os.environ.get(key_env, "").strip()
        if not key:
            raise ConfigError(
                f"no Console API key for the {project} project: pass {_flag(project, 'api-key')} "
                f"or set {key_env}"
            )
        url = getattr(args, f"{project}_base_url", None) or os.environ.get(url_env) or None
        stored = (stored_urls or {}).get(project)
        if stored and url and resolve_base_url(url) != stored:
            raise ConfigError(
                f"this run was made against {stored} but {url} is configured for the {project} "
                f"project: resume it against the same API (unset {url_env} or "
                f"{_flag(project, 'base-url')})"
            )
        settings[project] = ConnectionSettings(project, resolve_base_url(url or stored), key)
    return settings


def mutation_limits(args: argparse.Namespace, stored: Any = None) -> tuple[tuple[int, float], ...]:
    """``--mutation-limit``, else ``BULKOPS_MUTATION_LIMITS``, else the stored ones, else default."""
    return limits_and_origin(args, stored)[0]


def limits_and_origin(
    args: argparse.Namespace, stored: Any = None, *, stored_in: str = "the journal"
) -> tuple[tuple[tuple[int, float], ...], str]:
    """The mutation limits that apply, and where they come from (for the plan line).

    An explicit setting (the flag, else the environment variable) wins over the limits stored
    in a run's journal; ``stored_in`` names where the stored ones were kept.
    """
    given = getattr(args, "mutation_limit", None)
    if given:
        return resolve_mutation_limits(given), "--mutation-limit"
    if os.environ.get(ENV_MUTATION_LIMITS, "").strip():
        return resolve_mutation_limits(None), ENV_MUTATION_LIMITS
    if stored:
        limits = tuple((int(c), float(s)) for c, s in stored)
        return limits, f"stored in {stored_in}; --mutation-limit or {ENV_MUTATION_LIMITS} to change"
    return resolve_mutation_limits(None), "the default"


def format_limits(limits: Iterable[tuple[int, float]]) -> str:
    """``100/10s, 900/900s``."""
    return ", ".join(f"{count}/{span:g}s" for count, span in limits)


def state_dir(args: argparse.Namespace) -> Path:
    """The state dir from ``--state-dir``, the environment or the default."""
    return resolve_state_dir(getattr(args, "state_dir", None))
