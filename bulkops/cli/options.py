"""Command-line options shared by the run commands, each also read from the environment.

``--api-key``/``STATSIG_CONSOLE_API_KEY``, ``--base-url``/``STATSIG_CONSOLE_API_URL``,
``--mutation-limit``/``BULKOPS_MUTATION_LIMITS``, ``--concurrency``, ``--state-dir``/
``BULKOPS_STATE_DIR``, ``--log-format``. A job that declares ``projects = ("target",)`` gets
``--target-api-key``/``STATSIG_TARGET_CONSOLE_API_KEY`` and ``--target-base-url``/
``STATSIG_TARGET_CONSOLE_API_URL``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bulkops.run import (
    DEFAULT_CONCURRENCY,
    MAX_CONCURRENCY,
    RunSettings,
    env_names,
    key_flag,
    resolve_state_dir,
)

__all__ = [
    "add_connection_options",
    "add_execution_options",
    "add_state_dir_option",
    "parse_concurrency",
    "run_settings",
    "state_dir",
]


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
        key_flags = [key_flag(project, "api-key")]
        url_flags = [key_flag(project, "base-url"), key_flag(project, "api-url")]
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
        "--read-concurrency",
        type=parse_concurrency,
        default=default,
        metavar="N",
        help="reads in flight while planning, 1 to "
        f"{MAX_CONCURRENCY} (env BULKOPS_READ_CONCURRENCY, default 16)",
    )
    parser.add_argument(
        "--projects-file",
        default=default,
        metavar="FILE",
        help="named projects ([projects.NAME] key_env, base_url, mutation_limits); env "
        "BULKOPS_PROJECTS_FILE, default ./bulkops.toml when present",
    )
    parser.add_argument(
        "--budget-url",
        default=default,
        metavar="URL",
        help="share each project's mutation budget with every bulkops process through Redis "
        "(redis://host:port/db, rediss:// for TLS; env BULKOPS_BUDGET_URL)",
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


def run_settings(
    args: argparse.Namespace, projects: Iterable[str] = ("source", "target"), **extra: Any
) -> RunSettings:
    """The ``RunSettings`` the parsed options give (flags only; the rest is resolved later)."""
    return RunSettings(
        state_dir=getattr(args, "state_dir", None),
        keys={p: getattr(args, f"{p}_api_key", None) for p in projects},
        base_urls={p: getattr(args, f"{p}_base_url", None) for p in projects},
        mutation_limits=getattr(args, "mutation_limit", None),
        concurrency=getattr(args, "concurrency", None),
        read_concurrency=getattr(args, "read_concurrency", None),
        projects=tuple(getattr(args, "project", None) or ()),
        projects_file=getattr(args, "projects_file", None),
        budget_url=getattr(args, "budget_url", None),
        dry_run=bool(getattr(args, "dry_run", False)),
        yes=bool(getattr(args, "yes", False)),
        **extra,
    )


def state_dir(args: argparse.Namespace) -> Path:
    """The state dir from ``--state-dir``, the environment or the default."""
    return resolve_state_dir(getattr(args, "state_dir", None))
