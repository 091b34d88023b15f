"""Executing work: the public job model, the journaled runner, reports."""

from bulkops.run.job import (
    Check,
    Item,
    Job,
    JobConfigError,
    ListEdit,
    Operation,
    ReadContext,
    Skip,
    Source,
)

__all__ = [
    "Check",
    "Item",
    "Job",
    "JobConfigError",
    "ListEdit",
    "Operation",
    "ReadContext",
    "Skip",
    "Source",
]
