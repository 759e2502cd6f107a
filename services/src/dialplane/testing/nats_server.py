"""A private NATS server with JetStream for tests: a free port on 127.0.0.1, its own store directory,
stopped at the end. Never the shared server on 4222."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

NATS_SERVER = "/usr/sbin/nats-server"


def nats_server_binary() -> str | None:
    """The ``nats-server`` executable, or ``None`` if this machine has none."""
    if Path(NATS_SERVER).exists():
        return NATS_SERVER
    return shutil.which("nats-server")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nats-server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nats-server did not listen on {port} within {within} s")


@contextlib.contextmanager
def private_nats_server(binary: str, within: float = 15.0) -> Iterator[str]:
    """Run ``nats-server -js`` on a free port for the block; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="dialplane-nats-") as store:
        port = _free_port()
        command = [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store]
        process = subprocess.Popen(  # noqa: S603 (a fixed binary and arguments)
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _wait_for_port(port, process, within)
            yield f"nats://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    """A private ``nats-server -js`` on a free port for this test run (never the shared one on 4222)."""
    binary = nats_server_binary()
    if binary is None:
        pytest.fail("nats-server is not installed (`make setup` installs it): JetStream cannot be tested")
    with private_nats_server(binary) as url:
        yield url
