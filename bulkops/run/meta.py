"""``RunMeta``: what a journal records about its run, built in one place.

The journal's ``meta`` table is a key-value store (JSON values). A run is created with the
fields of ``RunMeta``; the runner then adds timestamps and progress (``planned_at``,
``resumed_at``, ``finished_at``, ``elapsed_seconds``, ...). Keys never hold an API key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bulkops.api.limits import MutationLimit
from bulkops.run.states import Phase

__all__ = ["REVERT_JOB", "RunMeta"]

#: The ``job`` of a revert run: it plans from another run's journal, not from a ``Job``.
REVERT_JOB = "revert"


@dataclass
class RunMeta:
    """A run's identity and settings, as stored in its journal.

    - ``job``: a built-in job name, the absolute path of a job file, or ``REVERT_JOB``;
    - ``job_options``: the job's options (JSON), or ``{"of": RUN_ID, "force": bool}``;
    - ``connections``: connection name → base URL (never a key);
    - ``limits``: the mutation windows the run is paced at, ``[[count, seconds], ...]``;
    - ``project_ids``: connection name → project id (``GET /project``), checked on resume;
    - ``named``: connection name → the named project it is (``--project``, ``--to``), so a
      resume resolves its key the same way;
    - ``scopes``: the projects a fan-out run plans the job on (empty: the default connection).
    """

    run_id: str
    job: str
    job_options: dict[str, Any]
    connections: dict[str, str]
    limits: list[list[float]]
    concurrency: int
    phase: Phase = Phase.LISTING
    project_ids: dict[str, str] = field(default_factory=dict)
    confirmed: bool = False
    created_at: float | None = None
    named: dict[str, str] = field(default_factory=dict)
    scopes: list[str] = field(default_factory=list)
    plan_failures: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def new(
        cls,
        run_id: str,
        job: str,
        job_options: Mapping[str, Any],
        connections: Mapping[str, str],
        limits: Sequence[MutationLimit],
        concurrency: int,
        **extra: Any,
    ) -> RunMeta:
        """A new run's meta, limits normalised to lists (as JSON stores them)."""
        return cls(
            run_id=run_id,
            job=job,
            job_options=dict(job_options),
            connections=dict(connections),
            limits=[[count, span] for count, span in limits],
            concurrency=concurrency,
            **extra,
        )

    @classmethod
    def from_dict(cls, meta: Mapping[str, Any]) -> RunMeta:
        """Read the fields of ``RunMeta`` out of a journal's meta (other keys are ignored)."""
        return cls(
            run_id=str(meta.get("run_id")),
            job=str(meta.get("job")),
            job_options=dict(meta.get("job_options") or {}),
            connections=dict(meta.get("connections") or {}),
            limits=[list(x) for x in meta.get("limits") or ()],
            concurrency=int(meta.get("concurrency") or 0),
            phase=Phase(meta.get("phase") or Phase.LISTING),
            project_ids=dict(meta.get("project_ids") or {}),
            confirmed=bool(meta.get("confirmed")),
            created_at=meta.get("created_at"),
            named=dict(meta.get("named") or {}),
            scopes=list(meta.get("scopes") or ()),
            plan_failures=dict(meta.get("plan_failures") or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """The meta rows to create the journal with (``created_at`` is the journal's own)."""
        rows = {
            "run_id": self.run_id,
            "job": self.job,
            "job_options": self.job_options,
            "connections": self.connections,
            "limits": self.limits,
            "concurrency": self.concurrency,
            "phase": self.phase.value,
        }
        if self.project_ids:
            rows["project_ids"] = self.project_ids
        if self.confirmed:
            rows["confirmed"] = True
        if self.named:
            rows["named"] = self.named
        if self.scopes:
            rows["scopes"] = self.scopes
        return rows

    @property
    def is_revert(self) -> bool:
        """True for a revert run (it plans from another run's journal)."""
        return self.job == REVERT_JOB

    @property
    def limit_pairs(self) -> tuple[MutationLimit, ...]:
        """``limits`` as ``(count, seconds)`` pairs."""
        return tuple((int(c), float(s)) for c, s in self.limits)
