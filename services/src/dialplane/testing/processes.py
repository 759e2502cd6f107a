"""A Dialplane service as a real process (``python -m <module>``), for the tests and benchmarks that look at
services from outside: started with the environment given, its output in a log file, ready once a path
answers 200, stopped with SIGTERM (SIGKILL if it does not exit in time).

    async with service_process("dialer", "dialer", env, log_dir / "dialer.log", port) as dialer:
        dialer.url  # http://127.0.0.1:<port>
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
LOG_TAIL_LINES = 30


class ServiceStartError(RuntimeError):
    """A service process exited or did not answer in time; the message holds its log's tail."""


@dataclass
class ServiceProcess:
    name: str
    module: str
    port: int
    log: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was not started"
        return self.process.pid

    def log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-LOG_TAIL_LINES:])


async def start(running: ServiceProcess, env: Mapping[str, str], cwd: Path | None = None) -> None:
    with running.log.open("ab") as log:  # a restarted service writes on after its earlier run
        running.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            running.module,
            env=dict(env),
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )


async def wait_answering(
    running: ServiceProcess, path: str = "/metrics", within: float = START_TIMEOUT_SECONDS
) -> None:
    """Until ``GET path`` answers 200; :class:`ServiceStartError` if the process exits or time runs out."""
    try:
        async with asyncio.timeout(within), httpx.AsyncClient(timeout=2) as client:
            while True:
                if running.process is not None and running.process.returncode is not None:
                    raise ServiceStartError(_failure(running, f"exited with {running.process.returncode}"))
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{running.url}{path}")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise ServiceStartError(_failure(running, f"{path} did not answer 200 within {within:g} s")) from None


def _failure(running: ServiceProcess, what: str) -> str:
    return f"{running.name} ({running.url}) {what}; last lines of {running.log}:\n{running.log_tail()}"


async def stop(running: ServiceProcess, within: float = STOP_TIMEOUT_SECONDS) -> None:
    process = running.process
    if process is None or process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), within)
    except TimeoutError:
        process.kill()
        await process.wait()


@asynccontextmanager
async def service_process(
    name: str,
    module: str,
    env: Mapping[str, str],
    log: Path,
    port: int,
    *,
    ready_path: str = "/ready",
    within: float = START_TIMEOUT_SECONDS,
    cwd: Path | None = None,
) -> AsyncIterator[ServiceProcess]:
    """One service running until the block ends; ``env`` must set its port to ``port``."""
    running = ServiceProcess(name, module, port, log)
    try:
        await start(running, env, cwd)
        await wait_answering(running, ready_path, within)
        yield running
    finally:
        await stop(running)
