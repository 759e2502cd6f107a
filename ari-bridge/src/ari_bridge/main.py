"""The ari-bridge service application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from ari_bridge.settings import Settings
from dialplane.app import create_service_app


class AriUnavailableError(Exception):
    """Asterisk's ARI did not answer as expected."""


async def ari_ready(app: FastAPI) -> None:
    """ARI answers ``GET /asterisk/info`` with our credentials."""
    client: httpx.AsyncClient = app.state.ari_http
    try:
        response = await client.get("/asterisk/info")
    except httpx.HTTPError as exc:
        raise AriUnavailableError(f"ARI unreachable at {client.base_url}: {exc!r}") from exc
    if response.status_code == 401:
        raise AriUnavailableError("ARI refused the credentials (401)")
    if response.status_code != 200:
        raise AriUnavailableError(f"ARI answered {response.status_code}")


def create_app(
    settings: Settings | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def ari_client(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            base_url=settings.ari_url.rstrip("/"),
            auth=(settings.ari_username, settings.ari_password.get_secret_value()),
            timeout=settings.ari_timeout_seconds,
            transport=transport,
        ) as client:
            app.state.ari_http = client
            yield

    return create_service_app(
        settings,
        title="Dialplane ARI bridge",
        extra_lifespan=ari_client,
        readiness_checks={"asterisk": ari_ready},
    )
