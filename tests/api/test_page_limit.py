"""Which ``limit`` a list endpoint is asked for: the most it may honour, unless told otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec import MISSING_REASON, load_spec, spec_available

from bulkops.api import ConsoleClient
from bulkops.api.pagination import PAGE_LIMIT_CEILING, SPEC_PAGE_LIMITS, page_limit

PREFIX = "/console/v1"


def test_endpoints_without_a_stated_maximum_are_asked_the_ceiling() -> None:
    assert PAGE_LIMIT_CEILING == 1000
    assert page_limit("/gates") == page_limit("/segments/s1/id_list") == 1000


def test_endpoints_with_a_stated_maximum_are_asked_that_maximum() -> None:
    assert page_limit("/gates/my_gate/gate_references") == 100
    assert page_limit("/release_pipeline_triggers/") == 100


def test_an_explicit_page_size_is_kept_below_the_stated_maximum() -> None:
    assert page_limit("/gates", 50) == 50
    assert page_limit("/gates", 5000) == 5000
    assert page_limit("/gates/g/experiment_references", 500) == 100


def test_the_client_learns_by_default_and_keeps_an_explicit_page_size() -> None:
    key, url = "console-x", "http://127.0.0.1:9/console/v1"
    learning = ConsoleClient(key, url)
    assert learning.page_limit("/gates") == 1000
    assert learning.page_limit("/gates/g/gate_references") == 100
    assert learning.page_size == 100  # what code paging by hand asks, as before
    fixed = ConsoleClient(key, url, page_size=25)
    assert fixed.page_size == 25 and fixed.page_limit("/gates") == 25
    assert learning.page_concurrency == 16


def _stated_maximums() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path, item in load_spec()["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            if parameter.get("name") == "limit" and "maximum" in parameter.get("schema", {}):
                found[path.removeprefix(PREFIX)] = parameter["schema"]["maximum"]
    return found


@pytest.mark.spec
@pytest.mark.skipif(not spec_available(), reason=MISSING_REASON)
def test_stated_maximums_agree_with_the_spec() -> None:
    assert _stated_maximums() == SPEC_PAGE_LIMITS
