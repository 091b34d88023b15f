"""Finding a job by built-in name or by file path."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkops.run.job import JobConfigError
from bulkops.run.loader import builtin_job_names, is_job_path, load_job_class

JOB_SOURCE = """
from bulkops.run import Job

class Mine(Job):
    name = "mine"
"""


def test_a_user_file_is_loaded_by_path(tmp_path: Path) -> None:
    path = tmp_path / "myjob.py"
    path.write_text(JOB_SOURCE)
    assert is_job_path(str(path))
    assert load_job_class(str(path)).name == "mine"


def test_a_file_without_a_job_or_with_two_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(JobConfigError, match="defines no Job subclass"):
        load_job_class(str(empty))
    two = tmp_path / "two.py"
    two.write_text(JOB_SOURCE + "\nclass Other(Job):\n    name = 'other'\n")
    with pytest.raises(JobConfigError, match="several jobs"):
        load_job_class(str(two))
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(JobConfigError, match="RuntimeError: boom"):
        load_job_class(str(broken))


def test_an_unknown_builtin_lists_the_known_ones() -> None:
    with pytest.raises(JobConfigError, match="unknown job 'no-such-job'"):
        load_job_class("no-such-job")


def test_every_listed_builtin_loads() -> None:
    for name in builtin_job_names():
        assert load_job_class(name).__module__ == f"bulkops.jobs.{name.replace('-', '_')}"
