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
#: What the live spec (2026-03) has beyond the 2025-10-20 snapshot behind console-v1.json.
DRIFT_FILE = SPEC_DIR / "console-v1.drift-2026-03.json"
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


@cache
def load_drift() -> dict[str, Any]:
    """The drift file: properties the live spec added to schemas of the snapshot, and more."""
    return json.loads(DRIFT_FILE.read_text())


def live_additions(schema_name: str) -> dict[str, str]:
    """Properties the live spec adds to component schema ``schema_name``, with their
    TypeScript types as the drift file gives them (empty when it adds none)."""
    drift = load_drift()["schema_property_drift"].get(schema_name, {})
    return dict(drift.get("added_in_live_ts_type", {}))


def ts_json_types(ts_type: str) -> str:
    """A TypeScript type of the drift file as catalog JSON types: ``Array<X> | null`` ->
    ``array|null`` (an enum type of the generated SDK is a string)."""
    found = set()
    for part in (p.strip() for p in ts_type.split("|")):
        if part.startswith("Array<"):
            found.add("array")
        elif part in ("string", "number", "boolean", "null"):
            found.add(part)
        elif part.endswith("Enum"):
            found.add("string")
        else:
            found.add("object")
    return "|".join(sorted(found))
