"""Executing work: the public job model, the run lifecycle, the journal and what reports on it.

Layout (each module named for one idea):

- ``job``        the job model a job is written against: ``Job``, ``Source``, ``Item``,
                 ``Operation``, ``Check``, ``ListEdit``, ``Skip``, ``ReadContext``;
- ``lifecycle``  ``Lifecycle(settings, hooks)``: ``start`` / ``resume`` / ``revert``, every
                 rule of a run's life (``RunSettings`` in, ``RunOutcome`` out, ``RunHooks``
                 to show things); ``session`` drives one run (signals, confirmation);
- ``runner``     list → freeze → plan → mutate, journaled at every step (``Runner``);
- ``journal``    the SQLite checkpoint store; ``meta`` (``RunMeta``), ``statedir``, ``lock``;
- ``states``     ``OpStatus``, ``Phase``, ``ExitCode``, defined once;
- ``report``, ``planview``, ``progress``, ``confirm``, ``retention``: what is shown of a run.

The CLI uses this package only through the names below.
"""

from bulkops.errors import (
    ConfigError,
    JobCodeError,
    JobConfigError,
    JournalError,
    JournalInUseError,
    NotConfirmedError,
)
from bulkops.run.confirm import preview_lines
from bulkops.run.connections import (
    DEFAULT_CONCURRENCY,
    MAX_CONCURRENCY,
    ConnectionSettings,
    env_names,
    format_limits,
    key_flag,
    key_hint,
    resolve_connections,
    resolve_limits,
)
from bulkops.run.hooks import LoggingHooks, RunHooks
from bulkops.run.job import (
    CREATED_ID,
    Check,
    Item,
    Job,
    ListEdit,
    Operation,
    ReadContext,
    Skip,
    Source,
)
from bulkops.run.journal import Journal
from bulkops.run.lifecycle import Lifecycle
from bulkops.run.loader import builtin_job_names, is_job_path, load_job_class
from bulkops.run.meta import RunMeta
from bulkops.run.planview import format_duration, format_plan_summary, write_plan_diff
from bulkops.run.progress import ProgressPrinter
from bulkops.run.projects import ProjectsFile
from bulkops.run.report import run_status, write_report
from bulkops.run.results import PlanSummary, RunnerStatistics, RunOutcome, RunResult
from bulkops.run.retention import RunRecord, list_runs, parse_age, prune_runs
from bulkops.run.settings import RunSettings
from bulkops.run.statedir import StateDir, resolve_state_dir
from bulkops.run.states import ExitCode, OpStatus, Phase

__all__ = [
    "CREATED_ID",
    "DEFAULT_CONCURRENCY",
    "MAX_CONCURRENCY",
    "Check",
    "ConfigError",
    "ConnectionSettings",
    "ExitCode",
    "Item",
    "Job",
    "JobCodeError",
    "JobConfigError",
    "Journal",
    "JournalError",
    "JournalInUseError",
    "Lifecycle",
    "ListEdit",
    "LoggingHooks",
    "NotConfirmedError",
    "OpStatus",
    "Operation",
    "Phase",
    "PlanSummary",
    "ProgressPrinter",
    "ProjectsFile",
    "ReadContext",
    "RunHooks",
    "RunMeta",
    "RunOutcome",
    "RunRecord",
    "RunResult",
    "RunSettings",
    "RunnerStatistics",
    "Skip",
    "Source",
    "StateDir",
    "builtin_job_names",
    "env_names",
    "format_duration",
    "format_limits",
    "format_plan_summary",
    "is_job_path",
    "key_flag",
    "key_hint",
    "list_runs",
    "load_job_class",
    "parse_age",
    "preview_lines",
    "prune_runs",
    "resolve_connections",
    "resolve_limits",
    "resolve_state_dir",
    "run_status",
    "write_plan_diff",
    "write_report",
]
