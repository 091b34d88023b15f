"""Where the real Console API spec is, for the tests that check us against it.

The spec lives outside this repository (its license is unclear, so it is never copied in):
``../shared/statsig-openapi/`` next to the clone, or the folder named by ``BULKOPS_OPENAPI_DIR``.
Tests that need it skip with ``MISSING_REASON`` when it is absent.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

SPEC_DIR = Path(
    os.environ.get("BULKOPS_OPENAPI_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "statsig-openapi"
)
SPEC_FILE = SPEC_DIR / "console-v1.json"
MISSING_REASON = (
    f"the Console API spec is not at {SPEC_FILE} (no ../shared/statsig-openapi next to this "
    "clone; set BULKOPS_OPENAPI_DIR to its folder to run these tests)"
)


def spec_available() -> bool:
    return SPEC_FILE.is_file()


@cache
def load_spec() -> dict[str, Any]:
    """The merged spec ``console-v1.json``, parsed once per test session."""
    return json.loads(SPEC_FILE.read_text())
