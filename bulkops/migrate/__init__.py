"""Project-to-project migration: snapshot, dependency graph, ID mapping, diff, verify.

- ``export``           ``export_snapshot``: a whole project streamed to a snapshot file;
- ``snapshot_source``  ``SnapshotConnection``: a snapshot file served read-only as the API;
- ``reads``            bounded concurrent reads handed on in a deterministic order;
- ``facts``            the migrated kinds, their order, override documents and ID lists.

The ``migrate`` job (``bulkops run migrate``) plans with these pieces; ``bulkops verify``
compares a migrate run's source and target through its ID mapping.
"""

from bulkops.migrate.export import EXPORT_KINDS, ExportStatistics, export_snapshot
from bulkops.migrate.facts import MIGRATED_KINDS
from bulkops.migrate.reads import ordered_map, read_all
from bulkops.migrate.snapshot_source import SnapshotConnection, SnapshotReadOnlyError

__all__ = [
    "EXPORT_KINDS",
    "MIGRATED_KINDS",
    "ExportStatistics",
    "SnapshotConnection",
    "SnapshotReadOnlyError",
    "export_snapshot",
    "ordered_map",
    "read_all",
]
