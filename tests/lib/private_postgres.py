"""A PostgreSQL server of the test's own, for fault tests that stop and start it (the shared server on
5432 must never be touched): ``initdb`` in a temporary directory, trust authentication, a free port on
127.0.0.1 and its unix socket in that directory. Run as the ``postgres`` user when the tests run as root
(PostgreSQL refuses to run as root).

::

    async with private_postgres() as server:
        migrate.upgrade(server.url)
        await server.stop("immediate")
        await server.start()  # the same data, the same port
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

from dialplane.testing.http import free_port

POSTGRES_INSTALLS = Path("/usr/lib/postgresql")  # Debian's: /usr/lib/postgresql/<major>/bin
SERVER_USER = "postgres"
StopMode = Literal["smart", "fast", "immediate"]


def server_binaries() -> Path | None:
    """The ``bin`` directory of the newest PostgreSQL installed the Debian way, if any."""
    installs = [p / "bin" for p in POSTGRES_INSTALLS.glob("*") if (p / "bin" / "pg_ctl").exists()]
    if not installs:
        return None
    return max(installs, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


class PostgresCommandError(RuntimeError):
    """``initdb`` or ``pg_ctl`` failed; the message holds its output and the server's log."""


class PrivatePostgres:
    """One PostgreSQL cluster in ``root`` listening on ``port`` of 127.0.0.1."""

    def __init__(self, binaries: Path, root: Path, port: int) -> None:
        self.binaries = binaries
        self.root = root
        self.port = port
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "server.log"

    @property
    def url(self) -> str:
        """The URL of the ``postgres`` database (trust authentication: no password)."""
        return f"postgresql+asyncpg://{SERVER_USER}@127.0.0.1:{self.port}/postgres"

    async def init(self) -> None:
        self.sockets.mkdir()
        _give_to_server_user(self.root, self.sockets)
        await self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", SERVER_USER, "-E", "UTF8", "--no-locale"
        )

    async def start(self) -> None:
        # fsync off: a killed server loses nothing the kernel has (only a machine crash would); commits
        # still wait for their WAL to be written, so an acknowledged commit survives ``stop("immediate")``.
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        await self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30",
                        "-o", options)  # fmt: skip

    async def stop(self, mode: StopMode = "fast") -> None:
        """Stop the server: ``fast`` ends sessions cleanly, ``immediate`` kills it like a crash."""
        await self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "30")

    async def _run(self, program: str, *arguments: str) -> None:
        command = [str(self.binaries / program), *arguments]
        process = await asyncio.create_subprocess_exec(
            *_as_server_user(command),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        async with asyncio.timeout(60):
            output, _ = await process.communicate()
        if process.returncode != 0:
            log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
            raise PostgresCommandError(
                f"{' '.join(command)} exited {process.returncode}:\n{output.decode(errors='replace')}\n{log}"
            )


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _as_server_user(command: Sequence[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *command] if _running_as_root() else list(command)


def _give_to_server_user(*paths: Path) -> None:
    if not _running_as_root():
        return
    account = pwd.getpwnam(SERVER_USER)
    for path in paths:
        os.chown(path, account.pw_uid, account.pw_gid)


@asynccontextmanager
async def private_postgres(binaries: Path | None = None) -> AsyncIterator[PrivatePostgres]:
    """A started server of its own for the block; stopped and deleted afterwards.

    Its directory is made with :func:`tempfile.mkdtemp` rather than in pytest's ``tmp_path``: pytest's
    directories are private to the user running the tests, so the ``postgres`` user could not reach them.
    """
    found = binaries or server_binaries()
    if found is None:
        raise FileNotFoundError(f"no PostgreSQL server under {POSTGRES_INSTALLS} (apt install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="dialplane-pg-"))
    server = PrivatePostgres(found, root, free_port())
    try:
        await server.init()
        await server.start()
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            await server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
