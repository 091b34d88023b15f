"""Errors of the run machinery (the API's own errors live in ``bulkops.api.errors``)."""

from __future__ import annotations

__all__ = ["JournalError"]


class JournalError(Exception):
    """The journal file is missing, foreign, corrupt or unwritable; it is never overwritten."""
