"""`bulkops export`: a complete snapshot of the source project, streamed to a file.

    bulkops export --out FILE [--kinds gates,segments,...] [--api-key KEY] [--base-url URL]

The file is a ``bulkops-snapshot/1`` document (``bulkops emulator --seed FILE`` loads it, and
``bulkops run migrate --from-snapshot FILE`` migrates from it). Exit codes: 0 written, 2 usage
(no key, unknown kind, unwritable path), 4 the API refused the key or failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import anyio

from bulkops.api.errors import ApiError, AuthError, ConfigError
from bulkops.cli import fail, options
from bulkops.errors import shown
from bulkops.run import ExitCode, ProjectsFile, key_hint, resolve_connections

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `export` to the `bulkops` parser."""
    from bulkops.migrate.export import EXPORT_KINDS

    export = subparsers.add_parser(
        "export",
        help="write a complete snapshot of the project to a file",
        description="Write every entity, override, ID list, tag and target app of the project "
        "to FILE (bulkops-snapshot/1, streamed; FILE appears only once complete).",
    )
    export.add_argument("--out", required=True, metavar="FILE", help="the snapshot file to write")
    export.add_argument(
        "--kinds",
        metavar="KIND,...",
        help=f"what to export (default everything: {','.join(EXPORT_KINDS)})",
    )
    export.add_argument(
        "--concurrency",
        type=options.parse_concurrency,
        default=16,
        metavar="N",
        help="reads in flight at once (default 16)",
    )
    export.add_argument(
        "--project",
        metavar="NAME",
        help="export this named project (STATSIG_<NAME>_CONSOLE_API_KEY or the projects file) "
        "instead of the default connection",
    )
    export.add_argument("--projects-file", metavar="FILE", help="named projects (bulkops.toml)")
    options.add_connection_options(export, ("source",))
    export.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    """`bulkops export --out FILE`: stream the project into FILE."""
    from bulkops.api import ConsoleClient
    from bulkops.migrate.export import EXPORT_KINDS, export_snapshot
    from bulkops.migrate.facts import parse_kinds

    out = Path(args.out)
    try:
        kinds = parse_kinds(args.kinds, EXPORT_KINDS)
        named = {"source": args.project} if args.project else {}
        settings = resolve_connections(
            ["source"],
            keys={"source": args.source_api_key},
            base_urls={"source": args.source_base_url},
            named=named,
            projects_file=ProjectsFile.find(args.projects_file),
        )["source"]
        _check_out(out)
    except (ConfigError, ValueError) as exc:
        return fail(ExitCode.USAGE, str(exc))

    async def export() -> str:
        async with ConsoleClient(settings.api_key, settings.base_url) as client:
            stats = await export_snapshot(client, out, kinds=kinds, limit=args.concurrency)
        return stats.describe()

    try:
        written = anyio.run(export)
    except AuthError as exc:
        return fail(ExitCode.FATAL, f"{exc} (check {settings.key_source or key_hint('source')})")
    except ApiError as exc:
        return fail(ExitCode.FATAL, f"the API failed during the export, nothing written: {exc}")
    except OSError as exc:
        return fail(ExitCode.USAGE, f"cannot write {shown(out)}: {exc.strerror or exc}")
    print(f"exported {written} to {shown(out)}", file=sys.stderr)
    return ExitCode.OK


def _check_out(out: Path) -> None:
    """ConfigError unless ``out`` names a file that could be written in an existing dir."""
    try:
        if not out.name or out.is_dir():
            raise ConfigError(f"cannot write {shown(out)}: give the path of a file (--out FILE)")
        if not out.parent.is_dir():
            raise ConfigError(f"cannot write {shown(out)}: {shown(out.parent)} is not a directory")
    except OSError as exc:  # a name too long, a loop of links
        raise ConfigError(f"cannot write {shown(out)}: {exc.strerror or exc}") from None
