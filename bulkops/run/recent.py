"""What the state dir sent lately: earlier mutations that still count in a project's windows.

The server counts a mutation against its windows for up to the longest span (15 minutes)
after it arrived, but a new process's budget starts empty. A run resumed right after a
``kill -9``, or started right after another run on the same project (a nightly script of
several jobs), would then send a burst the server refuses with 429s. So, before sending, each
in-process budget is preloaded with the mutations that the runs of the same state dir sent to
the same project (matched by project id, never by key) within its longest span; a connection
whose project id is unknown counts the sends of that connection in its own run only.

A sent operation's time is its journal row's last write, which is no earlier than the moment
the server counted it: the same safe side as the budget's own log. Journals not modified within
the span are not opened, and one that cannot be read is passed over (it holds nothing recent
that this run could learn). With ``--budget-url`` the shared log in Redis already holds them.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from bulkops.errors import JournalError
from bulkops.run.identity import META_KEY
from bulkops.run.journal import Journal

__all__ = ["recent_sends"]


def recent_sends(
    journal: Journal,
    project_ids: Mapping[str, str | None],
    horizon: float,
    *,
    now: float | None = None,
) -> dict[str, list[float]]:
    """Per connection of ``journal``'s run (``project_ids``: name -> project id), the wall
    times of mutations sent to its project within ``horizon`` seconds by the runs of the
    journal's state dir, this one included."""
    since = (time.time() if now is None else now) - horizon
    by_project: dict[str, list[str]] = {}
    for name, project_id in project_ids.items():
        if project_id:
            by_project.setdefault(project_id, []).append(name)
    found: dict[str, list[float]] = {name: [] for name in project_ids}
    for other in _recent_journals(journal.path, since):
        try:
            opened = journal if other == journal.path else Journal.open(other, readonly=True)
        except (JournalError, sqlite3.Error, OSError):
            continue
        try:
            theirs = opened.meta().get(META_KEY) or {}
            for name, at in opened.sent_since(since):
                project_id = theirs.get(name) if isinstance(theirs, dict) else None
                if project_id in by_project:
                    for ours in by_project[project_id]:
                        found[ours].append(at)
                elif opened is journal and name in found and not project_ids.get(name):
                    found[name].append(at)
        except (JournalError, sqlite3.Error):
            continue
        finally:
            if opened is not journal:
                opened.close()
    return {name: sorted(times) for name, times in found.items() if times}


def _recent_journals(path: Path, since: float) -> Iterator[Path]:
    """The journals beside ``path`` written at or after ``since`` (``path`` itself always)."""
    yield path
    for other in sorted(path.parent.glob("*.journal")):
        if other == path:
            continue
        try:
            stamps = [other.stat().st_mtime]
            wal = other.with_name(other.name + "-wal")
            if wal.exists():
                stamps.append(wal.stat().st_mtime)
        except OSError:
            continue
        if max(stamps) >= since:
            yield other
