"""Helpers of the fuzz tests: hostile values, ``bulkops`` run in-process, and the verdict.

``invoke(argv)`` runs ``bulkops.cli.main`` in this process with stdout and stderr captured
(fast: hundreds of cases a second against an in-process emulator). ``check_ended_cleanly``
is the contract every case must meet whatever it was given: no traceback, an exit code from
the defined set (never 5, the internal error of a bug), and when it failed, a last line on
stderr that says so in one line (``bulkops...: ...``, an argparse usage error, or a JSON
``error`` event).
"""

from __future__ import annotations

import contextlib
import io
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from bulkops.cli import main

#: Exit codes a command may end with; 5 (INTERNAL) is a bug, never expected.
DEFINED_EXITS = frozenset({0, 1, 2, 3, 4})
HUGE = 100_000
#: A case that takes longer than this (seconds) waits on something it should not.
SLOW_CASE = 5.0
_INTERNAL_FILE = re.compile(r"details in (\S+?\.txt)")
_MESSAGE = re.compile(r"^(bulkops\b[^\n]*?: |usage: |\{)")


@dataclass(frozen=True)
class Ended:
    """How one in-process ``bulkops`` call ended."""

    argv: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float = 0.0

    def describe(self) -> str:
        shown = [a if len(a) <= 80 else f"{a[:40]}…({len(a)} chars)" for a in self.argv]
        err = self.stderr if len(self.stderr) <= 4000 else self.stderr[-4000:]
        text = f"bulkops {' '.join(shown)} -> exit {self.code}\nstderr:\n{err}"
        match = _INTERNAL_FILE.search(self.stderr)
        if match and Path(match.group(1)).is_file():
            text += "\nwhere:\n" + _innermost(Path(match.group(1)).read_text())
        return text


def _innermost(details: str) -> str:
    """The last frames of a traceback in bulkops and its last line: where to fix it."""
    lines = details.rstrip("\n").split("\n")
    ours = [
        line for line in lines if line.lstrip().startswith("File") and "site-packages" not in line
    ]
    return "\n".join([*ours[-4:], lines[-1][:500]])


def invoke(*argv: str) -> Ended:
    """``bulkops ARGV`` in this process; its exit code and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    seconds = time.monotonic() - start
    return Ended(tuple(argv), int(code), out.getvalue(), err.getvalue(), seconds)


def problem(ended: Ended) -> str | None:
    """What is wrong with how ``ended`` ended, or None: no traceback, a defined exit code, and
    a failure said in one last line on stderr."""
    if "Traceback" in ended.stderr or "Traceback" in ended.stdout:
        return "a traceback: " + ended.describe()
    if ended.code not in DEFINED_EXITS:
        return "an undefined exit code: " + ended.describe()
    if ended.code in (0, 1, 3):  # counts and hints may follow the message of these
        return None
    last = ended.stderr.rstrip("\n").split("\n")[-1]
    if not _MESSAGE.match(last):
        return "no one-line message last: " + ended.describe()
    if last.startswith("{"):
        event = orjson.loads(last)
        if event.get("event") != "error" or not event.get("message"):
            return "no JSON error event last: " + ended.describe()
    return None


def check_ended_cleanly(ended: Ended) -> None:
    """Assert ``problem(ended)`` is None."""
    found = problem(ended)
    assert found is None, found


class Verdicts:
    """Collects the problems of many cases, so that one failing test lists all of them."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.cases = 0

    def judge(self, ended: Ended) -> Ended:
        self.cases += 1
        found = problem(ended)
        if found is None and ended.seconds > SLOW_CASE:
            found = f"too slow ({ended.seconds:.1f} s): " + ended.describe()
        if found is not None:
            self.problems.append(found)
        return ended

    def check(self) -> None:
        shown = "\n\n".join(p[:3000] for p in self.problems[:10])
        assert not self.problems, f"{len(self.problems)} of {self.cases} cases:\n{shown}"


# -- values ---------------------------------------------------------------------------------

#: Strings nobody should pass; none of them may name a place bulkops could write to
#: (the tests run as root in a temp cwd: relative paths land there, absolute ones cannot be made).
GARBAGE: tuple[str, ...] = (
    "",
    " ",
    "\t\n",
    "-",
    "--",
    "=",
    "==",
    "!=",
    "~",
    "a=b=c",
    "name~",
    "name~[",
    "id!=",
    "=x",
    "@",
    "@/dev/null",
    "@/proc/bulkops-fuzz/nope",
    "@.",
    "/dev/null",
    "/dev/null/x",
    "/proc/bulkops-fuzz/dir",
    ".",
    "..",
    "../../etc/passwd",
    "%s%n%x",
    "{}",
    "[]",
    "null",
    '{"a":',
    "[1, 2",
    "true",
    "-1",
    "0",
    "1",
    "-99999999999999999999",
    "99999999999999999999",
    "1e309",
    "-1e309",
    "nan",
    "inf",
    "0x10",
    "1_000",
    "1/0s",
    "0/1s",
    "-5/1s",
    "5/-1s",
    "5/1y",
    "1000000000000000000000/1s",
    "redis://",
    "redis://:@/",
    "redis://[::1",
    "http://",
    "http://[::1",
    "file:///etc/passwd",
    "ftp://x",
    "snapshot:/proc/bulkops-fuzz/nope",
    "x" * 300,
)

UNICODE: tuple[str, ...] = (
    "ünïcødé",
    "名前=値",
    "name~☃*",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\u202eevil\u202c",
    "zero\u200bwidth",
    "e\u0301",
    "\ufeffbom",
    "\udcff",  # a lone surrogate, as os.fsdecode gives for undecodable argv bytes
    "emoji=🙂",
    "tab\there",
    "line\nbreak",
    "\x1b[31mred\x1b[0m",
)


def huge(rng: random.Random) -> str:
    """A 100k-character value: one letter, digits, a ``FIELD=VALUE``, or mixed unicode."""
    kind = rng.randrange(4)
    if kind == 0:
        return "x" * HUGE
    if kind == 1:
        return "9" * HUGE
    if kind == 2:
        return "name=" + "é" * HUGE
    return "".join(rng.choice("aZ9=~!,@/.-☃名") for _ in range(HUGE))


def value(rng: random.Random) -> str:
    """One hostile value, drawn from ``rng``."""
    pick = rng.random()
    if pick < 0.55:
        return rng.choice(GARBAGE)
    if pick < 0.85:
        return rng.choice(UNICODE)
    if pick < 0.92:
        return str(rng.choice((-1, 1)) * rng.randrange(10 ** rng.randrange(1, 40)))
    return huge(rng)
