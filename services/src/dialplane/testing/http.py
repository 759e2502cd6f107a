"""Serving a service application in-process for tests: its lifespan runs, requests go through ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

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
