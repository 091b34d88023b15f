"""Settings resolve from arguments first, then the environment; errors say how to fix them."""

from __future__ import annotations

import pytest

from bulkops.api.config import (
    DEFAULT_BASE_URL,
    ENV_API_KEY,
    ENV_API_URL,
    ENV_MUTATION_LIMITS,
    ENV_READ_CONCURRENCY,
    resolve_api_key,
    resolve_base_url,
    resolve_mutation_limits,
    resolve_read_concurrency,
    resolve_settings,
)
from bulkops.api.errors import ConfigError


def test_missing_key_names_the_env_var_and_the_flag() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_api_key(None, env={})
    assert ENV_API_KEY in str(info.value)
    assert "--api-key" in str(info.value)


def test_argument_wins_over_environment() -> None:
    env = {ENV_API_KEY: "console-from-env", ENV_API_URL: "http://env.example/console/v1"}
    settings = resolve_settings("console-from-arg", "http://arg.example/console/v1/", env=env)
    assert settings.api_key == "console-from-arg"
    assert settings.base_url == "http://arg.example/console/v1"


def test_environment_fills_in_missing_arguments() -> None:
    env = {ENV_API_KEY: "console-from-env", ENV_MUTATION_LIMITS: "10/1s,90/90s"}
    settings = resolve_settings(env=env)
    assert settings.api_key == "console-from-env"
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.mutation_limits == ((10, 1.0), (90, 90.0))


def test_settings_repr_hides_the_key() -> None:
    settings = resolve_settings("console-secret-value", env={})
    assert "console-secret-value" not in repr(settings)


def test_sdk_key_is_refused_without_quoting_it() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_api_key("secret-abc123", env={})
    assert "secret-abc123" not in str(info.value)
    assert "Console API key" in str(info.value)


@pytest.mark.parametrize("url", ["statsigapi.net/console/v1", "ftp://x/console/v1", "http://"])
def test_base_url_without_scheme_or_host_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match=ENV_API_URL):
        resolve_base_url(url, env={})


def test_default_limits_are_the_documented_policy() -> None:
    assert resolve_mutation_limits(None, env={}) == ((100, 10.0), (900, 900.0))


def test_limits_accept_strings_and_pairs() -> None:
    assert resolve_mutation_limits(["100/10s", "900/15m"], env={}) == ((100, 10.0), (900, 900.0))
    assert resolve_mutation_limits([(5, 1)], env={}) == ((5, 1.0),)


@pytest.mark.parametrize("text", ["100", "100/10parsecs", "0/10s"])
def test_bad_limits_are_a_config_error_that_shows_the_syntax(text: str) -> None:
    with pytest.raises(ConfigError, match="100/10s"):
        resolve_mutation_limits(None, env={ENV_MUTATION_LIMITS: text})


def test_read_concurrency_defaults_to_16() -> None:
    assert resolve_read_concurrency(None, env={}) == 16
    assert resolve_settings("console-x", env={}).read_concurrency == 16


def test_read_concurrency_argument_wins_over_the_environment() -> None:
    env = {ENV_READ_CONCURRENCY: "32"}
    assert resolve_read_concurrency(None, env=env) == 32
    assert resolve_read_concurrency(4, env=env) == 4
    assert resolve_settings("console-x", env=env, read_concurrency=8).read_concurrency == 8


@pytest.mark.parametrize("text", ["abc", "1.5", "0", "1001", "-4", "16 reads"])
def test_bad_read_concurrency_in_the_environment_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_read_concurrency(None, env={ENV_READ_CONCURRENCY: text})
    message = str(info.value)
    assert ENV_READ_CONCURRENCY in message and "--read-concurrency" in message
    assert "1 to 1000" in message


@pytest.mark.parametrize("value", [0, 1001, True, 2.0, "8"])
def test_bad_read_concurrency_argument_is_a_config_error(value: object) -> None:
    with pytest.raises(ConfigError, match="read concurrency"):
        resolve_read_concurrency(value, env={})  # type: ignore[arg-type]
