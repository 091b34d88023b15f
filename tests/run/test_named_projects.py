"""Named projects: the projects file, and how a connection's key and URL are found."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkops.errors import ConfigError
from bulkops.run.connections import resolve_connections
from bulkops.run.projects import ProjectsFile

EMPTY: dict[str, str] = {}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bulkops.toml"
    path.write_text(text)
    return path


def test_a_named_project_takes_its_key_and_url_from_its_own_variables() -> None:
    env = {
        "STATSIG_PROD_EU_CONSOLE_API_KEY": "console-eu",
        "STATSIG_PROD_EU_CONSOLE_API_URL": "http://eu.example/console/v1",
    }
    [conn] = resolve_connections(["prod-eu"], named={"prod-eu": "prod-eu"}, env=env).values()
    assert (conn.api_key, conn.base_url, conn.name) == (
        "console-eu",
        "http://eu.example/console/v1",
        "prod-eu",
    )
    assert "STATSIG_PROD_EU_CONSOLE_API_KEY" in conn.key_source


def test_the_projects_file_names_the_variable_that_holds_the_key(tmp_path: Path) -> None:
    file = ProjectsFile.load(
        write(
            tmp_path,
            '[projects.prod]\nkey_env = "PROD_KEY"\nbase_url = "http://prod.example/console/v1"\n'
            'mutation_limits = ["50/10s", "400/15m"]\n',
        )
    )
    env = {"PROD_KEY": "console-prod", "STATSIG_PROD_CONSOLE_API_KEY": "console-other"}
    [conn] = resolve_connections(
        ["prod"], named={"prod": "prod"}, projects_file=file, env=env
    ).values()
    assert conn.api_key == "console-prod" and conn.base_url == "http://prod.example/console/v1"
    assert conn.limits == ((50, 10.0), (400, 900.0))


def test_a_key_variable_the_file_names_but_is_unset_says_so(tmp_path: Path) -> None:
    file = ProjectsFile.load(write(tmp_path, '[projects.prod]\nkey_env = "PROD_KEY"\n'))
    with pytest.raises(ConfigError, match=r"PROD_KEY \(key_env of \[projects.prod\]"):
        resolve_connections(["prod"], named={"prod": "prod"}, projects_file=file, env=EMPTY)


def test_to_name_falls_back_to_the_target_variables() -> None:
    env = {"STATSIG_TARGET_CONSOLE_API_KEY": "console-tgt"}
    [conn] = resolve_connections(["target"], named={"target": "staging"}, env=env).values()
    assert conn.api_key == "console-tgt"
    with pytest.raises(ConfigError, match="STATSIG_STAGING_CONSOLE_API_KEY or "):
        resolve_connections(["target"], named={"target": "staging"}, env=EMPTY)


def test_an_explicit_key_wins_over_every_variable() -> None:
    env = {"STATSIG_STAGING_CONSOLE_API_KEY": "console-named"}
    [conn] = resolve_connections(
        ["target"], keys={"target": "console-flag"}, named={"target": "staging"}, env=env
    ).values()
    assert conn.api_key == "console-flag"


@pytest.mark.parametrize(
    "table",
    [
        'key = "console-abcdefgh"',
        'api_key = "anything"',
        'key_env = "console-abcdefghijk"',
        'base_url = "secret-abcdefgh"',
    ],
)
def test_a_projects_file_that_holds_a_key_is_refused(tmp_path: Path, table: str) -> None:
    with pytest.raises(ConfigError, match="must not hold keys") as caught:
        ProjectsFile.load(write(tmp_path, f"[projects.prod]\n{table}\n"))
    assert "abcdefgh" not in str(caught.value)


def test_a_projects_file_with_mistakes_says_what_and_where(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown field 'url'"):
        ProjectsFile.load(write(tmp_path, '[projects.prod]\nurl = "x"\n'))
    with pytest.raises(ConfigError, match="not valid TOML"):
        ProjectsFile.load(write(tmp_path, "[projects.prod\n"))
    with pytest.raises(ConfigError, match="mutation_limits"):
        ProjectsFile.load(write(tmp_path, '[projects.prod]\nmutation_limits = ["lots"]\n'))
    with pytest.raises(ConfigError, match="does not exist"):
        ProjectsFile.find(str(tmp_path / "missing.toml"))


def test_the_file_is_found_from_the_environment_then_the_working_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, '[projects.a]\nkey_env = "A_KEY"\n')
    assert "a" in ProjectsFile.find(env={"BULKOPS_PROJECTS_FILE": str(path)}).projects
    monkeypatch.chdir(tmp_path)
    assert "a" in ProjectsFile.find(env=EMPTY).projects
    monkeypatch.chdir(tmp_path.parent)
    assert ProjectsFile.find(env=EMPTY).projects == {}
