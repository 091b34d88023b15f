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
import functools
import sys

import anyio
import orjson

from bulkops.api.errors import ApiError, AuthError, ConfigError
from bulkops.cli import fail, options
from bulkops.run import ExitCode, JournalError

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
    from bulkops.migrate.verify_run import verify_run

    check = functools.partial(
        verify_run, options.run_settings(args), args.run_id, concurrency=args.concurrency
    )
    try:
        result = anyio.run(check)
    except (ConfigError, JournalError) as exc:
        return fail(ExitCode.USAGE, str(exc))
    except AuthError as exc:
        return fail(ExitCode.FATAL, str(exc))
    except ApiError as exc:
        return fail(ExitCode.FATAL, f"the API failed while reading: {exc}")
    if args.json:
        print(orjson.dumps({"run_id": args.run_id, **result.to_dict()}).decode())
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
    return ExitCode.OK if result.ok else ExitCode.FAILED
