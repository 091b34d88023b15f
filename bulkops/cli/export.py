"""`bulkops export`: a complete snapshot of the source project, streamed to a file.

    bulkops export --out FILE [--kinds gates,segments,...] [--api-key KEY] [--base-url URL]

The file is a ``bulkops-snapshot/1`` document (``bulkops emulator --seed FILE`` loads it, and
``bulkops run migrate --from-snapshot FILE`` migrates from it). Exit codes: 0 written, 2 usage
(no key, unknown kind, unwritable path), 4 the API refused the key or failed.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import anyio

from bulkops.api.errors import ApiError, AuthError, ConfigError
from bulkops.cli import fail, options
from bulkops.errors import shown
from bulkops.run import ExitCode, RunSettings

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
    from bulkops.migrate.export_run import export_project

    out = Path(args.out)
    settings = RunSettings(
        keys={"source": args.source_api_key},
        base_urls={"source": args.source_base_url},
        projects_file=args.projects_file,
    )
    run = functools.partial(
        export_project,
        settings,
        out,
        kinds=args.kinds,
        project=args.project,
        concurrency=args.concurrency,
    )
    try:
        stats = anyio.run(run)
    except ConfigError as exc:
        return fail(ExitCode.USAGE, str(exc))
    except AuthError as exc:
        return fail(ExitCode.FATAL, str(exc))
    except ApiError as exc:
        return fail(ExitCode.FATAL, f"the API failed during the export, nothing written: {exc}")
    except OSError as exc:
        return fail(ExitCode.USAGE, f"cannot write {shown(out)}: {exc.strerror or exc}")
    print(f"exported {stats.describe()} to {shown(out)}", file=sys.stderr)
    return ExitCode.OK
