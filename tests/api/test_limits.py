"""Parsing mutation limits: `100/10s`, lists, the env var, and helpful errors."""

from __future__ import annotations

import pytest

from bulkops.api.limits import (
    DEFAULT_MUTATION_LIMITS,
    MUTATION_LIMITS_ENV,
    MutationLimitError,
    format_mutation_limit,
    limits_from_env,
    normalize_limits,
    parse_mutation_limit,
    parse_mutation_limits,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100/10s", (100, 10.0)),
        ("900/15m", (900, 900.0)),
        ("5/500ms", (5, 0.5)),
        ("1000/1h", (1000, 3600.0)),
        (" 7 / 2.5 s ", (7, 2.5)),
        ("60/min", (60, 60.0)),
        ("10/S", (10, 1.0)),
    ],
)
def test_parse_one_limit(text: str, expected: tuple[int, float]) -> None:
    assert parse_mutation_limit(text) == expected


def test_parse_a_comma_separated_list() -> None:
    assert parse_mutation_limits("100/10s, 900/15m") == DEFAULT_MUTATION_LIMITS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("100", "cannot read"),
        ("100/10", "no time unit"),
        ("100/10d", "unknown time unit 'd'"),
        ("0/10s", "at least 1"),
        ("10/0s", "positive time"),
        ("-1/10s", "cannot read"),
        ("ten/10s", "cannot read"),
        ("", "cannot read"),
    ],
)
def test_malformed_limit_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(MutationLimitError, match=message) as info:
        parse_mutation_limit(text)
    assert isinstance(info.value, ValueError)
    assert (
        "100/10s" in str(info.value) or "at least" in str(info.value) or "time" in str(info.value)
    )


def test_empty_list_is_an_error() -> None:
    with pytest.raises(MutationLimitError, match="no mutation limit"):
        parse_mutation_limits(" , ")


def test_env_var_unset_or_empty_means_the_documented_policy() -> None:
    assert limits_from_env({}) == DEFAULT_MUTATION_LIMITS
    assert limits_from_env({MUTATION_LIMITS_ENV: "  "}) == DEFAULT_MUTATION_LIMITS


def test_env_var_is_parsed() -> None:
    assert limits_from_env({MUTATION_LIMITS_ENV: "100/1s,900/90s"}) == ((100, 1.0), (900, 90.0))


def test_env_var_errors_name_the_variable() -> None:
    with pytest.raises(MutationLimitError, match=f"^{MUTATION_LIMITS_ENV}: .*no time unit"):
        limits_from_env({MUTATION_LIMITS_ENV: "100/10"})


def test_env_var_is_read_from_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MUTATION_LIMITS_ENV, "5/500ms")
    assert limits_from_env() == ((5, 0.5),)


def test_normalize_accepts_pairs_and_strings() -> None:
    assert normalize_limits([(100, 10), "900/15m"]) == DEFAULT_MUTATION_LIMITS
    assert normalize_limits("5/1s") == ((5, 1.0),)


@pytest.mark.parametrize("bad", [[], [(1.5, 10)], [(10,)], [(10, "1s")], [(10, -1)]])
def test_normalize_rejects_bad_pairs(bad: list[object]) -> None:
    with pytest.raises(MutationLimitError):
        normalize_limits(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["100/10s", "900/15m", "5/500ms", "1000/1h", "3/90s"])
def test_format_round_trips(text: str) -> None:
    assert format_mutation_limit(parse_mutation_limit(text)) == text
