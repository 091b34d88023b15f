import pytest
from job_fakes import FakeReadContext


@pytest.fixture
def ctx() -> FakeReadContext:
    return FakeReadContext()
