"""`bulkops verify RUN_ID`: does the target of a migrate run now hold what its source holds?

    bulkops verify RUN_ID [--state-dir DIR] [--json] [--concurrency N]

Reads the run's journal (read-only: works while it runs), its ID mapping and connections, finds
the keys as `bulkops revert` does (the run's base URLs; the source key from --api-key /
STATSIG_CONSOLE_API_KEY, or the run's snapshot file; the target key from --target-api-key,
STATSIG_<TO>_CONSOLE_API_KEY or STATSIG_TARGET_CONSOLE_API_KEY), compares both projects field
by field and prints every difference. Exit codes: 0 no difference, 1 some, 2 usage (unknown
run, not a migrate run, missing key), 4 the API refused a key or failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import orjson

from bulkops.api.errors import ApiError, AuthError, ConfigError
from bulkops.cli import EXIT_FAILED, EXIT_FATAL, EXIT_OK, EXIT_USAGE, fail, options
from bulkops.run.journal import JournalError
from bulkops.run.statedir import StateDir

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `verify` to the `bulkops` parser."""
    verify = subparsers.add_parser(
        "verify",
        help="compare the source and target of a migrate run, field by field",
        description="Compare every entity a migrate run mapped with its copy in the target; "
        "print each difference. Exit 0 only when there is none.",
    )
    verify.add_argument("run_id", metavar="RUN_ID", help="a `bulkops run migrate` run")
    verify.add_argument("--json", action="store_true", help="print one JSON document")
    verify.add_argument(
        "--concurrency",
        type=options.parse_concurrency,
        default=16,
        metavar="N",
        help="reads in flight at once (default 16)",
    )
    options.add_connection_options(verify, ("source", "target"))
    options.add_state_dir_option(verify)
    verify.set_defaults(handler=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    """`bulkops verify RUN_ID`: print every difference; 0 when none."""
    from bulkops.migrate.verify import run_id_map

    try:
        journal = StateDir(options.state_dir(args)).open_readonly(args.run_id)
    except (ConfigError, JournalError) as exc:
        return fail(EXIT_USAGE, str(exc))
    try:
        meta = journal.meta()
        if meta.get("job") != "migrate":
            raise ConfigError(
                f"run {args.run_id} is a {meta.get('job')!r} run, not a migrate run: "
                "verify compares what `bulkops run migrate` mapped"
            )
        id_map = run_id_map(journal)
        source, target = _connections(args, meta)
    except (ConfigError, JournalError) as exc:
        return fail(EXIT_USAGE, str(exc))
    finally:
        journal.close()
    try:
        result = anyio.run(_compare, source, target, id_map, args.concurrency)
    except AuthError as exc:
        return fail(EXIT_FATAL, str(exc))
    except ApiError as exc:
        return fail(EXIT_FATAL, f"the API failed while reading: {exc}")
    if args.json:
        doc = {
            "run_id": args.run_id,
            "compared": result.compared,
            "differences": [d.to_dict() for d in result.differences],
        }
        print(orjson.dumps(doc).decode())
    else:
        for difference in result.differences:
            print(difference)
        count = len(result.differences)
        print(
            f"verify {args.run_id}: {result.compared} mapped entities compared, "
            f"{count} difference(s)",
            file=sys.stderr,
        )
    return EXIT_FAILED if result.differences else EXIT_OK


def _connections(args: argparse.Namespace, meta: dict[str, Any]) -> tuple[Any, Any]:
    """The source (project or the run's snapshot file) and target connections, not entered."""
    from bulkops.api import ConsoleClient
    from bulkops.migrate.snapshot_source import SnapshotConnection

    job_options = meta.get("job_options") or {}
    stored = meta.get("connections") or {}
    _named_target(args, str(job_options.get("to") or ""))
    target = options.connection_settings(args, ("target",), stored)["target"]
    snapshot = job_options.get("from_snapshot")
    if snapshot:
        source: Any = SnapshotConnection.from_file(Path(snapshot))
    else:
        settings = options.connection_settings(args, ("source",), stored)["source"]
        source = ConsoleClient(settings.api_key, settings.base_url)
    hint = options.key_hint("target")
    return source, ConsoleClient(target.api_key, target.base_url, key_hint=hint)


def _named_target(args: argparse.Namespace, to: str) -> None:
    """``--to NAME``: NAME's own key and URL (STATSIG_<NAME>_CONSOLE_API_KEY / _URL) come
    before STATSIG_TARGET_CONSOLE_API_KEY; --target-api-key / --target-base-url before both."""
    if not to:
        return
    key_env, url_env = options.env_names(to)
    if not args.target_api_key and os.environ.get(key_env, "").strip():
        args.target_api_key = os.environ[key_env].strip()
    if not args.target_base_url and os.environ.get(url_env, "").strip():
        args.target_base_url = os.environ[url_env].strip()


async def _compare(source: Any, target: Any, id_map: Any, limit: int) -> Any:
    from bulkops.migrate.verify import verify_mapping

    async with source, target:
        return await verify_mapping(source, target, id_map, limit=limit)
