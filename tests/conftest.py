from collections.abc import Iterator

import pytest

from bulkops.redaction import SECRETS

pytest_plugins = ["bulkops.testing"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Each test starts with no registered secret (keys of earlier tests are not redacted)."""
    SECRETS.clear()
    yield
    SECRETS.clear()
