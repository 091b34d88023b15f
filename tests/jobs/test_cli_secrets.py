"""No key the process holds ever reaches stdout, stderr, the state dir or a report.

Distinctive keys for three projects and a Redis password; every built-in job (and a revert,
an export, a verify) runs through the real CLI against the emulator; then 401, 500 and 429
(from the emulator, and from a server that quotes the key and its base64 in every error), and
a job file that crashes at import, in its constructor, while preparing and while planning, or
quotes the key in its descriptions, bodies, skip reasons and undo bodies. Then every output and
every byte of the state dir (SQLite journals read as bytes) and of the export is searched for
each key, its base64 (standard and URL-safe, padded or not), percent-encoding and hex: 0 hits.
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp import web
from clihelp import bulkops, cli_env
from job_fakes import gate, segment
from jobcli import experiment, run_id, seed
from loopback import serve_in_thread

from bulkops.testing import EmulatorConfig, RunningEmulator

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KEY = "console-SECRETxyzSourceKey0123456789abcdefghij"
TARGET_KEY = "console-SECRETxyzTargetKey9876543210zyxwvuts"
PROD_KEY = "console-SECRETxyzProdKey5555544444333332222211"
WRONG_KEY = "console-SECRETxyzWrongKey1234512345abcdeabcde"
REDIS_PASSWORD = "SECRETxyzRedis/pass+word=0123456789"
KEYS = (KEY, TARGET_KEY, PROD_KEY, WRONG_KEY, REDIS_PASSWORD)
LEAKY = str(Path(__file__).with_name("leaky_job.py"))


def forms(secret: str) -> set[str]:
    """What a leak of ``secret`` would look like."""
    raw = secret.encode()
    std = base64.b64encode(raw).decode()
    safe = base64.urlsafe_b64encode(raw).decode()
    return {secret, std, std.rstrip("="), safe, safe.rstrip("="), quote(secret, safe=""), raw.hex()}


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(
        projects={"default": KEY, "target": TARGET_KEY, "prod": PROD_KEY},
        mutation_limits=((1_000_000, 1.0),),
    )


class Outputs:
    """Every command run, with its stdout and stderr, to search them all at the end."""

    def __init__(self, emulator: RunningEmulator, state: Path) -> None:
        self.env = cli_env(
            emulator,
            state,
            STATSIG_TARGET_CONSOLE_API_KEY=TARGET_KEY,
            STATSIG_STAGING_CONSOLE_API_KEY=TARGET_KEY,
            STATSIG_PROD_CONSOLE_API_KEY=PROD_KEY,
        )
        self.runs: list[tuple[str, subprocess.CompletedProcess[str]]] = []

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        done = bulkops(*args, env={**self.env, **env}, timeout=120)
        self.runs.append((" ".join(args), done))
        return done


def seed_everything(emulator: RunningEmulator) -> None:
    seed(
        emulator,
        segments=[segment("beta_users")],
        gates=[
            gate("g1", tags=["legacy"]),
            gate("g2", tags=["legacy"]),
            gate("skip_me"),
            gate("beta_gate"),
        ],
        layers=[{"id": "main_layer", "name": "main_layer", "idType": "userID", "description": ""}],
        experiments=[
            experiment("checkout_a", targetingGateID="beta_gate", layerID="main_layer"),
            experiment("search_c"),
        ],
        holdouts=[{"id": "h1", "name": "h1", "gateIDs": []}],
    )


@contextmanager
def quoting_server(status: int) -> Iterator[str]:
    """A loopback server answering every request ``status``, quoting the key it was sent."""

    async def reply(request: web.Request) -> web.Response:
        key = request.headers.get("STATSIG-API-KEY", "")
        quoted = f"{key} / {base64.b64encode(key.encode()).decode()} / {quote(key)}"
        headers = {"Retry-After": "0.01"} if status == 429 else {}
        return web.json_response(
            {"status": status, "message": f"key {quoted} refused"}, status=status, headers=headers
        )

    with serve_in_thread(reply, name="quoting-server") as port:
        yield f"http://127.0.0.1:{port}/console/v1"


def test_no_key_reaches_any_output_nor_the_state_dir(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    seed_everything(emulator)
    seed(emulator, "target")
    seed(emulator, "prod")
    run = Outputs(emulator, state)
    ids: list[str] = []

    def job(*args: str, codes: tuple[int, ...] = (0,), **env: str) -> None:
        done = run("run", *args, **env)
        assert done.returncode in codes, (args, done.returncode, done.stderr)
        if "run id:" in done.stderr:
            ids.append(run_id(done.stderr))

    # every built-in job, a revert, an export and a verify
    job("attach-holdout", "--holdout", "h1", "--yes")
    attached = ids[-1]
    job("overrides", "--kind", "gates", "--add-passing", "a,b", "--yes")
    job("patch", "--kind", "gates", "--where", "tag=legacy", "--set", "description=x", "--yes")
    job("archive-stale-gates", "--older-than", "90d", "--exclude-tag", "legacy", "--yes")
    job("copy-experiments", "--to", "staging", "--yes")
    job("migrate", "--to", "prod", "--yes", codes=(0, 1))  # some writes refused: messages too
    assert run("verify", ids[-1]).returncode in (0, 1)
    assert run("revert", attached, "--yes").returncode == 0
    assert run("export", "--out", str(tmp_path / "export.json")).returncode == 0

    # a job file that quotes the key in its plan, its bodies and its undo; and crashes
    job(LEAKY, "--dry-run")
    job(LEAKY, "--yes")
    leaked = ids[-1]
    assert run("revert", leaked, "--yes").returncode == 0
    for crash in ("prepare", "plan"):
        job(LEAKY, "--crash", crash, "--yes", codes=(2,))
        job(LEAKY, "--crash", crash, "--yes", "--log-format", "json", codes=(2,))
        job(LEAKY, "--crash", crash, "--yes", codes=(2,), BULKOPS_DEBUG="1")
    job(LEAKY, "--yes", codes=(2,), LEAKY_AT_IMPORT="1")
    run("run", LEAKY, "--crash", "init", "--yes")  # an uncaught error: its traceback

    # 401 (an unknown key, given both ways), 500 and 429 from the emulator
    def patch(text: str, *args: str, codes: tuple[int, ...] = (0,), **env: str) -> None:
        job("patch", "--kind", "gates", "--set", f"description={text}", "--yes", *args,
            codes=codes, **env)  # fmt: skip

    patch("y", codes=(2, 4), STATSIG_CONSOLE_API_KEY=WRONG_KEY)
    patch("y", "--api-key", WRONG_KEY, codes=(2, 4))
    emulator.fail_next(5, "PATCH", "/gates/g1", status=500)
    patch("z", "--where", "name=g1", codes=(0, 1))
    emulator.rate_limit_next(3, "PATCH", retry_after=0.05)
    patch("w", "--where", "tag=legacy")
    # the same statuses from a server that quotes the key (and its base64) back
    for status in (401, 500, 429):
        with quoting_server(status) as url:
            patch("v", codes=(1, 2, 3, 4), STATSIG_CONSOLE_API_URL=url)
    # a shared budget whose Redis (with a password) cannot be reached
    url = f"redis://:{quote(REDIS_PASSWORD, safe='')}@127.0.0.1:1/0"
    patch("u", "--budget-url", url, codes=(2,))
    patch("u", codes=(2,), BULKOPS_BUDGET_URL=url)

    # reports and statuses of every run
    assert len(set(ids)) >= 8, ids
    for rid in dict.fromkeys(ids):
        for fmt in ("jsonl", "csv"):
            assert run("report", rid, "--format", fmt).returncode == 0
        assert run("status", rid, "--json").returncode == 0
    assert run("status").returncode == 0

    hits = [
        f"{where}: {form!r}"
        for where, text in _everything(run, state, tmp_path / "export.json")
        for secret in KEYS
        for form in forms(secret)
        if form.encode() in text
    ]
    assert hits == []
    assert any(b"<redacted>" in text for _, text in _everything(run, state, tmp_path))


def _everything(run: Outputs, state: Path, *files: Path) -> Iterator[tuple[str, bytes]]:
    for command, done in run.runs:
        yield f"stdout of {command}", done.stdout.encode()
        yield f"stderr of {command}", done.stderr.encode()
    for path in [*state.rglob("*"), *files]:
        if path.is_file():
            yield str(path), path.read_bytes()
