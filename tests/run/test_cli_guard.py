"""The last resort at the CLI door (``bulkops.cli.guard``): a bug is one line and exit 5.

An exception no command handled never shows a traceback: stderr gets ``bulkops: internal
error: Type: message (...details in FILE)``, the traceback goes to FILE (0600, keys redacted),
and the exit code is ``ExitCode.INTERNAL``. ``BULKOPS_DEBUG=1`` prints it on stderr too.
"""

from __future__ import annotations

import argparse
import json
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from clifuzz import invoke
from clihelp import REPO, bulkops

from bulkops import cli
from bulkops.errors import ConfigError, RunInterrupted
from bulkops.run import ExitCode

KEY = "console-GuardTestKey0123456789"
_DETAILS = re.compile(r"details in (\S+\.txt)\)")


def with_status_handler(
    monkeypatch: pytest.MonkeyPatch, handler: Callable[..., int], command: str = "status"
) -> None:
    """Make ``bulkops COMMAND`` call ``handler``."""
    build = cli.build_parser

    def patched() -> argparse.ArgumentParser:
        parser = build()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        sub.choices[command].set_defaults(handler=handler)
        return parser

    monkeypatch.setattr(cli, "build_parser", patched)


def crash(args: argparse.Namespace) -> int:
    raise RuntimeError(f"boom with {KEY}\nand a second line")


def test_a_bug_is_one_line_exit_5_and_a_private_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATSIG_CONSOLE_API_KEY", KEY)
    monkeypatch.delenv("BULKOPS_DEBUG", raising=False)
    with_status_handler(monkeypatch, crash)
    ended = invoke("status", "--state-dir", "x")
    assert ended.code == ExitCode.INTERNAL == 5
    lines = ended.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bulkops: internal error: RuntimeError: boom")
    assert "Traceback" not in ended.stderr and KEY not in ended.stderr
    details = Path(_DETAILS.search(lines[0]).group(1))  # type: ignore[union-attr]
    text = details.read_text()
    assert "Traceback" in text and "RuntimeError" in text and KEY not in text
    assert stat.S_IMODE(details.stat().st_mode) == 0o600
    details.unlink()


def test_a_key_given_as_a_flag_is_redacted_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATSIG_CONSOLE_API_KEY", raising=False)

    def leak(args: argparse.Namespace) -> int:
        raise ValueError("the key console-FlagKey987654 leaked")

    with_status_handler(monkeypatch, leak, "resume")
    ended = invoke("resume", "--api-key=console-FlagKey987654", "--log-format", "json")
    assert ended.code == 5 and "console-FlagKey987654" not in ended.stderr
    event = json.loads(ended.stderr)  # one JSON error event with --log-format json
    assert event["event"] == "error" and event["exit_code"] == 5
    details = Path(_DETAILS.search(ended.stderr).group(1))  # type: ignore[union-attr]
    assert "console-FlagKey987654" not in details.read_text()
    details.unlink()


def test_debug_mode_also_prints_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BULKOPS_DEBUG", "1")
    with_status_handler(monkeypatch, crash)
    ended = invoke("status")
    assert ended.code == 5 and "Traceback" in ended.stderr
    assert ended.stderr.rstrip().splitlines()[-1].startswith("bulkops: internal error:")
    Path(_DETAILS.search(ended.stderr).group(1)).unlink()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("error", "code"),
    [(ConfigError("bad setting"), 2), (RunInterrupted("stop"), 3)],
)
def test_an_escaped_bulkops_error_gets_its_kinds_code(
    monkeypatch: pytest.MonkeyPatch, error: Exception, code: int
) -> None:
    def escape(args: argparse.Namespace) -> int:
        raise ExceptionGroup("wrapped", [error])

    with_status_handler(monkeypatch, escape)
    ended = invoke("status")
    assert ended.code == code and ended.stderr == f"bulkops: {error}\n"


def test_keyboard_interrupt_is_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    with_status_handler(monkeypatch, interrupted)
    with pytest.raises(KeyboardInterrupt):
        cli.main(["status"])


def test_real_processes_end_in_one_line_whatever_argv_holds(tmp_path: Path) -> None:
    """Subprocesses: bytes that are not UTF-8 in argv, a 100k value, control characters."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "BULKOPS_STATE_DIR": str(tmp_path)}
    env["STATSIG_CONSOLE_API_URL"] = "http://127.0.0.1:9/console/v1"
    env["STATSIG_CONSOLE_API_KEY"] = KEY
    cases = [
        ("status", "bad\udcffid"),  # surrogateescape of the byte 0xff, as argv gives it
        ("run", "patch", "--kind", "gates", "--where", "x" * 100_000, "--dry-run"),
        ("run", "patch", "--kind", "gates", "--set", "a=b", "--api-key", "k\x1bey", "--dry-run"),
        ("report", "\n", "--format", "csv"),
    ]
    for argv in cases:
        done = bulkops(*argv, env=env, timeout=60)
        assert "Traceback" not in done.stderr, done.stderr[-2000:]
        assert done.returncode in (2, 4), done.stderr[-2000:]
        assert done.stderr.rstrip("\n").splitlines()[-1].startswith("bulkops"), done.stderr[-500:]
