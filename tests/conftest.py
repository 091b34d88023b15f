import pytest

pytest_plugins = ["bulkops.testing"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
