"""Serving a service application in-process for tests: its lifespan runs, requests go through ASGI."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp

from dialplane.internal_auth import PRINCIPAL_HEADER, Principal, sign_principal
from dialplane.settings import ServiceSettings
from dialplane.testing.database import TEST_INTERNAL_TOKEN

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client for ``app`` with its lifespan started; unexpected errors come back as 500 responses."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def service_settings(settings_class: type[SettingsT], database_url: str, **overrides: Any) -> SettingsT:
    """A service's settings for tests: the test database, ``environment=test``, a non-placeholder token."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "environment": "test",
        "internal_token": TEST_INTERNAL_TOKEN,
        **overrides,
    }
    return settings_class(**values)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free port of 127.0.0.1 inside this event loop (lifespan included) and
    yield its base URL; for what an in-process ASGI client cannot do (streamed responses, other services or
    receivers called over HTTP). Requests still open at the end are cancelled after 5 s."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="auto", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if task.done():
                    task.result()  # raises what stopped it
                    raise RuntimeError("the server stopped before it started")
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True  # not force_exit: that would skip the app's lifespan shutdown
        await asyncio.wait_for(task, 30)
        sock.close()


class SignedPrincipal(httpx.Auth):
    """Signs each request's principal header afresh, as the gateway does (tokens live a minute), with the
    tests' internal token."""

    def __init__(self, who: Principal) -> None:
        self.who = who

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[PRINCIPAL_HEADER] = sign_principal(self.who, TEST_INTERNAL_TOKEN)
        yield request
