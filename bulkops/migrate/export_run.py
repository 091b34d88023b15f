"""Exporting a project to a snapshot file: shared by ``bulkops export`` and
``bulkops.export_project``.

``export_project`` checks the path (a file in an existing directory), resolves the source
connection (the default one, or a named project: ``STATSIG_<NAME>_CONSOLE_API_KEY`` or the
projects file) and streams the project into the file with ``export_snapshot``; the file
appears only once complete.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bulkops.api.config import DEFAULT_READ_CONCURRENCY
from bulkops.errors import ConfigError, shown
from bulkops.migrate.export import EXPORT_KINDS, ExportStatistics, export_snapshot
from bulkops.migrate.facts import parse_kinds
from bulkops.run.connections import ConnectionSettings, key_hint, resolve_connections
from bulkops.run.projects import ProjectsFile
from bulkops.run.settings import RunSettings

__all__ = ["export_project"]


async def export_project(
    settings: RunSettings,
    out: str | Path,
    *,
    kinds: str | Iterable[str] | None = None,
    project: str | None = None,
    concurrency: int = DEFAULT_READ_CONCURRENCY,
) -> ExportStatistics:
    """Stream the source project (or named ``project``) into ``out`` (see the module
    docstring). ``kinds``: ``"gates,segments"`` or a list (default: everything).

    Raises ``ConfigError`` before any read (unknown kind, no key, a path that cannot be a
    file), ``AuthError``/``ApiError`` (nothing written), ``OSError`` (the file system).
    """
    from bulkops.api import ConsoleClient

    path = Path(out)
    wanted = _kinds(kinds)
    _check_out(path)
    source = _source(settings, project)
    hint = source.key_source or key_hint("source")
    async with ConsoleClient(source.api_key, source.base_url, key_hint=hint) as client:
        return await export_snapshot(client, path, kinds=wanted, limit=concurrency)


def _source(settings: RunSettings, project: str | None = None) -> ConnectionSettings:
    """The connection an export reads: the default one, or named ``project``."""
    return resolve_connections(
        ["source"],
        keys={"source": settings.keys.get("source")},
        base_urls={"source": settings.base_urls.get("source")},
        named={"source": project} if project else {},
        projects_file=ProjectsFile.find(settings.projects_file),
    )["source"]


def _kinds(kinds: str | Iterable[str] | None) -> tuple[str, ...]:
    text = kinds if kinds is None or isinstance(kinds, str) else ",".join(kinds)
    try:
        return parse_kinds(text, EXPORT_KINDS)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _check_out(out: Path) -> None:
    """ConfigError unless ``out`` names a file that could be written in an existing dir."""
    try:
        if not out.name or out.is_dir():
            raise ConfigError(f"cannot write {shown(out)}: give the path of a file (--out FILE)")
        if not out.parent.is_dir():
            raise ConfigError(f"cannot write {shown(out)}: {shown(out.parent)} is not a directory")
    except OSError as exc:  # a name too long, a loop of links
        raise ConfigError(f"cannot write {shown(out)}: {exc.strerror or exc}") from None
