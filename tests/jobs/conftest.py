import sys
from pathlib import Path

import pytest
from job_fakes import FakeReadContext

# The CLI helpers of the run tests (clihelp: cli_env, bulkops, spawn) are shared, not copied.
sys.path.insert(0, str(Path(__file__).parents[1] / "run"))


@pytest.fixture
def ctx() -> FakeReadContext:
    return FakeReadContext()
