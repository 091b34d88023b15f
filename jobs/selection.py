"""Moved to ``bulkops.run.selection`` (the job API); kept while copy-experiments imports it."""

from bulkops.run.selection import (
    Condition,
    Selection,
    build_selection,
    parse_condition,
    selection_for,
)

__all__ = ["Condition", "Selection", "build_selection", "parse_condition", "selection_for"]
