"""Built-in jobs (imported as ``bulkops.jobs``), one module each, written against the job API.

The job API is ``bulkops.run.job`` (with ``bulkops.run.selection`` for catalog kinds and
``--where``); nothing here touches HTTP, SQLite or the terminal.

Jobs: ``attach_holdout``, ``overrides``, ``archive_stale_gates``, ``patch``,
``copy_experiments``, ``migrate`` (run as ``bulkops run attach-holdout ...``). Shared pieces,
not jobs: ``id_lists`` (``a,b`` / ``@file`` ID lists), ``override_fields`` (where override IDs
live, for ``overrides``), and for ``copy_experiments``: ``experiment_copy`` (one experiment's
dependency-ordered copy) and ``copy_state`` (what the plan knows across experiments). Copying
and migrating are built on ``bulkops.migrate`` (desired state, references, operations, ID
lists).
"""

__all__ = ["BUILTIN_JOBS"]

#: The built-in job names, as typed after ``bulkops run``.
BUILTIN_JOBS = (
    "attach-holdout",
    "overrides",
    "archive-stale-gates",
    "patch",
    "copy-experiments",
    "migrate",
)
