"""Verifying a migrate run by its ID: shared by ``bulkops verify`` and ``bulkops.verify_run``.

``verify_run`` opens the run's journal read-only (it works while the run goes on), takes its
ID mapping (``run_id_map``), opens its connections as ``bulkops resume`` would (the run's base
URLs and named projects; keys from the settings, else the environment; the run's snapshot
file as its source) and compares both projects with ``verify_mapping``.
"""

from __future__ import annotations

from typing import Any

from bulkops.api.config import DEFAULT_READ_CONCURRENCY
from bulkops.errors import ConfigError
from bulkops.migrate.verify import VerifyResult, run_id_map, verify_mapping
from bulkops.run.connections import key_hint
from bulkops.run.lifecycle import Lifecycle
from bulkops.run.meta import RunMeta
from bulkops.run.settings import RunSettings

__all__ = ["verify_run"]


async def verify_run(
    settings: RunSettings, run_id: str, *, concurrency: int = DEFAULT_READ_CONCURRENCY
) -> VerifyResult:
    """Compare the source and target of migrate run ``run_id`` (see the module docstring).

    Raises ``ConfigError`` (no such run, not a migrate run, a key missing), ``JournalError``
    (a journal it cannot read), ``AuthError`` or ``ApiError`` (the API refused or failed).
    """
    journal = settings.state().open_readonly(run_id)
    try:
        meta = journal.meta()
        if meta.get("job") != "migrate":
            raise ConfigError(
                f"run {run_id} is a {meta.get('job')!r} run, not a migrate run: "
                "verify compares what `bulkops run migrate` mapped"
            )
        id_map = run_id_map(journal)
        source, target = _connections(settings, meta)
    finally:
        journal.close()
    async with source, target:
        return await verify_mapping(source, target, id_map, limit=concurrency)


def _connections(settings: RunSettings, meta: dict[str, Any]) -> tuple[Any, Any]:
    """The source (a project, or the run's snapshot file) and target connections, not
    entered."""
    from bulkops.api import ConsoleClient

    conns, own = Lifecycle(settings).run_connections(RunMeta.from_dict(meta))

    def client(name: str) -> Any:
        if name in own:
            return own[name]
        c = conns[name]
        hint = c.key_source or ("" if name == "source" else key_hint(name))
        return ConsoleClient(c.api_key, c.base_url, key_hint=hint)

    return client("source"), client("target")
