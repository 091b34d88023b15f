"""bulkops: bulk operations and migrations for the Statsig Console API.

Layout (see ``../shared/STYLE.md`` for the house rules):

- ``bulkops.api``      talking to the Console API: ``ConsoleClient``, the exception tree, the
                       two-window ``MutationBudget``, pagination and the resource catalog.
- ``bulkops.run``      executing work: the public job model, the journaled runner, reports.
- ``bulkops.emulator`` a local Console API (aiohttp.web); imports nothing from ``api`` or ``run``.
- ``bulkops.jobs``     the built-in jobs (sources in the top-level ``jobs/`` folder).
- ``bulkops.testing``  fixtures for users' and our own tests: a running emulator, a fake clock.
- ``bulkops.cli``      the one door: parses, wires, prints.
- ``bulkops.errors``   every error bulkops raises, as one tree.

From Python: ``bulkops.run_job(...)`` / ``await bulkops.arun_job(...)``, ``resume_run``,
``revert_run``, ``verify_run``, ``export_project`` (see ``bulkops.run.python_api`` and docs/python-api.md).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bulkops.errors import BulkopsError
    from bulkops.migrate.verify import VerifyResult
    from bulkops.run.python_api import (
        JobResult,
        aexport_project,
        aresume_run,
        arevert_run,
        arun_job,
        averify_run,
        build_job,
        export_project,
        resume_run,
        revert_run,
        run_job,
        verify_run,
    )
    from bulkops.run.states import ExitCode

__version__ = "0.1.0"

__all__ = [
    "BulkopsError",
    "ExitCode",
    "JobResult",
    "VerifyResult",
    "__version__",
    "aexport_project",
    "aresume_run",
    "arevert_run",
    "arun_job",
    "averify_run",
    "build_job",
    "export_project",
    "resume_run",
    "revert_run",
    "run_job",
    "verify_run",
]


# Loaded on first use, so that ``import bulkops.emulator`` (a server process) stays light.
_LAZY = {
    "BulkopsError": "bulkops.errors",
    "ExitCode": "bulkops.run.states",
    "VerifyResult": "bulkops.migrate.verify",
    **dict.fromkeys(
        (
            "JobResult",
            "aexport_project",
            "arevert_run",
            "aresume_run",
            "arun_job",
            "averify_run",
            "build_job",
            "export_project",
            "resume_run",
            "revert_run",
            "run_job",
            "verify_run",
        ),
        "bulkops.run.python_api",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bulkops' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
