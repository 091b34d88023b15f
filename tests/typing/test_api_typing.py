"""`mypy` accepts the public-API usage files and the packages they use (in a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
USAGE = Path(__file__).with_name("api_usage.py")
PYTHON_API_USAGE = Path(__file__).with_name("python_api_usage.py")


def run_mypy(*targets: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-incremental",
            "--hide-error-context",
            *map(str, targets),
        ],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.timeout(300)
def test_public_api_usage_and_the_package_type_check_clean() -> None:
    pytest.importorskip("mypy", reason="mypy is a dev extra: pip install -e '.[dev]'")
    result = run_mypy(USAGE, REPO / "bulkops" / "api")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.timeout(300)
def test_python_api_and_job_api_usage_type_check_clean() -> None:
    pytest.importorskip("mypy", reason="mypy is a dev extra: pip install -e '.[dev]'")
    result = run_mypy(PYTHON_API_USAGE, REPO / "bulkops" / "run", REPO / "bulkops" / "__init__.py")
    assert result.returncode == 0, result.stdout + result.stderr
