"""Which project each connection of a run talks to: its key, its URL, and the mutation limits.

A run names its connections: ``"source"`` (the project the run is pointed at) and whatever a job
declares in ``Job.projects`` (``"target"``). Each resolves the same way, from an explicit value
(a flag, a keyword argument), else the environment, else (URL only) what the run stored:

- ``source``: ``STATSIG_CONSOLE_API_KEY`` / ``STATSIG_CONSOLE_API_URL``;
- any other name: ``STATSIG_<NAME>_CONSOLE_API_KEY`` / ``STATSIG_<NAME>_CONSOLE_API_URL``
  (NAME upper-cased, ``-`` → ``_``).

Each key is registered in ``bulkops.redaction.SECRETS`` as it is resolved.

Mutation limits: explicit, else an explicitly set ``BULKOPS_MUTATION_LIMITS``, else the limits
stored in the journal, else the published policy; the origin is reported with the plan.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bulkops.api.config import (
    ENV_API_KEY,
    ENV_API_URL,
    ENV_MUTATION_LIMITS,
    check_api_key,
    resolve_base_url,
    resolve_mutation_limits,
)
from bulkops.api.limits import MutationLimit
from bulkops.errors import ConfigError
from bulkops.redaction import SECRETS
from bulkops.run.projects import ProjectsFile

__all__ = [
    "DEFAULT_CONCURRENCY",
    "MAX_CONCURRENCY",
    "SOURCE",
    "ConnectionSettings",
    "env_names",
    "format_limits",
    "key_flag",
    "key_hint",
    "open_stored_connections",
    "resolve_connections",
    "resolve_limits",
]

SOURCE = "source"
DEFAULT_CONCURRENCY = 16
MAX_CONCURRENCY = 1000

Limits = tuple[MutationLimit, ...]


def env_names(project: str) -> tuple[str, str]:
    """The key and URL environment variables of a connection name."""
    if project == SOURCE:
        return ENV_API_KEY, ENV_API_URL
    upper = project.upper().replace("-", "_")
    return f"STATSIG_{upper}_CONSOLE_API_KEY", f"STATSIG_{upper}_CONSOLE_API_URL"


def key_flag(project: str, what: str = "api-key") -> str:
    """The command-line flag of a connection's setting: ``--api-key``, ``--target-base-url``."""
    return f"--{what}" if project == SOURCE else f"--{project}-{what}"


def key_hint(project: str) -> str:
    """Where the key of connection ``project`` comes from, for messages about it."""
    key_env, _ = env_names(project)
    where = f"{key_flag(project)} or {key_env}"
    return where if project == SOURCE else f"the {project} project's key: {where}"


@dataclass(frozen=True)
class ConnectionSettings:
    """A resolved connection: name, base URL and key (the key stays out of ``repr``).

    ``name`` is the named project it is (``--project NAME``, ``--to NAME``), if any;
    ``key_source`` says where the key came from (for messages about a rejected key);
    ``limits`` are the project's own mutation windows from the projects file, if any.
    """

    project: str
    base_url: str
    api_key: str = field(repr=False)
    name: str | None = None
    key_source: str = ""
    limits: tuple[MutationLimit, ...] | None = None


def resolve_connections(
    projects: Iterable[str],
    *,
    keys: Mapping[str, str | None] | None = None,
    base_urls: Mapping[str, str | None] | None = None,
    stored_urls: Mapping[str, str] | None = None,
    named: Mapping[str, str] | None = None,
    projects_file: ProjectsFile | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, ConnectionSettings]:
    """Resolve every connection (see the module docstring for the order).

    ``named`` maps connections to the named project they are (``{"target": "prod"}``, or
    ``{"prod": "prod"}`` for a fan-out run). A URL given now that differs from the one a run
    stored is refused: a run is resumed against the API it was planned on.
    """
    environ = os.environ if env is None else env
    file = projects_file or ProjectsFile()
    return {
        project: _resolve_one(
            project,
            (named or {}).get(project),
            (keys or {}).get(project),
            (base_urls or {}).get(project),
            (stored_urls or {}).get(project),
            file,
            environ,
        )
        for project in projects
    }


def _resolve_one(
    project: str,
    name: str | None,
    key: str | None,
    url: str | None,
    stored: str | None,
    file: ProjectsFile,
    environ: Mapping[str, str],
) -> ConnectionSettings:
    entry = file.get(name) if name else None
    key_sources: list[tuple[str, str]] = []  # (variable, how to say it)
    if entry is not None and entry.key_env:
        key_sources.append(
            (entry.key_env, f"{entry.key_env} (key_env of [projects.{name}] in {file.path})")
        )
    url_vars: list[str] = []
    for who in dict.fromkeys(n for n in (name, project) if n):
        key_var, url_var = env_names(who)
        key_sources.append((key_var, key_var))
        url_vars.append(url_var)
    source = key_flag(project) if key else ""
    for var, said in key_sources:
        if key:
            break
        key, source = environ.get(var, "").strip(), said
    SECRETS.register(key)
    if not key:
        tried = " or ".join(said for _, said in key_sources)
        what = f"project {name}" if name else f"the {project} project"
        raise ConfigError(f"no Console API key for {what}: pass {key_flag(project)} or set {tried}")
    check_api_key(key, source or key_flag(project))
    if not url and entry is not None and entry.base_url:
        url = entry.base_url
    for var in url_vars:
        url = url or environ.get(var) or None
    if stored and url and resolve_base_url(url) != stored:
        raise ConfigError(
            f"this run was made against {stored} but {url} is configured for the {project} "
            f"project: resume it against the same API (unset {' / '.join(url_vars)} or "
            f"{key_flag(project, 'base-url')})"
        )
    return ConnectionSettings(
        project,
        resolve_base_url(url or stored),
        key,
        name=name,
        key_source=f"project {name}'s key: {source}" if name else "",
        limits=entry.mutation_limits if entry is not None else None,
    )


def resolve_limits(
    given: Sequence[str | MutationLimit] | None = None,
    stored: Any = None,
    *,
    stored_in: str = "the journal",
    env: Mapping[str, str] | None = None,
) -> tuple[Limits, str]:
    """The mutation limits that apply, and where they come from (for the plan line).

    An explicit setting (``given``, else the environment variable) wins over the limits
    stored in a run's journal; ``stored_in`` names where the stored ones were kept.
    """
    environ = os.environ if env is None else env
    if given:
        return resolve_mutation_limits(list(given)), "--mutation-limit"
    if environ.get(ENV_MUTATION_LIMITS, "").strip():
        return resolve_mutation_limits(None, environ), ENV_MUTATION_LIMITS
    if stored:
        limits = tuple((int(c), float(s)) for c, s in stored)
        return limits, f"stored in {stored_in}; --mutation-limit or {ENV_MUTATION_LIMITS} to change"
    return resolve_mutation_limits(None, {}), "the default"


def format_limits(limits: Iterable[MutationLimit]) -> str:
    """``100/10s, 900/900s``."""
    return ", ".join(f"{count}/{span:g}s" for count, span in limits)


SNAPSHOT_SCHEME = "snapshot:"


def open_stored_connections(stored_urls: Mapping[str, str]) -> dict[str, Any]:
    """The connections a run stored as ``snapshot:PATH`` (an export file), opened again."""
    opened = {}
    for name, url in stored_urls.items():
        if str(url).startswith(SNAPSHOT_SCHEME):
            from bulkops.migrate.snapshot_source import SnapshotConnection

            opened[name] = SnapshotConnection.from_file(str(url)[len(SNAPSHOT_SCHEME) :])
    return opened
