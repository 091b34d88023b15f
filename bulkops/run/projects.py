"""Named projects: ``--project NAME``, ``--to NAME``, and the projects file that describes them.

A project is named on the command line and resolved, in this order:

1. the projects file (``--projects-file FILE``, else ``BULKOPS_PROJECTS_FILE``, else
   ``./bulkops.toml`` when it exists)::

       [projects.prod]
       key_env = "STATSIG_PROD_KEY"          # the variable that holds the key (never the key)
       base_url = "https://statsigapi.net/console/v1"   # optional
       mutation_limits = ["100/10s", "900/15m"]          # optional, this project's windows

2. else the environment: ``STATSIG_<NAME>_CONSOLE_API_KEY`` and ``STATSIG_<NAME>_CONSOLE_API_URL``
   (NAME upper-cased, ``-`` → ``_``).

The file never holds a key: a table with a key-like field, or a value that looks like a key, is
refused with a message saying what to write instead.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulkops.api.config import resolve_mutation_limits
from bulkops.api.limits import MutationLimit
from bulkops.errors import ConfigError, shown
from bulkops.run.userfile import read_user_text

__all__ = [
    "DEFAULT_PROJECTS_FILE",
    "ENV_PROJECTS_FILE",
    "ProjectEntry",
    "ProjectsFile",
    "check_project_name",
]

ENV_PROJECTS_FILE = "BULKOPS_PROJECTS_FILE"
DEFAULT_PROJECTS_FILE = "bulkops.toml"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")
_FIELDS = frozenset({"key_env", "base_url", "mutation_limits"})
_KEY_FIELDS = frozenset({"key", "api_key", "apikey", "console_api_key", "secret", "token"})
_KEY_PREFIXES = ("console-", "secret-", "client-")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_project_name(name: str) -> str:
    """``name`` if usable as a project name (it names environment variables), else ConfigError."""
    if not _NAME.match(name or ""):
        raise ConfigError(
            f"project name {name!r} is not usable: use letters, digits, '-' and '_', starting "
            "with a letter (it names environment variables such as STATSIG_<NAME>_CONSOLE_API_KEY)"
        )
    return name


@dataclass(frozen=True)
class ProjectEntry:
    """One ``[projects.NAME]`` table."""

    name: str
    key_env: str | None = None
    base_url: str | None = None
    mutation_limits: tuple[MutationLimit, ...] | None = None


@dataclass(frozen=True)
class ProjectsFile:
    """The projects a file names (empty when there is no file)."""

    path: Path | None = None
    projects: Mapping[str, ProjectEntry] = field(default_factory=dict)

    def get(self, name: str) -> ProjectEntry | None:
        """The entry of project ``name``, if the file has one."""
        return self.projects.get(name)

    @classmethod
    def find(
        cls, explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
    ) -> ProjectsFile:
        """The file given, else ``BULKOPS_PROJECTS_FILE``, else ``./bulkops.toml`` if present."""
        environ = os.environ if env is None else env
        given = explicit or environ.get(ENV_PROJECTS_FILE, "").strip() or None
        if given is not None:
            return cls.load(Path(given))
        default = Path(DEFAULT_PROJECTS_FILE)
        return cls.load(default) if default.is_file() else cls()

    @classmethod
    def load(cls, path: Path) -> ProjectsFile:
        """Read and check a projects file; ConfigError names the file and the problem."""
        try:
            missing = not path.expanduser().exists()
        except (OSError, RuntimeError):  # a name too long, no home dir: read_user_text says so
            missing = False
        if missing:
            raise ConfigError(
                f"projects file {shown(path)} does not exist (--projects-file / {ENV_PROJECTS_FILE})"
            )
        text = read_user_text(path, "projects file", "TOML text ([projects.NAME] tables)")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"projects file {shown(path)} is not valid TOML: {exc}") from None
        tables = data.get("projects", {})
        if not isinstance(tables, dict):
            raise ConfigError(f"{shown(path)}: 'projects' must be tables: [projects.NAME]")
        return cls(path, {name: _entry(path, name, table) for name, table in tables.items()})


def _entry(path: Path, name: str, table: Any) -> ProjectEntry:
    where = f"{shown(path)}: [projects.{name}]"
    check_project_name(name)
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of key_env, base_url, mutation_limits")
    _refuse_keys(where, table)
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise ConfigError(f"{where} has an unknown field {unknown[0]!r}: use {sorted(_FIELDS)}")
    key_env = table.get("key_env")
    if key_env is not None and not (isinstance(key_env, str) and _ENV_VAR.match(key_env)):
        raise ConfigError(
            f"{where}: key_env must be the name of an environment variable, e.g. "
            f'key_env = "STATSIG_{name.upper().replace("-", "_")}_KEY"'
        )
    base_url = table.get("base_url")
    if base_url is not None and not isinstance(base_url, str):
        raise ConfigError(f"{where}: base_url must be a string")
    limits = table.get("mutation_limits")
    if limits is not None:
        try:
            limits = resolve_mutation_limits(limits)
        except ConfigError as exc:
            raise ConfigError(f"{where}: mutation_limits: {exc}") from None
    return ProjectEntry(name, key_env, base_url, limits)


def _refuse_keys(where: str, table: Mapping[str, Any]) -> None:
    """A projects file never holds a key: only the name of the variable that does."""
    for name, value in table.items():
        looks_like_key = isinstance(value, str) and value.strip().startswith(_KEY_PREFIXES)
        if name.lower() in _KEY_FIELDS or looks_like_key:
            raise ConfigError(
                f"{where} holds an API key in {name!r}: a projects file must not hold keys; "
                "put the key in an environment variable and name it with key_env = "
                '"VARIABLE" (and remove the key from the file, and from its history)'
            )
