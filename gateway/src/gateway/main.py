"""The gateway service application."""

from __future__ import annotations

from fastapi import FastAPI

from dialplane.app import create_service_app
from gateway.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(settings, title="Dialplane Gateway")
