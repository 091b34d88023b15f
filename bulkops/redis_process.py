"""A real `redis-server` on a free loopback port, for tests and benchmarks of the shared budget.

    with start_redis_server() as redis:       # RedisServerMissing if it is not installed
        redis.url                             # redis://127.0.0.1:PORT/0
        redis.kill()                          # SIGKILL, as a crash looks

The server keeps nothing on disk (`--save '' --appendonly no`, in a temporary directory) and
is stopped when the block ends. It is ready when it said so on its log and answered PING.
`bulkops.testing` wraps it as the `redis_server` fixture.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["RedisServerMissing", "RunningRedis", "start_redis_server"]

INSTALL_HINT = (
    "redis-server is not installed: run .ci/run (it installs it), or `apt-get install redis-server`"
)


class RedisServerMissing(RuntimeError):
    """`redis-server` is not on PATH; the message says how to install it."""


class RunningRedis:
    """A `redis-server` child process: `url`, `port`, `kill()`, `stop()`."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"

    def kill(self) -> None:
        """SIGKILL the server and wait for it to be gone (a crash, or a lost host)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM), or kill it after 10 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __repr__(self) -> str:
        return f"<RunningRedis {self.url} pid={self.process.pid}>"


@contextmanager
def start_redis_server(
    start_timeout: float = 20.0, *, port: int | None = None
) -> Iterator[RunningRedis]:
    """Run `redis-server` on a free port of 127.0.0.1 (or ``port``: a restart of a server
    that was there) until the block ends."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisServerMissing(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="bulkops-redis-") as workdir:
        for attempt in range(3):  # the free port can be taken between our probe and the bind
            chosen = port or _free_port()
            process = subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(chosen),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    workdir,
                    "--daemonize",
                    "no",
                    "--logfile",
                    "",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            ready, log = _watch_log(process, start_timeout)
            if ready and _answers_ping(chosen):
                break
            _end(process)
            if attempt == 2:
                raise RuntimeError(
                    f"redis-server did not start on 127.0.0.1:{chosen}:\n" + "".join(log[-20:])
                )
        running = RunningRedis(process, chosen)
        try:
            yield running
        finally:
            running.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _watch_log(process: subprocess.Popen[bytes], timeout: float) -> tuple[bool, list[str]]:
    """Read the server's log until it says it is ready (or exits); keep draining after."""
    ready = threading.Event()
    log: list[str] = []

    def drain() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace")
            if len(log) < 200:
                log.append(line)
            if "Ready to accept connections" in line:
                ready.set()
        ready.set()  # the server exited: stop waiting

    threading.Thread(target=drain, name="redis-server-log", daemon=True).start()
    ready.wait(timeout)
    return process.poll() is None and any("Ready to accept" in line for line in log), log


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(10)
