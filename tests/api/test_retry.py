"""Retry-After parsing and the backoff policy: server waits are floors, ours are jittered."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from bulkops.api.retry import IDEMPOTENT_METHODS, RetryPolicy, format_wait, parse_retry_after

NOW = 1_700_000_000.0


@pytest.mark.parametrize(("value", "seconds"), [("7", 7.0), (" 120 ", 120.0), ("1.5", 1.5)])
def test_retry_after_in_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", "0", "-0", "-3", "-1e9", "soon", "nan", "inf", "-inf", "1e400", "7 s"],
)
def test_retry_after_zero_absent_or_garbage_is_no_hint(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def test_retry_after_as_http_date_counts_from_now() -> None:
    value = formatdate(NOW + 30, usegmt=True)
    assert parse_retry_after(value, now=NOW) == pytest.approx(30.0)


def test_retry_after_http_date_in_the_past_is_no_hint() -> None:
    assert parse_retry_after(formatdate(NOW - 30, usegmt=True), now=NOW) is None


def test_retry_after_garbled_http_date_is_no_hint() -> None:
    assert parse_retry_after("Wed, 99 Foo 2015 07:28:00 GMT", now=NOW) is None


@pytest.mark.parametrize(
    ("value", "seconds"), [("86400", 86400.0), ("1e308", 1e308), (formatdate(NOW + 2e6), 2e6)]
)
def test_huge_waits_are_parsed_as_they_are_for_the_cap_to_refuse(
    value: str, seconds: float
) -> None:
    parsed = parse_retry_after(value, now=NOW)
    assert parsed == pytest.approx(seconds)
    assert parsed is not None and parsed > RetryPolicy().max_server_wait


def test_the_longest_server_wait_honoured_is_the_15_minute_window() -> None:
    assert RetryPolicy().max_server_wait == 900.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1.5, "1.5 s"), (90, "90 s (1.5 min)"), (900, "900 s (15 min)"), (86400, "86400 s (24 h)")],
)
def test_waits_read_well_in_messages(seconds: float, text: str) -> None:
    assert format_wait(seconds) == text


def test_post_is_not_idempotent_but_put_patch_delete_are() -> None:
    assert "POST" not in IDEMPOTENT_METHODS
    assert {"GET", "PUT", "PATCH", "DELETE"} <= IDEMPOTENT_METHODS


def test_backoff_is_full_jitter_below_a_doubling_ceiling() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=30.0)
    rng = random.Random(1)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (3, 4.0), (10, 30.0)]:
        waits = [policy.backoff(attempt, rng) for _ in range(500)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > 0.8 * ceiling  # spread over the whole range, not fixed
        assert min(waits) < 0.2 * ceiling


@pytest.mark.parametrize("retry_after", [0.2, 20.0, 900.0])
def test_server_wait_is_never_shortened_by_jitter(retry_after: float) -> None:
    policy = RetryPolicy()
    rng = random.Random(2)
    waits = [policy.wait(attempt % 5, retry_after, rng) for attempt in range(1000)]
    assert min(waits) >= retry_after
    assert max(waits) <= retry_after * 1.1 + 1e-9


def test_long_server_wait_is_not_capped_by_our_backoff_maximum() -> None:
    policy = RetryPolicy(backoff_max=5.0)
    assert policy.wait(0, 600.0, random.Random(3)) >= 600.0
