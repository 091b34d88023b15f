"""Fixtures of the emulator tests."""

from __future__ import annotations

import pytest
from emulator_http import Api

from bulkops.testing import RunningEmulator


@pytest.fixture
def api(emulator: RunningEmulator) -> Api:
    """A blocking client of the ``emulator`` fixture's project ``default``."""
    return Api(emulator)
