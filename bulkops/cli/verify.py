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
import sys
from typing import Any

import anyio
import orjson

from bulkops.api.errors import ApiError, AuthError, ConfigError
from bulkops.cli import fail, options
from bulkops.run import ExitCode, JournalError, Lifecycle, RunMeta, StateDir, key_hint

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
    verify.add_argument("--projects-file", metavar="FILE", help="named projects (bulkops.toml)")
    options.add_state_dir_option(verify)
    verify.set_defaults(handler=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    """`bulkops verify RUN_ID`: print every difference; 0 when none."""
    from bulkops.migrate.plan import uncopied_text
    from bulkops.migrate.verify import run_id_map

    try:
        journal = StateDir(options.state_dir(args)).open_readonly(args.run_id)
    except (ConfigError, JournalError) as exc:
        return fail(ExitCode.USAGE, str(exc))
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
        return fail(ExitCode.USAGE, str(exc))
    finally:
        journal.close()
    try:
        result = anyio.run(_compare, source, target, id_map, args.concurrency)
    except AuthError as exc:
        return fail(ExitCode.FATAL, str(exc))
    except ApiError as exc:
        return fail(ExitCode.FATAL, f"the API failed while reading: {exc}")
    if args.json:
        doc = {
            "run_id": args.run_id,
            "compared": result.compared,
            "differences": [d.to_dict() for d in result.differences],
            "not_compared": {kind: dict(c) for kind, c in result.not_compared.items()},
        }
        print(orjson.dumps(doc).decode())
    else:
        for difference in result.differences:
            print(difference)
        if result.not_compared:
            print(
                f"not compared: {uncopied_text(result.not_compared)}: fields this version of "
                "bulkops does not know (nor copies); compare them by hand",
                file=sys.stderr,
            )
        count = len(result.differences)
        print(
            f"verify {args.run_id}: {result.compared} mapped entities compared, "
            f"{count} difference(s)",
            file=sys.stderr,
        )
    return ExitCode.FAILED if result.differences else ExitCode.OK


def _connections(args: argparse.Namespace, meta: dict[str, Any]) -> tuple[Any, Any]:
    """The source (project or the run's snapshot file) and target connections, not entered,
    resolved as ``bulkops resume`` resolves the run's (its URLs, its named projects)."""
    from bulkops.api import ConsoleClient

    conns, own = Lifecycle(options.run_settings(args)).run_connections(RunMeta.from_dict(meta))

    def client(name: str) -> Any:
        if name in own:
            return own[name]
        c = conns[name]
        hint = c.key_source or ("" if name == "source" else key_hint(name))
        return ConsoleClient(c.api_key, c.base_url, key_hint=hint)

    return client("source"), client("target")


async def _compare(source: Any, target: Any, id_map: Any, limit: int) -> Any:
    from bulkops.migrate.verify import verify_mapping

    async with source, target:
        return await verify_mapping(source, target, id_map, limit=limit)
