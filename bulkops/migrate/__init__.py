"""Project-to-project migration: snapshot, dependency graph, ID mapping, diff, verify.

- ``export``           ``export_snapshot``: a whole project streamed to a snapshot file;
- ``snapshot_source``  ``SnapshotConnection``: a snapshot file served read-only as the API;
- ``inventory``        everything a plan reads, read up front (``reads``: bounded, ordered);
- ``planner``          ``MigrationPlanner``: blocked, pulled in, order, then ``verdicts``
                       (mapping and comparison) and ``emit`` (the operations); ``plan`` holds
                       the result;
- ``graph``, ``desired``, ``compare``, ``operations``, ``idlists``, ``mapping``: the pieces
  shared with copy-experiments (references and order, what the target should hold, exact
  comparison, the writes and their undo, ID-list calls, the ID map);
- ``catalog``          the tags and target apps migrated entities name: created in the
                       target when it lacks them, checked by verify;
- ``verify``           ``verify_mapping`` and ``run_id_map``: a run's target against its source;
- ``sample``           ``migration_sample``: a realistic project to rehearse on.

The ``migrate`` job (``bulkops run migrate``, ``jobs/migrate.py``) plans with these pieces.
"""

from bulkops.migrate.export import EXPORT_KINDS, ExportStatistics, export_snapshot
from bulkops.migrate.facts import MIGRATED_KINDS
from bulkops.migrate.mapping import IdMap
from bulkops.migrate.plan import Conflict, MigrationPlan
from bulkops.migrate.planner import POLICIES, MigrationPlanner
from bulkops.migrate.snapshot_source import SnapshotConnection, SnapshotReadOnlyError
from bulkops.migrate.verify import Difference, VerifyResult, run_id_map, verify_mapping

__all__ = [
    "EXPORT_KINDS",
    "MIGRATED_KINDS",
    "POLICIES",
    "Conflict",
    "Difference",
    "ExportStatistics",
    "IdMap",
    "MigrationPlan",
    "MigrationPlanner",
    "SnapshotConnection",
    "SnapshotReadOnlyError",
    "VerifyResult",
    "export_snapshot",
    "run_id_map",
    "verify_mapping",
]
