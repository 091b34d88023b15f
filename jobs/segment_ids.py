"""The IDs of ID-list segments: moved to ``bulkops.migrate.idlists`` (shared with migrate).

Kept as a name so that ``bulkops.jobs.segment_ids`` imports go on working.
"""

from bulkops.migrate.compare import same_ids
from bulkops.migrate.idlists import ID_LIST_TYPES, IdListApi, plan_id_copy, read_ids

__all__ = ["ID_LIST_TYPES", "IdListApi", "plan_id_copy", "read_ids", "same_ids"]
